import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { livePlan } from '../../src/core/analysis/livePlan';
import { planTest } from '../../src/core/analysis/plan';
import { parseExperiment } from '../../src/core/spec/experiment';
import { SpecError } from '../../src/core/spec/errors';
import { decisionAlpha, plannedEffect, plannedPower, rolloutSection } from '../../src/core/spec/planning';
import { requiredSampleSize } from '../../src/core/stats';
import { requiredSampleSizeMeans } from '../../src/core/stats/powerMeans';
import { assertClose } from '../harness/statsFixtures';

// Made by test/fixtures/stats/planning.py (statsmodels; its header names the versions).
interface PlanningFixtures {
  proportions: {
    baselineRate: number;
    relative: number;
    alpha: number;
    power: number;
    split: [number, number];
    ratio: number;
    nRaw: number;
    equalArmsRaw: number;
  }[];
  continuous: {
    mean: number;
    sd: number;
    difference: number;
    alpha: number;
    power: number;
    ratio: number;
    nRaw: number;
    tTestRaw: number;
  }[];
  sample: {
    baselineRate: number;
    relative: number;
    alpha: number;
    power: number;
    ratio: number;
    nRaw: number;
  };
}
const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/stats/planning.json'), 'utf8'),
) as PlanningFixtures;

const experiment = (primary: string, rollout = ''): string => `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: shop }
spec:
  endpoint: shop
  variants:
    - { name: v1, model: m1, weight: 95 }
    - { name: v2, model: m2, weight: 5 }
  metrics:
    primary: ${primary}
${rollout}`;

function problems(text: string): string[] {
  try {
    parseExperiment(text, 'exp.yaml');
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map((p) => `${p.field}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('planning: sample sizes at the real split (statsmodels)', () => {
  it('matches samplesize_proportions_2indep_onetail with the split ratio for every case', () => {
    for (const c of fixtures.proportions) {
      const options = {
        baselineRate: c.baselineRate,
        minimumDetectableEffect: { relative: c.relative },
        alpha: c.alpha,
        power: c.power,
      };
      const label = `p ${c.baselineRate} +${c.relative * 100}% split ${c.split.join('/')}`;
      assertClose(requiredSampleSize({ ...options, ratio: c.ratio }), c.nRaw, 1e-9, 0, label);
      assertClose(requiredSampleSize(options), c.equalArmsRaw, 1e-9, 0, `${label} equal arms`);
    }
  });

  it('halves the candidate sample of a 95/5 split compared with the equal-arms figure the hint used to give', () => {
    const c = fixtures.sample;
    const plan = planTest({
      kind: 'proportion',
      baselineRate: c.baselineRate,
      effect: { relative: c.relative },
      alpha: c.alpha,
      power: c.power,
      ratio: c.ratio,
    });
    assert.equal(plan.fixedHorizon.candidate, Math.ceil(c.nRaw));
    const equal = requiredSampleSize({ baselineRate: 0.1, minimumDetectableEffect: { relative: 0.1 } });
    console.log(
      `      95/5, 10% → 11%: ${plan.fixedHorizon.candidate} candidate units with the ratio, ${Math.ceil(equal)} with equal arms`,
    );
    assert.ok(equal / plan.fixedHorizon.candidate > 1.8);
  });

  it('matches NormalIndPower.solve_power with the ratio for continuous metrics, and the t-test within a unit or two', () => {
    for (const c of fixtures.continuous) {
      const n = requiredSampleSizeMeans({
        difference: c.difference,
        sd: c.sd,
        alpha: c.alpha,
        power: c.power,
        ratio: c.ratio,
      });
      const label = `d ${c.difference / c.sd} ratio ${c.ratio} α ${c.alpha}`;
      assertClose(n, c.nRaw, 1e-7, 0, label);
      assert.ok(Math.abs(c.tTestRaw - n) < 2 + 1e-3 * n, `${label}: t-test ${c.tTestRaw} vs ${n}`);
    }
  });

  it('plans a continuous metric from its mean and sd, with the relative MDE taken on the mean', () => {
    const c = fixtures.continuous.find((x) => x.mean === 10 && x.difference === 0.5 && x.ratio === 19)!;
    const plan = planTest({
      kind: 'continuous',
      baselineRate: c.mean,
      sd: c.sd,
      effect: { relative: 0.05 },
      alpha: c.alpha,
      power: c.power,
      ratio: c.ratio,
    });
    assert.equal(plan.mde.absolute, 0.5);
    assert.equal(plan.fixedHorizon.candidate, Math.ceil(c.nRaw));
    assert.equal(plan.fixedHorizon.total, Math.ceil(c.nRaw * 20));
  });

  it("the report's plan uses the weights in force, not equal arms", () => {
    const exp = parseExperiment(
      experiment('{ name: conversion, kind: proportion, minimumDetectableEffect: 10% }'),
      'e.yaml',
    );
    const arm = (requests: number, successes: number) => ({
      requests,
      metric: { count: requests, sum: successes, sumSq: successes, successes },
    });
    const live = livePlan(
      exp,
      { name: 'v1' },
      { name: 'v2' },
      {
        baseline: arm(19_000, 1_900),
        candidate: arm(1_000, 100),
        weights: { v1: 95, v2: 5 },
        firstTs: 0,
        now: 100_000,
      },
    )!;
    assert.equal(live.plan.fixedHorizon.candidate, Math.ceil(fixtures.sample.nRaw));
    assert.equal(live.plan.ratio, 19);
    // 1,000 candidate units in 100 s: 10 per second, 200 in all.
    assert.equal(live.timeToDecision!.unitsPerSecond, 200);
    assertClose(
      live.timeToDecision!.fixedHorizon,
      (Math.ceil(fixtures.sample.nRaw) - 1000) / 10,
      1e-12,
      0,
      'seconds',
    );
    const ramped = livePlan(
      exp,
      { name: 'v1' },
      { name: 'v2' },
      {
        baseline: arm(19_000, 1_900),
        candidate: arm(1_000, 100),
        weights: { v1: 50, v2: 50 },
        firstTs: 0,
        now: 100_000,
      },
    )!;
    assertClose(
      ramped.plan.fixedHorizon.candidate,
      Math.ceil(
        fixtures.proportions.find(
          (c) => c.baselineRate === 0.1 && c.relative === 0.1 && c.alpha === 0.05 && c.ratio === 1,
        )!.nRaw,
      ),
      0,
      0,
      '50/50',
    );
  });
});

describe('planning: the chance to detect within a horizon', () => {
  it('is the share decided by the fixed horizon at that horizon, and grows with the horizon', () => {
    const input = { kind: 'proportion' as const, baselineRate: 0.1, alpha: 0.05, power: 0.8, ratio: 19 };
    const plain = planTest(input);
    const at = (total: number) => planTest({ ...input, horizonTotal: total }).sequential.detectByHorizon!;
    const fixedTotal = plain.fixedHorizon.candidate * 20;
    assert.ok(Math.abs(at(fixedTotal).probability - plain.sequential.detectByFixedHorizon) <= 0.002);
    assert.equal(at(plain.sequential.atPower.total).probability >= 0.8, true);
    const probabilities = [0.5, 1, 2, 4].map((k) => at(k * fixedTotal).probability);
    assert.deepEqual(
      [...probabilities].sort((a, b) => a - b),
      probabilities,
    );
    assert.ok(probabilities[3]! > 0.95, `${probabilities[3]}`);
  });
});

describe('planning: the experiment file', () => {
  it('reads minimumDetectableEffect as a relative lift, percentage points, or a number in the metric unit', () => {
    const rel = parseExperiment(
      experiment('{ name: c, kind: proportion, minimumDetectableEffect: 10%, power: 0.9, alpha: 0.01 }'),
      'e.yaml',
    );
    assert.deepEqual(plannedEffect(rel), { relative: 0.1 });
    assert.equal(plannedPower(rel), 0.9);
    assert.equal(decisionAlpha(rel), 0.01);
    const pp = parseExperiment(
      experiment('{ name: c, kind: proportion, minimumDetectableEffect: 0.5pp }'),
      'e.yaml',
    );
    assertClose((plannedEffect(pp) as { absolute: number }).absolute, 0.005, 1e-12, 0, '0.5pp');
    const cont = parseExperiment(
      experiment('{ name: revenue, kind: continuous, minimumDetectableEffect: 2.5 }'),
      'e.yaml',
    );
    assert.deepEqual(plannedEffect(cont), { absolute: 2.5 });
    const defaults = parseExperiment(experiment('{ name: c, kind: proportion }'), 'e.yaml');
    assert.equal(plannedEffect(defaults), undefined);
    assert.equal(plannedPower(defaults), 0.8);
    assert.equal(decisionAlpha(defaults), 0.05);
  });

  it('says how to write an effect it cannot read', () => {
    assert.match(
      problems(experiment('{ name: c, kind: proportion, minimumDetectableEffect: 0.005 }')).join('\n'),
      /minimumDetectableEffect: a number is ambiguous for a proportion — write "0.5pp" .* or "0.5%"/,
    );
    assert.match(
      problems(experiment('{ name: c, kind: continuous, minimumDetectableEffect: 2pp }')).join('\n'),
      /"pp" \(percentage points\) is for proportions/,
    );
    assert.match(
      problems(experiment('{ name: c, kind: proportion, minimumDetectableEffect: ten }')).join('\n'),
      /must be a relative lift like "10%"/,
    );
    assert.match(
      problems(experiment('{ name: c, kind: proportion, minimumDetectableEffect: 0% }')).join('\n'),
      /must be > 0/,
    );
    assert.match(
      problems(experiment('{ name: c, kind: proportion, power: 1.2 }')).join('\n'),
      /power: must be in \(0.5, 1\)/,
    );
    assert.match(
      problems(experiment('{ name: c, kind: proportion, alpha: 0.7 }')).join('\n'),
      /alpha: must be in \(0, 0.5\)/,
    );
  });

  it('has one alpha: spec.rollout.alpha is still read, and a different second one is refused', () => {
    const old = parseExperiment(
      experiment('{ name: c, kind: proportion }', '  rollout: { alpha: 0.01 }'),
      'e.yaml',
    );
    assert.equal(decisionAlpha(old), 0.01);
    assert.equal(rolloutSection(old).alpha, 0.01);
    const moved = parseExperiment(
      experiment('{ name: c, kind: proportion, alpha: 0.02 }', '  rollout: { steps: [5, 100] }'),
      'e.yaml',
    );
    assert.equal(rolloutSection(moved).alpha, 0.02);
    const same = parseExperiment(
      experiment('{ name: c, kind: proportion, alpha: 0.02 }', '  rollout: { alpha: 0.02 }'),
      'e.yaml',
    );
    assert.equal(decisionAlpha(same), 0.02);
    assert.match(
      problems(experiment('{ name: c, kind: proportion, alpha: 0.02 }', '  rollout: { alpha: 0.05 }')).join(
        '\n',
      ),
      /spec.rollout.alpha: says 0.05 but spec.metrics.primary.alpha says 0.02 — there is one alpha/,
    );
  });
});
