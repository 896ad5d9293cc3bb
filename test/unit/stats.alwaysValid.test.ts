import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SequentialTests, type ArmLook } from '../../src/core/analysis/sequentialTests';
import type { MetricAggregates } from '../../src/core/analysis/variantAggregates';
import { AlwaysValidState, msprtMeans, normalMixtureHalfWidth, welchTTest } from '../../src/core/stats';
import { seededRandom, standardNormal } from '../../src/core/stats/random';
import { assertClose } from '../harness/statsFixtures';

// Reference values from an independent implementation (quadrature of the mixture and root
// finding, not the closed forms): test/fixtures/stats/always_valid.py, which cites the papers.
interface Arm {
  n: number;
  sum: number;
  sumSq: number;
  mean: number;
  m2: number;
}
type Case =
  | {
      label: string;
      kind: 'continuous';
      baseline: Arm;
      variant: Arm;
      tau2: number;
      alpha: number;
      logLambdaUnpooled: number;
      logLambda: number;
      interval: [number, number];
    }
  | {
      label: string;
      kind: 'proportion';
      xb: number;
      nb: number;
      xv: number;
      nv: number;
      tau2: number;
      alpha: number;
      logLambda: number;
      interval: [number, number];
    };
const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/stats/always_valid.json'), 'utf8'),
) as { cases: Case[] };

const aggregates = (sum: number, sumSq: number, successes = 0): MetricAggregates => ({
  count: 0,
  sum,
  sumSq,
  successes,
});

function looksOf(c: Case): [ArmLook, ArmLook] {
  if (c.kind === 'proportion')
    return [
      { requests: c.nb, metric: aggregates(c.xb, c.xb, c.xb) },
      { requests: c.nv, metric: aggregates(c.xv, c.xv, c.xv) },
    ];
  return [
    { requests: c.baseline.n, metric: aggregates(c.baseline.sum, c.baseline.sumSq) },
    { requests: c.variant.n, metric: aggregates(c.variant.sum, c.variant.sumSq) },
  ];
}

describe('always-valid inference for proportions and means (mSPRT and its confidence sequence)', () => {
  for (const c of FIXTURE.cases) {
    it(`matches the quadrature reference: ${c.label}`, () => {
      if (c.kind === 'continuous') {
        const look = msprtMeans(c.baseline, c.variant, { tau2: c.tau2 });
        assertClose(Math.log(look.lambda), c.logLambdaUnpooled, 1e-9, 1e-12, 'log Λ (plug-in variance)');
      }
      const tests = new SequentialTests(c.kind, c.alpha);
      const [baseline, variant] = looksOf(c);
      tests.look('v2', baseline, variant);
      const { pValue, interval } = tests.state('v2');
      assertClose(pValue, Math.min(1, Math.exp(-c.logLambda)), 1e-9, 1e-15, 'always-valid p');
      assertClose(interval[0], c.interval[0], 1e-8, 1e-12, 'lower bound');
      assertClose(interval[1], c.interval[1], 1e-8, 1e-12, 'upper bound');
    });
  }

  it('keeps the running minimum of p and the running intersection of the intervals across looks', () => {
    const state = new AlwaysValidState(0.01, 0.05);
    assert.deepEqual(state.interval, [NaN, NaN]);
    const looks: [number, number][] = [
      [0.3, 0.02],
      [0.1, 0.01],
      [0.25, 0.004],
      [0.05, 0.002],
    ];
    let [lo, hi, p] = [-Infinity, Infinity, 1];
    for (const [estimate, variance] of looks) {
      state.look(estimate, variance);
      const half = normalMixtureHalfWidth(variance, 0.01, 0.05);
      lo = Math.max(lo, estimate - half);
      hi = Math.min(hi, estimate + half);
      p = Math.min(p, 1 / msprtLambda(estimate, variance, 0.01));
      assert.deepEqual(state.interval, [lo, hi]);
      assertClose(state.pValue, Math.min(1, p), 1e-12, 0, 'running minimum');
    }
    assert.ok(state.interval[1] - state.interval[0] < 2 * normalMixtureHalfWidth(0.002, 0.01, 0.05));
  });

  it('does not start before 1,000 baseline requests, nor while the baseline mean is 0', () => {
    const tests = new SequentialTests('continuous', 0.05);
    tests.look(
      'v2',
      { requests: 999, metric: aggregates(999, 2000) },
      { requests: 50, metric: aggregates(80, 200) },
    );
    assert.deepEqual(tests.state('v2'), { pValue: 1, interval: [NaN, NaN] });
    tests.look('v2', { requests: 1000, metric: undefined }, { requests: 50, metric: aggregates(80, 200) });
    assert.deepEqual(tests.state('v2'), { pValue: 1, interval: [NaN, NaN] });
  });
});

function msprtLambda(estimate: number, v: number, tau2: number): number {
  return Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * estimate * estimate) / (2 * v * (v + tau2)));
}

// ---------------------------------------------------------------------------------------------
// Seeded A/A simulations: peeking 50 times never pushes the false-positive rate above α.

const ALPHA = 0.05;
const PEEKS = 50;

/** Per-unit metric values: a conversion, and continuous metrics from well-behaved to heavy-tailed. */
const METRICS: Record<string, { kind: 'proportion' | 'continuous'; draw: (r: () => number) => number }> = {
  'proportion (10%)': { kind: 'proportion', draw: (r) => (r() < 0.1 ? 1 : 0) },
  'normal (10 ± 3)': { kind: 'continuous', draw: (r) => 10 + 3 * standardNormal(r) },
  'lognormal (σ = 1)': { kind: 'continuous', draw: (r) => Math.exp(standardNormal(r)) },
  // Lomax (Pareto II) with shape 2.5: finite variance, infinite third moment.
  'heavy-tailed (Lomax 2.5)': { kind: 'continuous', draw: (r) => Math.pow(1 - r(), -1 / 2.5) - 1 },
  // Revenue per unit: 5% buy, baskets lognormal(3, 1.5); 95% zeros.
  'revenue (5% × lognormal)': {
    kind: 'continuous',
    draw: (r) => (r() < 0.05 ? Math.exp(3 + 1.5 * standardNormal(r)) : 0),
  },
};

interface SimulationResult {
  sequential: number;
  welch: number;
}

/**
 * `runs` seeded experiments of `units` units split `share` to the candidate, both arms from
 * `draw` (plus `shift` on the candidate); each peeked PEEKS times at even intervals. The test
 * looks after every unit, as the report builder does after every event, and a peek reads its
 * state. The share of experiments where the always-valid p (and a peeked Welch p) fell below α
 * at a peek.
 */
function simulate(
  metric: { kind: 'proportion' | 'continuous'; draw: (r: () => number) => number },
  opts: { runs: number; units: number; share: number; seed: number; shift?: number },
): SimulationResult {
  const rand = seededRandom(opts.seed);
  const every = Math.floor(opts.units / PEEKS);
  let sequential = 0;
  let welch = 0;
  for (let run = 0; run < opts.runs; run++) {
    const tests = new SequentialTests(metric.kind, ALPHA);
    const arms: ArmLook[] = [0, 1].map(() => ({ requests: 0, metric: aggregates(0, 0) }));
    let [seqRejected, welchRejected] = [false, false];
    for (let i = 1; i <= opts.units; i++) {
      const candidate = rand() < opts.share;
      const x = metric.draw(rand) + (candidate ? (opts.shift ?? 0) : 0);
      const a = arms[candidate ? 1 : 0]!;
      a.requests++;
      a.metric!.sum += x;
      a.metric!.sumSq += x * x;
      if (x === 1) a.metric!.successes++;
      tests.look('v2', arms[0]!, arms[1]!);
      if (i % every !== 0) continue;
      if (tests.state('v2').pValue < ALPHA) seqRejected = true;
      const moments = (s: ArmLook) => ({
        n: s.requests,
        mean: s.metric!.sum / s.requests,
        m2: s.metric!.sumSq - (s.metric!.sum * s.metric!.sum) / s.requests,
      });
      if (welchTTest(moments(arms[0]!), moments(arms[1]!)).pValue < ALPHA) welchRejected = true;
    }
    if (seqRejected) sequential++;
    if (welchRejected) welch++;
  }
  return { sequential: sequential / opts.runs, welch: welch / opts.runs };
}

describe(`A/A simulations: ${PEEKS} peeks keep the always-valid false-positive rate ≤ α = ${ALPHA}`, function () {
  this.timeout(120_000);
  const designs = [
    { name: '10k units per arm (50/50)', units: 20_000, share: 0.5, runs: 300 },
    { name: 'a 5% canary of 40k units', units: 40_000, share: 0.05, runs: 200 },
  ];
  for (const [label, metric] of Object.entries(METRICS)) {
    for (const design of designs) {
      it(`${label}, ${design.name}`, () => {
        const r = simulate(metric, { ...design, seed: label.length * 7919 + design.units });
        console.log(
          `      A/A ${label}, ${design.name}, ${design.runs} runs: always-valid ${(r.sequential * 100).toFixed(1)}%, peeked fixed-horizon test ${(r.welch * 100).toFixed(1)}%`,
        );
        assert.ok(r.sequential <= ALPHA, `always-valid false-positive rate ${r.sequential} > ${ALPHA}`);
        // The same harness catches a test that is not always valid: peeking the fixed test inflates it.
        assert.ok(r.welch > ALPHA, `peeked fixed-horizon false-positive rate ${r.welch}`);
      });
    }
  }

  it('still detects a real 10% lift of a lognormal mean (10k units per arm) in most of 100 seeded experiments', () => {
    const lognormal = METRICS['lognormal (σ = 1)']!;
    const r = simulate(lognormal, {
      runs: 100,
      units: 20_000,
      share: 0.5,
      seed: 99,
      shift: 0.1 * Math.exp(0.5),
    });
    console.log(
      `      10% lift, lognormal: detected in ${(r.sequential * 100).toFixed(0)}% of 100 experiments`,
    );
    assert.ok(r.sequential >= 0.8, `power ${r.sequential}`);
  });
});
