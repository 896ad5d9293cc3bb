import assert from 'node:assert/strict';
import type { TimelinePoint } from '../../src/shared/report';
import {
  chartSeries,
  configuredSteps,
  mergeBuckets,
  pushSnapshot,
  timelineFromSnapshots,
} from '../../webview/series';
import { report, variant } from './webviewReportFixture';

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
