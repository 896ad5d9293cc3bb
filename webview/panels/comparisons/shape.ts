/**
 * The A/B table's rows (baseline first) and the shared scale of its lift bars, so the
 * intervals of all candidates compare at a glance. Pure: no DOM.
 */
import type { Comparison, Report } from '../../../src/shared/report';
import { num } from '../../../src/shared/format';
import { primaryMetric, variantColours, variantOrder, type ColourKey } from '../../variants';

export interface AbRow {
  variant: string;
  role: 'baseline' | 'candidate';
  model?: string;
  colour: ColourKey;
  requests: number;
  /** Of `requests`, those over gRPC (0 in older reports). */
  grpcRequests: number;
  /** Conversions (or the metric's sum for means). */
  conversions: number;
  feedback: number;
  rate: number;
  /** Candidates only. */
  comparison?: Comparison;
}

export interface AbTable {
  metric: string | undefined;
  proportion: boolean;
  rows: AbRow[];
  /** Half-width of the shared lift axis (relative lift), so the bars of all rows compare. */
  scale: number;
}

/** Whether the metric looks like a proportion (rates in [0, 1]) — conversion, click, … */
export function isProportion(report: Report): boolean {
  return report.comparisons.every(
    (c) => !(num(c.variantRate) > 1 || num(c.baselineRate) > 1 || num(c.variantRate) < 0),
  );
}

/** Rows of the A/B table (baseline first) and the shared scale of the lift bars. */
export function abTable(report: Report, models: Record<string, string> = {}): AbTable {
  const metric = primaryMetric(report);
  const colours = variantColours(report);
  const rows: AbRow[] = variantOrder(report).map((name) => {
    const v = report.variants.find((x) => x.name === name)!;
    const fb = metric ? v.feedback?.[metric] : undefined;
    const requests = num(v.requests);
    const rate = num(fb?.rate);
    const comparison = report.comparisons.find((c) => c.variant === name);
    return {
      variant: name,
      role: v.role,
      ...(models[name] !== undefined ? { model: models[name] } : {}),
      colour: colours.get(name) ?? 'neutral',
      requests,
      grpcRequests: num(v.grpcRequests) || 0,
      conversions: Number.isFinite(rate) && Number.isFinite(requests) ? Math.round(rate * requests) : NaN,
      feedback: num(fb?.count),
      // No requests, no rate: "—" for every arm alike (the comparison's 0 would read "0.0%").
      rate: !(requests > 0) ? NaN : Number.isFinite(rate) ? rate : num(comparison?.variantRate),
      ...(comparison ? { comparison } : {}),
    };
  });
  let scale = 0;
  for (const c of report.comparisons)
    for (const x of [c.relativeLift, ...(c.relativeCi95 ?? [])]) {
      const a = Math.abs(num(x));
      if (Number.isFinite(a) && a > scale) scale = a;
    }
  return {
    metric,
    proportion: isProportion(report),
    rows,
    scale: scale > 0 ? niceCeil(scale * 1.1) : 0.1,
  };
}

/** 0.37 → 0.4, 1.3 → 1.5: a round axis end. */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 0.1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10]) if (x <= m * p + 1e-12) return m * p;
  return 10 * p;
}

/** Position (0..1) of a lift on the lift bar's axis [-scale, +scale]. */
export function liftPosition(x: number, scale: number): number {
  if (!Number.isFinite(x) || !(scale > 0)) return 0.5;
  return Math.min(1, Math.max(0, 0.5 + x / (2 * scale)));
}

/** The interval says better (all above zero), worse (all below) or can't tell. */
export function liftTone(ci: readonly number[] | undefined): 'good' | 'bad' | 'neutral' {
  const lo = num(ci?.[0]);
  const hi = num(ci?.[1]);
  if (lo > 0) return 'good';
  if (hi < 0) return 'bad';
  return 'neutral';
}
