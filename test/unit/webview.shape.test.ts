import assert from 'node:assert/strict';
import type { Comparison, Report, TimelinePoint, VariantReport } from '../../src/shared/report';
import {
  abTable,
  driftLevel,
  editableSplit,
  headerSplit,
  heatmap,
  liftPosition,
  liftTone,
  mergeDrift,
  mergeEvents,
  niceCeil,
  promoteWeights,
  pushDrift,
  reportEvents,
  rollbackWeights,
  sameSplit,
  samplesNeeded,
  srmBanner,
  variantColours,
  variantOrder,
  verdicts,
  weightEvents,
  withCandidateShare,
} from '../../webview/shape';
import {
  chartSeries,
  configuredSteps,
  mergeBuckets,
  pushSnapshot,
  timelineFromSnapshots,
} from '../../webview/series';
import { restoreUiState, stateForStorage, emptyUiState } from '../../webview/uiState';

// Reports as the analysis makes them (field for field, src/core/analysis/reportBuilder.ts),
// small enough to read; each test changes what it is about.
function variant(
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

function comparison(o: Partial<Comparison> = {}): Comparison {
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

function report(o: Partial<Report> = {}): Report {
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

describe('webview shaping: the verdict in words', () => {
  it('says "not yet" with the samples still needed and the lift with its interval', () => {
    const [v] = verdicts(report());
    assert.equal(v?.tone, 'wait');
    assert.equal(v?.headline, 'v2: promote? not yet');
    assert.equal(v?.deciding, '1,940 of ~6,100 samples needed (~5 min at the current rate)');
    assert.equal(v?.detail, 'conversion +18.9% (+3.9%, +36.1%)');
  });

  it('says ready to promote with the always-valid p-value that decides it', () => {
    const [v] = verdicts(
      report({
        comparisons: [
          comparison({ decision: 'promote', sequentialPValue: 0.0031, reason: 'v2 converts better' }),
        ],
      }),
    );
    assert.equal(v?.tone, 'good');
    assert.equal(v?.headline, 'v2: ready to promote');
    assert.equal(v?.deciding, 'always-valid p = 0.0031');
  });

  it('says roll back with the breached guardrail in words', () => {
    const r = report({
      comparisons: [
        comparison({ decision: 'rollback', reason: 'guardrail latencyP95Ms breached: 61.2 > 50' }),
      ],
      guardrails: [{ name: 'latencyP95Ms', variant: 'v2', value: 61.2, limit: 50, ok: false }],
    });
    const [v] = verdicts(r);
    assert.equal(v?.tone, 'bad');
    assert.equal(v?.headline, 'v2: roll back');
    assert.equal(v?.deciding, 'p95 latency 61.2 ms is over the 50.0 ms guardrail');
  });

  it('says roll back when the candidate converts worse', () => {
    const [v] = verdicts(
      report({
        comparisons: [
          comparison({
            decision: 'rollback',
            relativeLift: -0.2,
            relativeCi95: [-0.3, -0.1],
            sequentialPValue: 0.002,
          }),
        ],
      }),
    );
    assert.equal(v?.headline, 'v2: roll back');
    assert.equal(v?.deciding, 'always-valid p = 0.0020');
    assert.equal(v?.detail, 'conversion \u221220.0% (\u221230.0%, \u221210.0%)');
  });

  it('says no difference when enough samples show none', () => {
    const [v] = verdicts(
      report({
        comparisons: [
          comparison({
            decision: 'inconclusive',
            reason: 'no significant difference after 12,000 samples per arm (enough to detect ±0.61%)',
          }),
        ],
      }),
    );
    assert.equal(v?.headline, 'v2: no difference');
    assert.equal(v?.deciding, 'no significant difference after 12,000 samples per arm');
  });

  it("says it can't tell under a sample-ratio mismatch, whatever the test says", () => {
    const r = report({
      srm: { chi2: 12.5, pValue: 0.0004, mismatch: true },
      comparisons: [comparison({ decision: 'inconclusive' })],
    });
    const [v] = verdicts(r);
    assert.equal(v?.tone, 'warn');
    assert.equal(v?.headline, "v2: can't tell");
    assert.equal(v?.deciding, 'SRM p = 0.0004');
  });

  it('says what is missing before there is anything to compare', () => {
    const noTraffic = report({
      variants: [variant('v1', 'baseline', { requests: 0 }), variant('v2', 'candidate', { requests: 0 })],
    });
    assert.equal(verdicts(noTraffic)[0]?.headline, 'no traffic yet');
    assert.match(
      verdicts(noTraffic, { routerUrl: 'http://127.0.0.1:8090/' })[0]!.detail,
      /POST http:\/\/127\.0\.0\.1:8090\/v2\/models\/propensity\/infer/,
    );

    const noFeedback = report({
      variants: [variant('v1', 'baseline', { feedback: {} }), variant('v2', 'candidate', { feedback: {} })],
    });
    const [v] = verdicts(noFeedback);
    assert.equal(v?.headline, 'no feedback yet');
    assert.equal(
      v?.detail,
      'send it to POST /api/v1/experiments/propensity/feedback or run Simulate Traffic',
    );

    const onlyBaseline = report({ variants: [variant('v1', 'baseline')], comparisons: [] });
    assert.equal(verdicts(onlyBaseline)[0]?.headline, 'v1 serves all traffic');
  });

  it('reads the samples needed out of the analysis reason', () => {
    assert.deepEqual(samplesNeeded('not enough evidence yet: 1,940 of ~6,100 samples per arm'), {
      have: '1,940',
      need: '6,100',
    });
    // Too early to estimate: the reason is shown as it is, never "10 of ~? samples".
    assert.equal(
      samplesNeeded('not enough evidence yet: 10 samples per arm, too few to estimate how many are needed'),
      undefined,
    );
    assert.equal(samplesNeeded('v2 converts better')?.have, undefined);
  });
});

describe('webview shaping: SRM banner', () => {
  it('shows the observed and configured split when they do not match', () => {
    const r = report({
      srm: { chi2: 12.5, pValue: 0.0004, mismatch: true },
      variants: [
        variant('v1', 'baseline', { observedShare: 0.931 }),
        variant('v2', 'candidate', { observedShare: 0.069 }),
      ],
    });
    assert.equal(
      srmBanner(r),
      "SRM p = 0.0004: observed split 93.1/6.9 does not match 95/5 — results can't be trusted until the routing is fixed",
    );
  });

  it('stays away when the split matches', () => {
    assert.equal(srmBanner(report()), undefined);
  });
});

describe('webview shaping: variants, colours, header', () => {
  it('puts the baseline first, neutral, and gives candidates and the shadow their own colours', () => {
    const r = report({
      variants: [variant('v2', 'candidate'), variant('v1', 'baseline'), variant('v3', 'candidate')],
      shadow: { variant: 'v4', requests: 10, agreement: 0.9 },
    });
    assert.deepEqual(variantOrder(r), ['v1', 'v2', 'v3']);
    assert.deepEqual(
      [...variantColours(r)],
      [
        ['v1', 'neutral'],
        ['v2', 'blue'],
        ['v3', 'orange'],
        ['v4', 'purple'],
      ],
    );
    assert.equal(headerSplit(r), 'v1 90.5% · v2 4.8% · v3 4.8% · v4 shadow');
  });
});

describe('webview shaping: A/B table', () => {
  it('has one row per variant, baseline first, with conversions and the comparison', () => {
    const t = abTable(report(), { v1: 'propensity-v1', v2: '<img src=x onerror=alert(1)>' });
    assert.equal(t.metric, 'conversion');
    assert.equal(t.proportion, true);
    assert.deepEqual(
      t.rows.map((r) => [
        r.variant,
        r.role,
        r.model,
        r.requests,
        r.conversions,
        r.rate,
        r.comparison?.decision,
      ]),
      [
        ['v1', 'baseline', 'propensity-v1', 19_000, 1140, 0.06, undefined],
        ['v2', 'candidate', '<img src=x onerror=alert(1)>', 1_000, 60, 0.06, 'continue'],
      ],
    );
    assert.equal(t.scale, 0.4); // the widest end of any interval (36.1%) rounded up: a shared axis
  });

  it('keeps rows of empty arms (null after JSON) without inventing numbers', () => {
    const empty = report({
      variants: [variant('v1', 'baseline'), variant('v2', 'candidate', { requests: 0, feedback: {} })],
      comparisons: [
        comparison({
          relativeLift: null as unknown as number,
          relativeCi95: [null, null] as unknown as [number, number],
        }),
      ],
    });
    const row = abTable(empty).rows[1]!;
    assert.equal(row.requests, 0);
    assert.ok(Number.isNaN(row.conversions));
    assert.ok(Number.isNaN(row.rate), "no requests: no rate, not the comparison's 0");
    assert.equal(abTable(empty).scale, 0.1);
  });

  it('places lifts on the shared axis and colours intervals by what they rule out', () => {
    assert.equal(liftPosition(0, 0.4), 0.5);
    assert.equal(liftPosition(0.4, 0.4), 1);
    assert.equal(liftPosition(-1, 0.4), 0);
    assert.equal(liftPosition(NaN, 0.4), 0.5);
    assert.equal(liftTone([0.039, 0.361]), 'good');
    assert.equal(liftTone([-0.3, -0.1]), 'bad');
    assert.equal(liftTone([-0.1, 0.2]), 'neutral');
    assert.equal(liftTone([NaN, NaN]), 'neutral');
    assert.equal(niceCeil(0.37), 0.4);
    assert.equal(niceCeil(1.3), 1.5);
  });
});

describe('webview shaping: drift heatmap', () => {
  const drift = {
    reference: 'data/reference.csv',
    window: 1000,
    correction: 'bonferroni' as const,
    threshold: 0.01,
    features: [
      { name: 'tenure', variant: 'v2', test: 'ks', statistic: 0.09, pValue: 0.0004, drift: true },
      { name: 'tenure', variant: 'v1', test: 'ks', statistic: 0.02, pValue: 0.41, drift: false },
      { name: 'income', variant: 'v1', test: 'ks', statistic: 0.05, pValue: 0.03, drift: false },
      { name: 'plan', variant: 'v2', test: 'psi', statistic: 0.04, pValue: NaN, drift: false },
    ],
    prediction: [],
    datasetDrift: true,
  };

  it('classifies p-values against the per-feature threshold', () => {
    assert.equal(driftLevel({ pValue: 0.0004, statistic: 0.1, drift: true }, 0.01), 'drift');
    assert.equal(driftLevel({ pValue: 0.005, statistic: 0.1, drift: false }, 0.01), 'drift');
    assert.equal(driftLevel({ pValue: 0.03, statistic: 0.1, drift: false }, 0.01), 'near');
    assert.equal(driftLevel({ pValue: 0.41, statistic: 0.1, drift: false }, 0.01), 'ok');
    assert.equal(driftLevel({ pValue: NaN, statistic: 0.04, drift: false }, 0.01), 'ok');
    assert.equal(
      driftLevel(
        { pValue: null as unknown as number, statistic: null as unknown as number, drift: false },
        0.01,
      ),
      'none',
    );
  });

  it('lays out features × variants in the dashboard order, with text and a full-precision title', () => {
    const map = heatmap(drift, ['v1', 'v2']);
    assert.deepEqual(map.features, ['tenure', 'income', 'plan']);
    assert.deepEqual(map.variants, ['v1', 'v2']);
    assert.deepEqual(
      map.rows.map((r) => r.map((c) => (c ? `${c.text}:${c.level}` : '-'))),
      [
        ['0.41:ok', '0.0004:drift'],
        ['0.030:near', '-'],
        ['-', 'psi 0.04:ok'],
      ],
    );
    assert.match(
      map.rows[0]![1]!.title,
      /p = 0\.0004, statistic 0\.09; threshold 0\.01 \(bonferroni\) — drifting/,
    );
  });

  it('keeps a bounded p-value history per feature and variant, once per report', () => {
    const r = report({ drift });
    let samples = pushDrift([], r, 1000);
    samples = pushDrift(samples, r, 1000); // same report time: no duplicate
    assert.equal(samples.length, 4);
    for (let t = 2000; t < 12_000; t += 1000) samples = pushDrift(samples, r, t, 5);
    assert.equal(samples.filter((s) => s.feature === 'tenure' && s.variant === 'v2').length, 5);
    assert.equal(samples.find((s) => s.feature === 'plan')?.pValue, null);
    const merged = mergeDrift([{ ts: 1, feature: 'tenure', variant: 'v2', pValue: 0.5 }], samples);
    assert.equal(merged[0]?.ts, 1);
  });
});

describe('webview shaping: chart series from the timeline', () => {
  const point = (ts: number, r1: number, r2: number, e2 = 0, p95 = 20): TimelinePoint => ({
    ts,
    variants: {
      v1: { requests: r1, errors: 0, latencyMs: { p50: 10, p95, p99: 30 } },
      ...(r2 > 0 ? { v2: { requests: r2, errors: e2, latencyMs: { p50: 12, p95: p95 + 5, p99: 35 } } } : {}),
    },
  });

  it('draws the observed share per bucket and the configured split as steps', () => {
    const timeline = {
      bucketMs: 1000,
      points: [point(0, 95, 5), point(1000, 90, 10), point(2000, 0, 0)],
      weights: [
        { ts: -5000, weights: { v1: 95, v2: 5 } },
        { ts: 1500, weights: { v1: 75, v2: 25 }, source: 'dashboard' },
      ],
    };
    const s = chartSeries(timeline, ['v1', 'v2'], { v1: 75, v2: 25 });
    assert.equal(s.xMin, 0);
    assert.equal(s.xMax, 3000);
    assert.deepEqual(
      s.traffic[1]!.observed.map((p) => p.y),
      [5, 10, NaN, NaN],
    );
    assert.deepEqual(s.traffic[1]!.configured, [
      { x: 0, y: 5 },
      { x: 1500, y: 25 },
      { x: 3000, y: 25 },
    ]);
    assert.deepEqual(s.weightChanges, [1500]);
    assert.deepEqual(s.requests, { v1: 185, v2: 15 });
  });

  it('computes error rates as ratios of sums over merged buckets', () => {
    const points = Array.from({ length: 10 }, (_, i) => point(i * 1000, 9, 1, i === 3 ? 1 : 0));
    const s = chartSeries({ bucketMs: 1000, points, weights: [] }, ['v1', 'v2'], { v1: 90, v2: 10 }, 2);
    // 10 points into 2 buckets of 5 s: one error in 5 requests of v2, not a 100% spike.
    assert.deepEqual(s.errorRate[1]!.points, [
      { x: 0, y: 20 },
      { x: 5000, y: 0 },
    ]);
    assert.equal(s.bucketMs, 5000);
  });

  it('groups long latency series keeping the worst p95 of each group', () => {
    const points = Array.from({ length: 100 }, (_, i) => point(i * 1000, 5, 5, 0, i === 42 ? 90 : 20));
    const s = chartSeries({ bucketMs: 1000, points, weights: [] }, ['v1', 'v2'], { v1: 50, v2: 50 }, 150, 10);
    assert.equal(s.latency[0]!.p95.length, 10);
    assert.equal(Math.max(...s.latency[0]!.p95.map((p) => p.y)), 90);
    assert.equal(s.latency[0]!.p50[0]!.y, 10);
    const full = chartSeries({ bucketMs: 1000, points, weights: [] }, ['v1', 'v2'], { v1: 50, v2: 50 });
    assert.equal(full.latency[1]!.p99.length, 100);
  });

  it('draws the current split when there is no weight history', () => {
    const { steps, changes } = configuredSteps([], ['v1', 'v2'], { v1: 3, v2: 1 }, 0, 10);
    assert.deepEqual(steps.v2, [
      { x: 0, y: 25 },
      { x: 10, y: 25 },
    ]);
    assert.deepEqual(changes, []);
  });

  it('merges irregular points by time, not by count', () => {
    const { buckets, width } = mergeBuckets(
      [point(0, 1, 1), point(500, 1, 0), point(9000, 2, 2)],
      ['v1', 'v2'],
      1000,
      5,
    );
    assert.equal(width, 2000);
    assert.deepEqual(
      buckets.map((b) => [b.ts, ...b.requests]),
      [
        [0, 2, 1],
        [8000, 2, 2],
      ],
    );
  });

  it('builds a timeline from successive reports when the router sends none', () => {
    let snaps = pushSnapshot([], report({ generatedAt: '2025-11-25T14:00:00.000Z' }), 0);
    snaps = pushSnapshot(snaps, report({ generatedAt: '2025-11-25T14:00:00.000Z' }), 0); // same report
    const later = report({
      generatedAt: '2025-11-25T14:00:02.000Z',
      variants: [
        variant('v1', 'baseline', { requests: 19_095, errors: 3 }),
        variant('v2', 'candidate', { requests: 1_005, weight: 25 }),
      ],
    });
    snaps = pushSnapshot(snaps, later, 0);
    assert.equal(snaps.length, 2);
    const t = timelineFromSnapshots(snaps);
    assert.equal(t.bucketMs, 2000);
    assert.deepEqual(t.points[0]?.variants.v1?.requests, 95);
    assert.deepEqual(t.points[0]?.variants.v1?.errors, 1);
    assert.deepEqual(t.points[0]?.variants.v2?.requests, 5);
    assert.deepEqual(
      t.weights.map((w) => w.weights.v2),
      [5, 25],
    );
    // A router restart resets its counters: the new count is the delta, never negative.
    const restarted = report({
      generatedAt: '2025-11-25T14:00:04.000Z',
      variants: [variant('v1', 'baseline', { requests: 7 })],
    });
    const t2 = timelineFromSnapshots(pushSnapshot(snaps, restarted, 0));
    assert.equal(t2.points[1]?.variants.v1?.requests, 7);
  });
});

describe('webview shaping: timeline events', () => {
  it('describes weight changes as before → after, with source and reason', () => {
    const events = weightEvents(
      [
        { ts: 2, weights: { v1: 75, v2: 25 }, source: 'rollout', reason: 'step 2' },
        { ts: 1, weights: { v1: 95, v2: 5 } },
      ],
      ['v1', 'v2'],
    );
    assert.deepEqual(
      events.map((e) => [e.ts, e.text, e.reason]),
      [
        [1, 'split v1 95% · v2 5%', undefined],
        [2, 'v1 95% · v2 5% → v1 75% · v2 25%', 'rollout: step 2'],
      ],
    );
  });

  it('notices decision changes, SRM and guardrail breaches between two reports', () => {
    const before = report();
    const after = report({
      srm: { chi2: 20, pValue: 0.0001, mismatch: true },
      comparisons: [comparison({ decision: 'rollback', reason: 'guardrail errorRate breached' })],
      guardrails: [
        { name: 'latencyP95Ms', variant: 'v2', value: 22.4, limit: 50, ok: true },
        { name: 'errorRate', variant: 'v2', value: 0.02, limit: 0.01, ok: false },
      ],
    });
    const events = reportEvents(before, after, 99);
    assert.deepEqual(
      events.map((e) => [e.kind, e.text]),
      [
        ['decision', 'v2: continue → rollback'],
        ['srm', 'sample-ratio mismatch detected'],
        ['guardrail', 'v2: guardrail breached'],
      ],
    );
    assert.equal(events[2]?.reason, 'error rate 2% is over the 1% guardrail');
    assert.deepEqual(reportEvents(undefined, after, 99), []);
    assert.equal(mergeEvents(events, events).length, 3);
  });
});

describe('webview shaping: the weights the controls send', () => {
  it('starts from the current split in whole percent adding up to 100', () => {
    const r = report({
      variants: [
        variant('v1', 'baseline', { weight: 2 }),
        variant('v2', 'candidate', { weight: 1 }),
        variant('v3', 'candidate', { weight: 1 }),
      ],
    });
    assert.deepEqual(editableSplit(r), { v2: 25, v3: 25, v1: 50 });
  });

  it('moves a candidate and gives the rest to the baseline, never more than the others leave', () => {
    const split = { v1: 50, v2: 25, v3: 25 };
    assert.deepEqual(withCandidateShare(split, 'v1', 'v2', 40), { v1: 35, v2: 40, v3: 25 });
    assert.deepEqual(withCandidateShare(split, 'v1', 'v2', 90), { v1: 0, v2: 75, v3: 25 });
    assert.deepEqual(withCandidateShare(split, 'v1', 'v2', -5), { v1: 75, v2: 0, v3: 25 });
    assert.deepEqual(withCandidateShare(split, 'v1', 'v1', 10), split);
  });

  it('promotes and rolls back as whole splits', () => {
    assert.deepEqual(promoteWeights(report(), 'v2'), { v1: 0, v2: 100 });
    assert.deepEqual(rollbackWeights(report()), { v1: 100, v2: 0 });
    assert.ok(sameSplit({ v1: 95, v2: 5 }, { v1: 19, v2: 1 }));
    assert.ok(!sameSplit({ v1: 95, v2: 5 }, { v1: 75, v2: 25 }));
  });
});

describe('webview UI state', () => {
  it('restores what it saved and drops what it does not recognise', () => {
    const ui = {
      ...emptyUiState(),
      last: { experiment: 'propensity', environment: 'local processes', report: report() },
      feature: 'tenure',
    };
    const restored = restoreUiState(JSON.parse(JSON.stringify(ui)));
    assert.equal(restored.last?.experiment, 'propensity');
    // The extension's panel serializer reads the experiment at the top level.
    assert.equal(restored.experiment, 'propensity');
    assert.equal(stateForStorage(restored).experiment, 'propensity');
    assert.equal(restored.feature, 'tenure');
    assert.deepEqual(restoreUiState({ v: 2 }), emptyUiState());
    assert.deepEqual(restoreUiState('garbage'), emptyUiState());
    assert.equal(
      restoreUiState({ v: 1, last: { experiment: 'x', environment: 'y', report: { nope: 1 } } }).last,
      undefined,
    );
  });

  it('saves only the most recent timeline points', () => {
    const points = Array.from({ length: 2000 }, (_, i) => ({ ts: i, variants: {} }));
    const ui = {
      ...emptyUiState(),
      last: {
        experiment: 'p',
        environment: 'e',
        report: report({ timeline: { bucketMs: 1, points, weights: [] } }),
      },
    };
    const saved = stateForStorage(ui);
    assert.equal(saved.last?.report?.timeline?.points.length, 600);
    assert.equal(saved.last?.report?.timeline?.points[0]?.ts, 1400);
    assert.equal(ui.last.report.timeline?.points.length, 2000);
  });
});

describe('webview shaping: the report the analysis really makes', () => {
  it('shapes the fixture event log’s report without a missing number turning into a crash', async () => {
    const { analyzeEventsFile } = await import('../../src/cli/analyze');
    const dir = new URL('../fixtures/analysis/', import.meta.url).pathname;
    const { report: r } = await analyzeEventsFile(`${dir}medium.events.jsonl`, `${dir}experiment.yaml`);
    const served = JSON.parse(JSON.stringify(r)) as Report;
    const lines = verdicts(served);
    assert.equal(lines.length, served.comparisons.length);
    for (const v of lines) assert.ok(v.headline.startsWith(`${v.variant}:`), v.headline);
    const t = abTable(served);
    assert.deepEqual(
      t.rows.map((row) => row.variant),
      variantOrder(served),
    );
    assert.ok(t.scale > 0);
  });
});
