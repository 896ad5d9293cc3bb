/**
 * The variants every panel shows: their order (baseline first), one colour each, the
 * configured weights and the primary metric the comparisons are about. Pure: no DOM.
 */
import type { Report } from '../src/shared/report';
import { num } from '../src/shared/format';

/** Theme colour keys (--vscode-charts-*); the baseline is the neutral one, red means trouble. */
export type ColourKey = 'neutral' | 'blue' | 'orange' | 'purple' | 'green' | 'yellow';
const CANDIDATE_COLOURS: readonly ColourKey[] = ['blue', 'orange', 'purple', 'green', 'yellow'];

/** A/B variants, baseline first, in the report's (configuration) order otherwise. */
export function variantOrder(report: Report): string[] {
  const base = report.variants.filter((v) => v.role === 'baseline').map((v) => v.name);
  return [...base, ...report.variants.filter((v) => v.role !== 'baseline').map((v) => v.name)];
}

/**
 * One colour per variant, the same on every chart and in every table: the baseline neutral,
 * candidates and the shadow in configuration order.
 */
export function variantColours(report: Report): Map<string, ColourKey> {
  const colours = new Map<string, ColourKey>();
  let i = 0;
  for (const name of variantOrder(report)) {
    const v = report.variants.find((x) => x.name === name);
    colours.set(
      name,
      v?.role === 'baseline' ? 'neutral' : CANDIDATE_COLOURS[i++ % CANDIDATE_COLOURS.length]!,
    );
  }
  const shadow = report.shadow?.variant;
  if (shadow && !colours.has(shadow)) colours.set(shadow, CANDIDATE_COLOURS[i % CANDIDATE_COLOURS.length]!);
  return colours;
}

/** The configured weights of the A/B variants. */
export function currentWeights(report: Report): Record<string, number> {
  return Object.fromEntries(report.variants.map((v) => [v.name, num(v.weight) || 0]));
}

/** The primary metric the comparisons are about (undefined before any comparison). */
export function primaryMetric(report: Report): string | undefined {
  return report.comparisons[0]?.metric;
}

/** Feedback received for the metric, over all variants. */
export function feedbackCount(report: Report, metric: string | undefined): number {
  if (!metric) return 0;
  return report.variants.reduce((n, v) => n + (num(v.feedback?.[metric]?.count) || 0), 0);
}
