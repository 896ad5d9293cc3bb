import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyzeEventsFile } from '../../src/cli/analyze';
import { isHostToWebview, isReport, isWebviewMessage, isWebviewToHost } from '../../src/shared/protocol';
import type { Report } from '../../src/shared/report';

// A report as `model-canary analyze` computes it from the fixture events, passed through JSON
// the way the router serves it (NaN → null).
function sampleReport(): Report {
  return {
    experiment: 'propensity',
    generatedAt: '2025-11-25T14:00:00.000Z',
    variants: [
      {
        name: 'v1',
        role: 'baseline',
        weight: 95,
        observedShare: 0.95,
        requests: 1900,
        errors: 1,
        errorRate: 0.0005,
        latencyMs: { p50: 9.9, p95: 22.4, p99: 30.9 },
        feedback: { conversion: { count: 1500, sum: 115, rate: 0.0605 } },
      },
      {
        name: 'v2',
        role: 'candidate',
        weight: 5,
        observedShare: 0.05,
        requests: 0,
        errors: 0,
        errorRate: 0,
        latencyMs: { p50: NaN, p95: NaN, p99: NaN },
        feedback: {},
      },
    ],
    srm: { chi2: 0.1, pValue: 0.75, mismatch: false },
    comparisons: [
      {
        variant: 'v2',
        baseline: 'v1',
        metric: 'conversion',
        baselineRate: 0.0605,
        variantRate: 0,
        absoluteLift: -0.0605,
        relativeLift: -1,
        ci95: [NaN, NaN],
        relativeCi95: [NaN, NaN],
        pValue: NaN,
        sequentialPValue: 1,
        chanceToBeatBaseline: 0.5,
        decision: 'continue',
        reason: 'not enough evidence yet: 0 of ~6,100 samples per arm',
      },
    ],
    guardrails: [{ name: 'latencyP95Ms', variant: 'v2', value: NaN, limit: 50, ok: true }],
    drift: {
      reference: 'data/reference.csv',
      window: 1000,
      correction: 'bonferroni',
      threshold: 0.01,
      features: [{ name: 'age', variant: 'v1', test: 'ks', statistic: 0.03, pValue: 0.4, drift: false }],
      prediction: [{ variant: 'v1', test: 'ks', statistic: 0.02, pValue: 0.5, drift: false }],
      datasetDrift: false,
    },
    shadow: { variant: 'v3', requests: 10, agreement: 0.9 },
    timeline: {
      bucketMs: 1000,
      points: [
        { ts: 1, variants: { v1: { requests: 3, errors: 0, latencyMs: { p50: 1, p95: 2, p99: 3 } } } },
      ],
      weights: [{ ts: 0, weights: { v1: 95, v2: 5 }, source: 'deploy' }],
    },
  };
}

const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('protocol: messages from the webview (checked by the host)', () => {
  it('accepts every message the dashboard sends', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'refresh' },
      { type: 'openLogs' },
      { type: 'setWeights', experiment: 'propensity', weights: { v1: 75, v2: 25 } },
      { type: 'setWeights', experiment: 'propensity', weights: { v2: 0, v1: 100 } },
      { type: 'promote', experiment: 'propensity', variant: 'v2' },
      { type: 'rollback', experiment: 'propensity' },
      { type: 'simulateTraffic', experiment: 'propensity' },
    ])
      assert.ok(isWebviewToHost(m), JSON.stringify(m));
  });

  it('rejects unknown types, missing fields and weights no router would take', () => {
    for (const m of [
      null,
      'ready',
      [],
      {},
      { type: 'READY' },
      { type: 'deleteCluster' },
      { type: 'promote', experiment: 'propensity' },
      { type: 'promote', experiment: '', variant: 'v2' },
      { type: 'rollback' },
      { type: 'setWeights', experiment: 'propensity' },
      { type: 'setWeights', experiment: 'propensity', weights: {} },
      { type: 'setWeights', experiment: 'propensity', weights: { v1: -1, v2: 101 } },
      { type: 'setWeights', experiment: 'propensity', weights: { v1: 0, v2: 0 } },
      { type: 'setWeights', experiment: 'propensity', weights: { v1: '75' } },
      { type: 'setWeights', experiment: 'propensity', weights: { v1: Infinity } },
      { type: 'setWeights', experiment: 'propensity', weights: [75, 25] },
    ])
      assert.ok(!isWebviewToHost(m), JSON.stringify(m));
  });

  it('keeps the first cut’s guard name working', () => {
    assert.equal(isWebviewMessage, isWebviewToHost);
  });
});

describe('protocol: messages from the host (checked by the webview)', () => {
  it('accepts a state with a report as served (NaN turned into null by JSON)', () => {
    const report = viaJson(sampleReport());
    assert.equal(report.variants[1]?.latencyMs.p50, null);
    assert.ok(isReport(report));
    assert.ok(isReport(sampleReport()));
    assert.ok(
      isHostToWebview({
        type: 'state',
        experiment: 'propensity',
        environment: 'local processes',
        report,
        routerUrl: 'http://127.0.0.1:8090',
        endpoint: 'propensity',
        models: { v1: 'propensity-v1' },
        history: { drift: [{ ts: 1, feature: 'age', variant: 'v1', pValue: null }] },
      }),
    );
    assert.ok(
      isHostToWebview({
        type: 'state',
        experiment: 'propensity',
        environment: 'kind',
        report: null,
        notice: 'not deployed',
      }),
    );
    assert.ok(isHostToWebview({ type: 'error', message: 'router not reachable' }));
    assert.ok(isHostToWebview({ type: 'actionResult', action: 'promote', ok: true, message: 'promoted' }));
  });

  it('accepts the report the analysis really makes (from the fixture event log, through JSON)', async () => {
    const dir = join(import.meta.dirname, '../fixtures/analysis');
    const { report } = await analyzeEventsFile(
      join(dir, 'medium.events.jsonl'),
      join(dir, 'experiment.yaml'),
    );
    const served = viaJson(report);
    assert.ok(isReport(served));
    assert.ok(
      isHostToWebview({
        type: 'state',
        experiment: report.experiment,
        environment: 'local processes',
        report: served,
      }),
    );
  });

  it('rejects malformed states and unknown messages', () => {
    const good = { type: 'state', experiment: 'propensity', environment: 'local', report: sampleReport() };
    const broken = (mutate: (r: Record<string, unknown>) => void): unknown => {
      const r = viaJson(sampleReport()) as unknown as Record<string, unknown>;
      mutate(r);
      return { ...good, report: r };
    };
    for (const m of [
      null,
      { type: 'state' },
      { ...good, experiment: 42 },
      { ...good, report: undefined },
      { ...good, report: '<img src=x onerror=alert(1)>' },
      { ...good, models: { v1: 1 } },
      { ...good, history: { drift: 'lots' } },
      broken((r) => delete r.variants),
      broken((r) => (r.variants = [{ name: 'v1' }])),
      broken((r) => ((r.variants as Record<string, unknown>[])[0]!.requests = '1900')),
      broken((r) => ((r.variants as Record<string, unknown>[])[0]!.role = 'admin')),
      broken((r) => ((r.comparisons as Record<string, unknown>[])[0]!.decision = 'ship it')),
      broken((r) => ((r.comparisons as Record<string, unknown>[])[0]!.ci95 = [0.1])),
      broken((r) => (r.srm = { chi2: 1, pValue: 0.5 })),
      broken((r) => ((r.drift as Record<string, unknown>).features = [{ name: 'age' }])),
      broken((r) => ((r.timeline as Record<string, unknown>).points = [{ ts: 'yesterday', variants: {} }])),
      { type: 'error' },
      { type: 'error', message: 7 },
      { type: 'actionResult', action: 'deleteCluster', ok: true, message: '' },
      { type: 'actionResult', action: 'promote', ok: 'yes', message: '' },
      { type: 'eval', code: 'alert(1)' },
    ])
      assert.ok(!isHostToWebview(m), JSON.stringify(m)?.slice(0, 120));
  });
});
