/**
 * A made-up but self-consistent report for the dashboard's browser check: a long timeline
 * (one point per second), three weight changes, drift on one feature, a shadow. Deterministic
 * (seeded PRNG) so screenshots compare across runs. Names can be swapped for hostile ones.
 */
import type { DashboardHistory } from '../src/shared/protocol';
import type { Comparison, Report, TimelinePoint, WeightChange } from '../src/shared/report';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureOptions {
  points: number;
  /** End of the timeline, epoch ms. */
  now: number;
  baseline?: string;
  candidate?: string;
  shadow?: string;
  /** Feature names (the first drifts on the candidate). */
  features?: string[];
  srmMismatch?: boolean;
  seed?: number;
}

export function fixtureReport(o: FixtureOptions): Report {
  const rnd = mulberry32(o.seed ?? 7);
  const v1 = o.baseline ?? 'v1';
  const v2 = o.candidate ?? 'v2';
  const v3 = o.shadow ?? 'v3';
  const bucketMs = 1000;
  const start = o.now - o.points * bucketMs;
  const changes: WeightChange[] = [
    { ts: start, weights: { [v1]: 95, [v2]: 5 }, source: 'deploy', reason: 'experiment deployed' },
    {
      ts: start + Math.floor(o.points * 0.35) * bucketMs,
      weights: { [v1]: 75, [v2]: 25 },
      source: 'rollout',
      reason: `step 2: ${v2} passed 2,000 samples with every guardrail ok`,
    },
    {
      ts: start + Math.floor(o.points * 0.7) * bucketMs,
      weights: { [v1]: 50, [v2]: 50 },
      source: 'dashboard',
      reason: 'set from the dashboard',
    },
  ];
  const weightAt = (ts: number): Record<string, number> => changes.filter((c) => c.ts <= ts).pop()!.weights;
  const points: TimelinePoint[] = [];
  const totals = {
    [v1]: { requests: 0, errors: 0 },
    [v2]: { requests: 0, errors: 0 },
  };
  for (let i = 0; i < o.points; i++) {
    const ts = start + i * bucketMs;
    const w = weightAt(ts);
    const n = 2 + Math.floor(rnd() * 4);
    let share2 = (w[v2] ?? 0) / 100;
    if (o.srmMismatch) share2 *= 1.35;
    let r2 = 0;
    for (let k = 0; k < n; k++) if (rnd() < share2) r2++;
    const r1 = n - r2;
    const spike = i > o.points * 0.55 && i < o.points * 0.58 ? 2.2 : 1;
    const lat = (base: number): { p50: number; p95: number; p99: number } => {
      const p50 = base * (0.9 + rnd() * 0.2) * spike;
      return { p50, p95: p50 * (2.1 + rnd() * 0.4), p99: p50 * (3 + rnd() * 0.8) };
    };
    const e1 = rnd() < 0.004 * r1 ? 1 : 0;
    const e2 = rnd() < 0.003 * r2 ? 1 : 0;
    const variants: TimelinePoint['variants'] = {};
    if (r1 > 0) variants[v1] = { requests: r1, errors: e1, latencyMs: lat(10) };
    if (r2 > 0) variants[v2] = { requests: r2, errors: e2, latencyMs: lat(12) };
    totals[v1]!.requests += r1;
    totals[v1]!.errors += e1;
    totals[v2]!.requests += r2;
    totals[v2]!.errors += e2;
    points.push({ ts, variants });
  }
  const n1 = totals[v1]!.requests;
  const n2 = totals[v2]!.requests;
  const all = n1 + n2;
  const rate1 = 0.0607;
  const rate2 = 0.0722;
  const comparison: Comparison = {
    variant: v2,
    baseline: v1,
    metric: 'conversion',
    baselineRate: rate1,
    variantRate: rate2,
    absoluteLift: rate2 - rate1,
    relativeLift: rate2 / rate1 - 1,
    ci95: [0.00237, 0.02191],
    relativeCi95: [0.039, 0.361],
    pValue: 0.01237,
    sequentialPValue: 0.0813,
    chanceToBeatBaseline: 0.9941,
    decision: o.srmMismatch ? 'inconclusive' : 'continue',
    reason: o.srmMismatch
      ? 'sample-ratio mismatch: the observed split does not match the weights, so the comparison cannot be trusted'
      : `not enough evidence yet: ${Math.min(n1, n2).toLocaleString('en-US')} of ~${Math.ceil(
          Math.min(n1, n2) * 1.6,
        ).toLocaleString('en-US')} samples per arm (~1460 s at the current rate)`,
  };
  const features = o.features ?? ['tenure_months', 'age', 'income', 'plan', 'region'];
  const pv = [0.00041, 0.41, 0.031, 0.77, 0.19];
  const driftFeatures = [v1, v2].flatMap((variant) =>
    features.map((name, i) => {
      const p = variant === v2 ? pv[i % pv.length]! : Math.min(0.99, (pv[(i + 2) % pv.length]! + 0.3) % 1);
      return {
        name,
        variant,
        test: name === 'plan' || name === 'region' ? 'chi2' : 'ks',
        statistic: Number((0.02 + (1 - p) * 0.09).toFixed(4)),
        pValue: p,
        drift: p < 0.01,
      };
    }),
  );
  const lastWeights = changes[changes.length - 1]!.weights;
  return {
    experiment: 'propensity',
    generatedAt: new Date(o.now).toISOString(),
    variants: [
      {
        name: v1,
        role: 'baseline',
        weight: lastWeights[v1]!,
        observedShare: n1 / all,
        requests: n1,
        errors: totals[v1]!.errors,
        errorRate: totals[v1]!.errors / n1,
        latencyMs: { p50: 9.93, p95: 22.41, p99: 30.95 },
        feedback: { conversion: { count: Math.round(n1 * 0.9), sum: Math.round(n1 * rate1), rate: rate1 } },
      },
      {
        name: v2,
        role: 'candidate',
        weight: lastWeights[v2]!,
        observedShare: n2 / all,
        requests: n2,
        errors: totals[v2]!.errors,
        errorRate: totals[v2]!.errors / n2,
        latencyMs: { p50: 12.06, p95: 26.42, p99: 34.54 },
        feedback: { conversion: { count: Math.round(n2 * 0.9), sum: Math.round(n2 * rate2), rate: rate2 } },
      },
    ],
    srm: o.srmMismatch
      ? { chi2: 12.53, pValue: 0.0004, mismatch: true }
      : { chi2: 1.21, pValue: 0.27, mismatch: false },
    comparisons: [comparison],
    drift: {
      reference: 'data/reference.csv',
      window: 1000,
      correction: 'bonferroni',
      threshold: 0.05 / features.length,
      features: driftFeatures,
      prediction: [
        { variant: v1, test: 'ks', statistic: 0.021, pValue: 0.41, drift: false },
        { variant: v2, test: 'ks', statistic: 0.067, pValue: 0.031, drift: true },
      ],
      datasetDrift: driftFeatures.some((f) => f.drift),
    },
    shadow: { variant: v3, requests: Math.round(all * 0.98), agreement: 0.9731 },
    guardrails: [
      { name: 'latencyP95Ms', variant: v1, value: 22.41, limit: 50, ok: true },
      { name: 'errorRate', variant: v1, value: totals[v1]!.errors / n1, limit: 0.01, ok: true },
      { name: 'latencyP95Ms', variant: v2, value: 26.42, limit: 50, ok: true },
      { name: 'errorRate', variant: v2, value: totals[v2]!.errors / n2, limit: 0.01, ok: true },
    ],
    timeline: { bucketMs, points, weights: changes },
  };
}

/** A p-value history for the drifting feature, as a host would send it after a restore. */
export function fixtureHistory(report: Report, samples = 40): DashboardHistory {
  const rnd = mulberry32(11);
  const end = Date.parse(report.generatedAt);
  const drift = [];
  for (const f of report.drift?.features ?? [])
    for (let i = 0; i < samples; i++) {
      const ts = end - (samples - i) * 30_000;
      // The drifting feature slides from fine to drifting; the others wander.
      const p = f.drift
        ? Math.max(1e-5, 0.4 * Math.exp(-i / 8))
        : Math.min(1, Math.max(0.02, f.pValue + (rnd() - 0.5) * 0.3));
      drift.push({ ts, feature: f.name, variant: f.variant, pValue: p });
    }
  return { drift };
}
