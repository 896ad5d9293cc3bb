import assert from 'node:assert/strict';
import { CONFOUNDING_LOAD_RATIO, guardrailResults } from '../../src/core/analysis/guardrails';
import type { Experiment } from '../../src/core/spec/experiment';
import { servingNote } from '../../src/runtime/servingPlan';
import type { VariantReport } from '../../src/shared/report';

const experiment = {
  metadata: { name: 'propensity' },
  spec: {
    variants: [
      { name: 'v1', weight: 95 },
      { name: 'v2', weight: 5 },
    ],
    metrics: { guardrails: { latencyP95Ms: { max: 50 } } },
  },
} as unknown as Experiment;
/** The same experiment with its MLServer processes sized to the traffic shares (spec.serving). */
const sized = {
  ...experiment,
  spec: { ...experiment.spec, serving: { workers: 8 } },
} as unknown as Experiment;

function variant(name: string, requests: number, p95: number): VariantReport {
  return {
    name,
    role: name === 'v1' ? 'baseline' : 'candidate',
    weight: 0,
    observedShare: 0,
    requests,
    errors: 0,
    errorRate: 0,
    latencyMs: { p50: p95 / 2, p95, p99: p95 * 1.5 },
    feedback: {},
  };
}

describe('latency guardrails at unequal load (fair comparisons)', () => {
  it('sets each arm’s load per replica from its requests over the run', () => {
    const vs = [variant('v1', 1900, 20), variant('v2', 100, 20)];
    guardrailResults(experiment, vs, { firstTs: 0, now: 10_000 });
    assert.deepEqual(
      vs.map((v) => v.loadPerReplica),
      [190, 10],
    );
  });

  it('divides each arm’s load by its sized MLServer processes, so a sized baseline’s breach stays a breach', () => {
    const vs = [variant('v1', 1900, 252), variant('v2', 100, 33)];
    const [g1] = guardrailResults(sized, vs, { firstTs: 0, now: 10_000 });
    // v1: round(0.95 × 8) = 8 processes, 190/8 req/s each; v2: at least one, 10 req/s.
    assert.deepEqual(
      vs.map((v) => v.loadPerReplica),
      [23.75, 10],
    );
    assert.deepEqual([g1!.ok, g1!.confounded], [false, undefined]);
  });

  it('reports the busy baseline’s breach as confounded when a lighter arm is within the limit', () => {
    const vs = [variant('v1', 1900, 252), variant('v2', 100, 33)];
    const [g1, g2] = guardrailResults(experiment, vs, { firstTs: 0, now: 10_000 });
    assert.equal(g1!.ok, true);
    assert.match(
      g1!.confounded!,
      /v1's p95 252 ms is over 50 ms while it carries 19× v2's load .*\(190 vs 10 req\/s\)/,
    );
    assert.deepEqual([g2!.ok, g2!.confounded], [true, undefined]);
  });

  it('keeps a breach when the loads are comparable, or when the lighter arm breaches', () => {
    const ratio = CONFOUNDING_LOAD_RATIO - 0.5;
    const even = [variant('v1', Math.round(100 * ratio), 252), variant('v2', 100, 33)];
    assert.equal(guardrailResults(experiment, even, { firstTs: 0, now: 10_000 })[0]!.ok, false);
    const lightSlow = [variant('v1', 1900, 20), variant('v2', 100, 252)];
    const g = guardrailResults(experiment, lightSlow, { firstTs: 0, now: 10_000 });
    assert.deepEqual([g[1]!.ok, g[1]!.confounded], [false, undefined]);
    // A candidate's breach is never excused, whatever its load: it will carry it once rolled out.
    const busyCandidate = [variant('v1', 100, 33), variant('v2', 1900, 252)];
    const c = guardrailResults(experiment, busyCandidate, { firstTs: 0, now: 10_000 });
    assert.deepEqual([c[1]!.ok, c[1]!.confounded], [false, undefined]);
    const bothSlow = [variant('v1', 1900, 252), variant('v2', 100, 80)];
    assert.equal(guardrailResults(experiment, bothSlow, { firstTs: 0, now: 10_000 })[0]!.ok, false);
    // Without a known run start there is no load, and a breach stays a breach.
    assert.equal(
      guardrailResults(experiment, [variant('v1', 1900, 252), variant('v2', 100, 33)])[0]!.ok,
      false,
    );
  });
});

describe('what deploy says about the MLServer processes (servingNote)', () => {
  it('says the sizing, and when the processes outnumber the cores', () => {
    const roomy = servingNote(sized, 16);
    assert.equal(roomy, 'MLServer processes sized to the traffic shares: v1 8, v2 1');
    const crowded = servingNote(sized, 2);
    assert.match(
      crowded ?? '',
      /^MLServer processes sized to the traffic shares: v1 8, v2 1; 9 processes on 2 cores share the CPU/,
    );
  });

  it('says when unsized variants are compared at unequal load, and nothing at equal weights', () => {
    assert.match(
      servingNote(experiment, 2) ?? '',
      /at weights 95\/5 their latencies are compared at unequal load/,
    );
    const even = {
      ...experiment,
      spec: {
        ...experiment.spec,
        variants: [
          { name: 'v1', weight: 50 },
          { name: 'v2', weight: 50 },
        ],
      },
    };
    assert.equal(servingNote(even as unknown as Experiment, 2), undefined);
  });
});
