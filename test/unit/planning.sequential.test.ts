import assert from 'node:assert/strict';
import { planTest, type PlanInput } from '../../src/core/analysis/plan';
import { SequentialTests } from '../../src/core/analysis/sequentialTests';
import { seededRandom, standardNormal } from '../../src/core/stats/random';

/**
 * The plan's sequential figures come from a scale-free simulation of the mixture SPRT
 * (src/core/stats/sequentialPlan.ts). Here the real test the report runs (SequentialTests,
 * looking after every unit, its τ fixed from the baseline after the warm-up) is run on
 * seeded experiments whose true lift is the MDE, and its stopping times are compared with
 * the plan's.
 */
interface Scenario {
  label: string;
  plan: PlanInput;
  /** One unit's value in an arm. */
  draw: (random: () => number, candidate: boolean) => number;
  seed: number;
}

const scenarios: Scenario[] = [
  {
    label: 'conversion 20% → 24%, 80/20',
    plan: {
      kind: 'proportion',
      baselineRate: 0.2,
      effect: { relative: 0.2 },
      alpha: 0.05,
      power: 0.8,
      ratio: 4,
    },
    draw: (random, candidate) => (random() < (candidate ? 0.24 : 0.2) ? 1 : 0),
    seed: 20261206,
  },
  {
    label: 'a normal mean 10 → 10.5 (sd 5), 50/50',
    plan: {
      kind: 'continuous',
      baselineRate: 10,
      sd: 5,
      effect: { relative: 0.05 },
      alpha: 0.05,
      power: 0.8,
      ratio: 1,
    },
    draw: (random, candidate) => (candidate ? 10.5 : 10) + 5 * standardNormal(random),
    seed: 7,
  },
];

describe('planning: the always-valid test’s stopping time at the MDE (seeded simulation)', () => {
  for (const sc of scenarios)
    it(`matches the plan for ${sc.label}: power by the planned horizon, the expected size, the share decided by the fixed horizon`, function () {
      this.timeout(120_000);
      const plan = planTest(sc.plan);
      const random = seededRandom(sc.seed);
      const experiments = 400;
      const cap = 3 * plan.sequential.atPower.candidate;
      const stops: number[] = [];
      for (let e = 0; e < experiments; e++) {
        const tests = new SequentialTests(sc.plan.kind, sc.plan.alpha, sc.plan.effect);
        const b = { requests: 0, metric: { count: 0, sum: 0, sumSq: 0, successes: 0 } };
        const v = { requests: 0, metric: { count: 0, sum: 0, sumSq: 0, successes: 0 } };
        let stop = Infinity;
        while (v.requests < cap) {
          const candidate = random() < 1 / (1 + sc.plan.ratio);
          const arm = candidate ? v : b;
          const x = sc.draw(random, candidate);
          arm.requests++;
          arm.metric.count++;
          arm.metric.sum += x;
          arm.metric.sumSq += x * x;
          if (x === 1) arm.metric.successes++;
          tests.look('v2', b, v);
          if (tests.state('v2').pValue < sc.plan.alpha) {
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
        Math.abs(byFixed - plan.sequential.detectByFixedHorizon) < 0.07,
        `by the fixed horizon ${byFixed}`,
      );
      assert.ok(Math.abs(mean / plan.sequential.expected.candidate - 1) < 0.1, `mean ${mean}`);
    });
});
