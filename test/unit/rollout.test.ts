import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import {
  DEFAULT_ROLLOUT,
  abortRollout,
  approveStep,
  evaluateRollout,
  initialRollout,
  isTerminal,
  resumeRollout,
  startRollout,
  type RolloutSpec,
  type RolloutState,
} from '../../src/core/rollout/rollout';
import { parseExperiment } from '../../src/core/spec/experiment';
import { seededRandom } from '../../src/core/stats/random';

const EXPERIMENT = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: checkout }
spec:
  endpoint: checkout
  variants:
    - { name: v1, model: m1, role: baseline, weight: 100 }
    - { name: v2, model: m2, weight: 0 }
  metrics:
    primary: { name: conversion, kind: proportion }
    guardrails: { errorRate: { max: 0.05 }, latencyP95Ms: { max: 200 } }
`,
  'checkout.yaml',
);

interface Arm {
  rate: number;
  latencyMs: number;
  errorRate?: number;
}

interface Scenario {
  v1: Arm;
  v2: Arm;
  spec?: Partial<RolloutSpec>;
  /** Requests per 10-second tick. */
  perTick?: number;
  ticks?: number;
  seed?: number;
  /** Route this share of the candidate's traffic to the baseline instead (an SRM bug). */
  leak?: number;
  onTick?: (tick: number, state: RolloutState) => RolloutState;
}

/** Drives the real report builder with generated traffic under the weights the rollout sets. */
function run(s: Scenario): { state: RolloutState; weightsSeen: number[] } {
  const spec: RolloutSpec = { ...DEFAULT_ROLLOUT, minSamplesPerStep: 300, minStepSeconds: 30, ...s.spec };
  const random = seededRandom(s.seed ?? 1);
  const builder = new ReportBuilder(EXPERIMENT);
  let now = 1_764_000_000_000;
  let weights: Record<string, number> = { v1: 100, v2: 0 };
  let state = initialRollout('checkout', 'v1', 'v2', now);
  const apply = (w?: Record<string, number>): void => {
    if (!w) return;
    weights = w;
    builder.ingest({ type: 'weights', ts: now, experiment: 'checkout', weights: w, source: 'rollout' });
  };
  const start = startRollout(state, spec, builder.report(now), now);
  state = start.state;
  apply(start.weights);
  const weightsSeen = [weights.v2!];
  let id = 0;
  for (let tick = 0; tick < (s.ticks ?? 200) && !isTerminal(state.phase); tick++) {
    for (let i = 0; i < (s.perTick ?? 400); i++) {
      now += 10_000 / (s.perTick ?? 400);
      let variant = random() * 100 < weights.v2! ? 'v2' : 'v1';
      if (variant === 'v2' && s.leak && random() < s.leak) variant = 'v1';
      const arm = variant === 'v2' ? s.v2 : s.v1;
      const failed = random() < (arm.errorRate ?? 0);
      const rid = `r${id++}`;
      builder.ingest({
        type: 'request',
        id: rid,
        ts: now,
        experiment: 'checkout',
        variant,
        latencyMs: arm.latencyMs * (0.5 + random()),
        status: failed ? 502 : 200,
      });
      if (!failed)
        builder.ingest({
          type: 'feedback',
          id: rid,
          ts: now,
          experiment: 'checkout',
          metric: 'conversion',
          value: random() < arm.rate ? 1 : 0,
        });
    }
    if (s.onTick) state = s.onTick(tick, state);
    const e = evaluateRollout(state, spec, builder.report(now), now);
    state = e.state;
    apply(e.weights);
    if (e.weights) weightsSeen.push(weights.v2!);
  }
  return { state, weightsSeen };
}

describe('progressive rollout state machine (over the real report builder)', () => {
  it('walks a better candidate through every step to 100% and ends Succeeded', () => {
    const { state, weightsSeen } = run({
      v1: { rate: 0.1, latencyMs: 20 },
      v2: { rate: 0.16, latencyMs: 20 },
    });
    assert.equal(state.phase, 'Succeeded', state.reason);
    assert.deepEqual(weightsSeen, [5, 25, 50, 100]);
    assert.match(state.reason, /significantly better/);
    assert.deepEqual(
      state.history.map((h) => h.to),
      ['Progressing', 'Progressing', 'Progressing', 'Succeeded'],
    );
  });

  it('rolls a worse candidate back at the first step once the evidence is there', () => {
    const { state, weightsSeen } = run({
      v1: { rate: 0.2, latencyMs: 20 },
      v2: { rate: 0.05, latencyMs: 20 },
      perTick: 1000,
    });
    assert.equal(state.phase, 'RolledBack', state.reason);
    assert.deepEqual(weightsSeen, [5, 0]);
    assert.match(state.reason, /significantly worse on conversion/);
  });

  it('rolls back a latency regression over the absolute p95 limit', () => {
    const { state } = run({ v1: { rate: 0.1, latencyMs: 20 }, v2: { rate: 0.1, latencyMs: 400 } });
    assert.equal(state.phase, 'RolledBack');
    assert.match(state.reason, /guardrail breached: latencyP95Ms/);
  });

  it('rolls back a latency regression against the baseline when a ratio is configured', () => {
    const slower = { v1: { rate: 0.1, latencyMs: 20 }, v2: { rate: 0.16, latencyMs: 45 } };
    const { state } = run({ ...slower, spec: { latencyP95Ratio: 1.5 } });
    assert.equal(state.phase, 'RolledBack');
    assert.match(state.reason, /p95 latency 2\.\d+× the baseline's \(limit 1\.5×\)/);
    assert.equal(run(slower).state.phase, 'Succeeded', 'without a ratio, slower but within the limit passes');
  });

  it('does not blame the candidate for a limit the baseline breaches too', () => {
    const { state } = run({ v1: { rate: 0.1, latencyMs: 400 }, v2: { rate: 0.16, latencyMs: 400 } });
    assert.equal(state.phase, 'Succeeded', state.reason);
    assert.ok(state.history.length > 0);
  });

  it('rolls back on the error-rate guardrail', () => {
    const { state } = run({
      v1: { rate: 0.1, latencyMs: 20 },
      v2: { rate: 0.1, latencyMs: 20, errorRate: 0.2 },
    });
    assert.equal(state.phase, 'RolledBack');
    assert.match(state.reason, /errorRate/);
  });

  it('halts on a sample-ratio mismatch, and a user can resume', () => {
    let resumed = false;
    const { state } = run({
      v1: { rate: 0.1, latencyMs: 20 },
      v2: { rate: 0.1, latencyMs: 20 },
      leak: 0.6,
      ticks: 40,
      onTick: (_, s) => {
        if (s.phase === 'Paused' && !resumed) {
          resumed = true;
          assert.match(s.reason, /sample-ratio mismatch/);
          return resumeRollout(s, 0).state;
        }
        return s;
      },
    });
    assert.equal(resumed, true, 'it paused');
    assert.equal(state.phase, 'Paused', 'and halts again: the split is still off');
  });

  it('waits for approval between steps when asked to', () => {
    let approvals = 0;
    const { state, weightsSeen } = run({
      v1: { rate: 0.1, latencyMs: 20 },
      v2: { rate: 0.16, latencyMs: 20 },
      spec: { manualApproval: true },
      onTick: (tick, s) => {
        if (s.awaitingApproval && tick % 5 === 0) {
          approvals++;
          return approveStep(s).state;
        }
        return s;
      },
    });
    assert.equal(state.phase, 'Succeeded');
    assert.deepEqual(weightsSeen, [5, 25, 50, 100]);
    assert.equal(
      approvals,
      2,
      'approval before 25% and before 50%; the promotion itself is gated by the test',
    );
  });

  it('pauses on input drift (and only warns when configured to)', () => {
    const withDrift = parseExperiment(
      `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: checkout }
spec:
  endpoint: checkout
  variants:
    - { name: v1, model: m1, role: baseline, weight: 100 }
    - { name: v2, model: m2, weight: 0 }
  metrics:
    primary: { name: conversion, kind: proportion }
  drift: { reference: ref.csv, window: 300 }
`,
      'checkout.yaml',
    );
    const random = seededRandom(3);
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const reference = { columns: ['x'], rows: Array.from({ length: 1000 }, () => ({ x: normal() })) };
    for (const mode of ['pause', 'warn'] as const) {
      const builder = new ReportBuilder(withDrift, { reference });
      const spec: RolloutSpec = {
        ...DEFAULT_ROLLOUT,
        minSamplesPerStep: 100,
        minStepSeconds: 0,
        drift: mode,
      };
      let now = 1_000_000;
      let state = startRollout(
        initialRollout('checkout', 'v1', 'v2', now),
        spec,
        builder.report(now),
        now,
      ).state;
      for (let i = 0; i < 2000 && state.phase === 'Progressing'; i++) {
        now += 10;
        const variant = random() < 0.3 ? 'v2' : 'v1';
        const shift = i > 1000 ? 3 : 0; // the inputs drift halfway
        builder.ingest({
          type: 'request',
          id: `r${i}`,
          ts: now,
          experiment: 'checkout',
          variant,
          latencyMs: 5,
          status: 200,
          inputs: { x: normal() + shift },
        });
        if (i % 50 === 0) state = evaluateRollout(state, spec, builder.report(now), now).state;
      }
      if (mode === 'pause') {
        assert.equal(state.phase, 'Paused');
        assert.match(state.reason, /input drift \(x@v/);
      } else {
        assert.notEqual(state.phase, 'Paused');
        assert.ok(state.gates.some((g) => g.name === 'drift' && /drifting: x@/.test(g.detail)));
      }
    }
  });

  it('an abort rolls back at once', () => {
    const s = initialRollout('checkout', 'v1', 'v2', 0);
    const e = abortRollout({ ...s, phase: 'Progressing', stepIndex: 1 }, 5, ['v1', 'v2'], DEFAULT_ROLLOUT);
    assert.equal(e.state.phase, 'RolledBack');
    assert.deepEqual(e.weights, { v1: 100, v2: 0 });
  });

  it('keeps false promotions of an A/A candidate at or below alpha (seeded)', function () {
    this.timeout(60_000);
    let promoted = 0;
    const runs = 60;
    for (let seed = 1; seed <= runs; seed++) {
      const { state } = run({
        v1: { rate: 0.1, latencyMs: 20 },
        v2: { rate: 0.1, latencyMs: 20 },
        seed,
        ticks: 60,
        perTick: 300,
      });
      if (state.phase === 'Succeeded') promoted++;
    }
    assert.ok(promoted / runs <= 0.05, `false promotions ${promoted}/${runs}`);
  });
});
