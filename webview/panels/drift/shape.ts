/**
 * Input drift as the dashboard shows it: each feature's p-value against the threshold, the
 * features × variants heatmap, and the p-value history it builds up one report at a time.
 * Pure: no DOM.
 */
import type { DriftSample } from '../../../src/shared/protocol';
import type { DriftReport, FeatureDrift, Report } from '../../../src/shared/report';
import { num, pValue } from '../../../src/shared/format';

export type DriftLevel = 'drift' | 'near' | 'ok' | 'none';

/**
 * A feature's p-value against the per-feature threshold: drifting (the analysis flagged it,
 * or p below the threshold), near (within 10× of it), ok, or none (no test result).
 */
export function driftLevel(
  f: Pick<FeatureDrift, 'pValue' | 'statistic' | 'drift'>,
  threshold: number,
): DriftLevel {
  if (f.drift) return 'drift';
  const p = num(f.pValue);
  const t = num(threshold);
  if (Number.isFinite(p)) {
    if (Number.isFinite(t) && p < t) return 'drift';
    if (Number.isFinite(t) && p < Math.min(1, t * 10)) return 'near';
    return 'ok';
  }
  return Number.isFinite(num(f.statistic)) ? 'ok' : 'none';
}

export interface HeatCell {
  feature: string;
  variant: string;
  level: DriftLevel;
  /** What the cell says: the p-value, or the distance for tests without one. */
  text: string;
  title: string;
}

export interface Heatmap {
  features: string[];
  variants: string[];
  /** rows[feature][variant]; undefined where the variant has no result for the feature. */
  rows: (HeatCell | undefined)[][];
  threshold: number;
}

/** Features × variants with the p-value coloured against the threshold. */
export function heatmap(drift: DriftReport, order: readonly string[] = []): Heatmap {
  const features: string[] = [];
  const variantSet = new Set<string>();
  for (const f of drift.features) {
    if (!features.includes(f.name)) features.push(f.name);
    variantSet.add(f.variant);
  }
  const variants = [
    ...order.filter((v) => variantSet.has(v)),
    ...[...variantSet].filter((v) => !order.includes(v)),
  ];
  const threshold = num(drift.threshold);
  const rows = features.map((name) =>
    variants.map((variant): HeatCell | undefined => {
      const f = drift.features.find((x) => x.name === name && x.variant === variant);
      if (!f) return undefined;
      const p = num(f.pValue);
      const level = driftLevel(f, threshold);
      const text = Number.isFinite(p) ? pValue(p) : `${f.test} ${formatStat(f.statistic)}`;
      const verdict =
        level === 'drift'
          ? 'drifting'
          : level === 'near'
            ? 'close to the threshold'
            : level === 'ok'
              ? 'no drift'
              : 'no result';
      const title = `${name} on ${variant}: ${f.test}${Number.isFinite(p) ? ` p = ${String(p)}` : ''}, statistic ${String(
        f.statistic,
      )}; threshold ${String(threshold)} (${drift.correction}) — ${verdict}`;
      return { feature: name, variant, level, text, title };
    }),
  );
  return { features, variants, rows, threshold };
}

function formatStat(x: unknown): string {
  const n = num(x);
  return Number.isFinite(n) ? String(Number(n.toPrecision(3))) : '—';
}

/** Appends the report's drift p-values (once per report time), keeping `perKey` per feature × variant. */
export function pushDrift(
  samples: readonly DriftSample[],
  report: Report,
  ts: number,
  perKey = 240,
): DriftSample[] {
  const features = report.drift?.features ?? [];
  if (features.length === 0) return samples as DriftSample[];
  if (samples.some((s) => s.ts === ts)) return samples as DriftSample[];
  const next = [...samples];
  for (const f of features) {
    const p = num(f.pValue);
    next.push({ ts, feature: f.name, variant: f.variant, pValue: Number.isFinite(p) ? p : null });
  }
  return capPerKey(next, perKey);
}

/** Merges drift histories (the host's and the webview's), without duplicates, oldest first. */
export function mergeDrift(
  a: readonly DriftSample[],
  b: readonly DriftSample[],
  perKey = 240,
): DriftSample[] {
  const seen = new Set<string>();
  const all: DriftSample[] = [];
  for (const s of [...a, ...b]) {
    const key = `${s.ts}\u0000${s.feature}\u0000${s.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(s);
  }
  all.sort((x, y) => x.ts - y.ts);
  return capPerKey(all, perKey);
}

function capPerKey(samples: DriftSample[], perKey: number): DriftSample[] {
  const counts = new Map<string, number>();
  const keep: boolean[] = new Array<boolean>(samples.length).fill(false);
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!;
    const key = `${s.feature}\u0000${s.variant}`;
    const n = counts.get(key) ?? 0;
    if (n < perKey) keep[i] = true;
    counts.set(key, n + 1);
  }
  return samples.filter((_, i) => keep[i]);
}

/** One feature's p-value history per variant: [ts, p][] each. */
export function featureHistory(
  samples: readonly DriftSample[],
  feature: string,
): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const s of samples) {
    if (s.feature !== feature || s.pValue === null || !Number.isFinite(s.pValue)) continue;
    const list = out.get(s.variant) ?? [];
    list.push([s.ts, s.pValue]);
    out.set(s.variant, list);
  }
  return out;
}
