/**
 * Reports for the dashboard's unit tests (webview.*.test.ts): a baseline v1 at 95% and a
 * candidate v2 at 5%, with a conversion comparison that is still collecting evidence.
 */
import type { Comparison, Report, VariantReport } from '../../src/shared/report';

// As the analysis makes them (field for field, src/core/analysis/reportBuilder.ts),
// small enough to read; each test changes what it is about.
export function variant(
  name: string,
  role: 'baseline' | 'candidate',
  o: Partial<VariantReport> = {},
): VariantReport {
  return {
    name,
    role,
    weight: role === 'baseline' ? 95 : 5,
    observedShare: role === 'baseline' ? 0.95 : 0.05,
    requests: role === 'baseline' ? 19_000 : 1_000,
    errors: 2,
    errorRate: 2 / (role === 'baseline' ? 19_000 : 1_000),
    latencyMs: { p50: 9.9, p95: 22.4, p99: 30.9 },
    feedback: { conversion: { count: 900, sum: 60, rate: 0.06 } },
    ...o,
  };
}

export function comparison(o: Partial<Comparison> = {}): Comparison {
  return {
    variant: 'v2',
    baseline: 'v1',
    metric: 'conversion',
    baselineRate: 0.0607,
    variantRate: 0.0722,
    absoluteLift: 0.0115,
    relativeLift: 0.18888,
    ci95: [0.0024, 0.0219],
    relativeCi95: [0.039, 0.361],
    pValue: 0.0123,
    sequentialPValue: 0.0813,
    chanceToBeatBaseline: 0.994,
    decision: 'continue',
    reason: 'not enough evidence yet: 1,940 of ~6,100 samples per arm (~310 s at the current rate)',
    ...o,
  };
}

export function report(o: Partial<Report> = {}): Report {
  return {
    experiment: 'propensity',
    generatedAt: '2025-11-25T14:00:00.000Z',
    variants: [variant('v1', 'baseline'), variant('v2', 'candidate')],
    srm: { chi2: 1.2, pValue: 0.27, mismatch: false },
    comparisons: [comparison()],
    guardrails: [
      { name: 'latencyP95Ms', variant: 'v2', value: 22.4, limit: 50, ok: true },
      { name: 'errorRate', variant: 'v2', value: 0.002, limit: 0.01, ok: true },
    ],
    ...o,
  };
}
