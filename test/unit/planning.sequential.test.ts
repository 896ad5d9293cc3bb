import assert from 'node:assert/strict';
import { planTest } from '../../src/core/analysis/plan';
import { SequentialTests } from '../../src/core/analysis/sequentialTests';
import { seededRandom } from '../../src/simulator/random';

/**
 * The plan's sequential figures come from a scale-free simulation of the mixture SPRT
 * (src/core/stats/sequentialPlan.ts). Here the real test the report runs (SequentialTests,
 * looking after every unit, its τ fixed from the baseline after the warm-up) is run on
 * seeded Bernoulli experiments whose true lift is the MDE, and its stopping times are
 * compared with the plan's.
 */
describe('planning: the always-valid test’s stopping time at the MDE (seeded simulation)', () => {
  it('matches the plan: power by the planned horizon, expected size, and share decided by the fixed horizon', function () {
    this.timeout(60_000);
    const rate = 0.2;
    const lift = 0.2; // relative: 20% → 24%
    const ratio = 4; // 80/20
    const alpha = 0.05;
    const plan = planTest({
      kind: 'proportion',
      baselineRate: rate,
      effect: { relative: lift },
      alpha,
      power: 0.8,
      ratio,
    });
    const random = seededRandom(20261206);
    const experiments = 400;
    const cap = 3 * plan.sequential.atPower.candidate;
    const stops: number[] = [];
    for (let e = 0; e < experiments; e++) {
      const tests = new SequentialTests('proportion', alpha, { relative: lift });
      const b = { requests: 0, metric: { count: 0, sum: 0, sumSq: 0, successes: 0 } };
      const v = { requests: 0, metric: { count: 0, sum: 0, sumSq: 0, successes: 0 } };
      let stop = Infinity;
      while (v.requests < cap) {
        const candidate = random() < 1 / (1 + ratio);
        const arm = candidate ? v : b;
        arm.requests++;
        if (random() < (candidate ? rate * (1 + lift) : rate)) arm.metric.successes++;
        tests.look('v2', b, v);
        if (tests.state('v2').pValue < alpha) {
          stop = v.requests;
          break;
        }
      }
      stops.push(stop);
    }
    const share = (n: number): number => stops.filter((s) => s <= n).length / experiments;
    const mean = stops.reduce((a, s) => a + Math.min(s, cap), 0) / experiments;
    const powerAtPlan = share(plan.sequential.atPower.candidate);
    const byFixed = share(plan.fixedHorizon.candidate);
    console.log(
      `      planned: expected ${plan.sequential.expected.candidate}, power 0.8 by ${plan.sequential.atPower.candidate}, ` +
        `${(plan.sequential.detectByFixedHorizon * 100).toFixed(1)}% by the fixed horizon ${plan.fixedHorizon.candidate} (candidate units)`,
    );
    console.log(
      `      simulated (${experiments} experiments, the real test): mean ${mean.toFixed(0)}, power ${(powerAtPlan * 100).toFixed(1)}% by ${plan.sequential.atPower.candidate}, ` +
        `${(byFixed * 100).toFixed(1)}% by the fixed horizon, ${stops.filter((s) => s === Infinity).length} not decided by ${cap}`,
    );
    // 400 experiments: a share's standard error is about 2 points; allow about 3.
    assert.ok(Math.abs(powerAtPlan - 0.8) < 0.06, `power at the planned horizon ${powerAtPlan}`);
    assert.ok(
      Math.abs(byFixed - plan.sequential.detectByFixedHorizon) < 0.08,
      `by the fixed horizon ${byFixed}`,
    );
    assert.ok(Math.abs(mean / plan.sequential.expected.candidate - 1) < 0.1, `mean ${mean}`);
  });
});
