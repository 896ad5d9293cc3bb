import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  betaSuperiorityExact,
  betaSuperiorityQuadrature,
  EXACT_MAX_TERMS,
} from '../../src/core/stats/betaSuperiority';
import {
  benjaminiHochbergAdjust,
  chanceToBeatBaseline,
  defaultMixingVariance,
  holmAdjust,
  Moments,
  msprtPValue,
  newcombeDiffCI,
  relativeLiftCI,
  requiredSampleSize,
  sampleRatioMismatch,
  sampleSizePerArm,
  SequentialTest,
  timeToDecision,
  twoProportionZTest,
  welchTTest,
  wilsonInterval,
} from '../../src/core/stats';
import type { MomentSummary } from '../../src/core/stats';

// Reference values from scipy/statsmodels, made by test/fixtures/stats/make_stats_fixtures.py
// (its header records the library versions and the command). null in the JSON means NaN.
type Num = number | null;
interface Fixtures {
  header: Record<string, string | number>;
  proportions: {
    label: string;
    xb: number;
    nb: number;
    xv: number;
    nv: number;
    alpha: number;
    z: number;
    pValue: number;
    newcombe: [Num, Num];
    relativeMethod: string;
    relative: [Num, Num];
    chanceToBeat: number;
  }[];
  welch: {
    label: string;
    alpha: number;
    a: MomentSummary;
    b: MomentSummary;
    t: number;
    df: number;
    pValue: number;
    diff: number;
    ci: [number, number];
  }[];
  moments: { label: string; values: number[]; split: number; n: number; mean: number; m2: number }[];
  srm: { label: string; observed: number[]; weights: number[]; chi2: number; pValue: number }[];
  multiple: { pValues: number[]; holm: number[]; bh: number[] }[];
  power: {
    baselineRate: number;
    absolute: number;
    alpha: number;
    power: number;
    ratio: number;
    nRaw: number;
  }[];
}

const fixtures = JSON.parse(
  readFileSync(join(import.meta.dirname, '../fixtures/stats/stats_fixtures.json'), 'utf8'),
) as Fixtures;

/** Asserts |actual − expected| ≤ max(rel·|expected|, abs); null expected means NaN. */
function assertClose(actual: number, expected: Num, rel: number, abs: number, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  const tolerance = Math.max(rel * Math.abs(expected), abs);
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: got ${actual}, expected ${expected} (difference ${Math.abs(actual - expected)} > ${tolerance})`,
  );
}

/** mulberry32: a small seeded PRNG, so the simulations are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('A/B statistics for proportions (against statsmodels/scipy fixtures)', () => {
  it(`has at least 200 proportion cases, edges included (${fixtures.proportions.length})`, () => {
    assert.ok(fixtures.proportions.length >= 200);
    for (const label of [
      'variant without traffic',
      'both arms n = 1, none converted',
      '100% conversion in both arms',
    ]) {
      assert.ok(
        fixtures.proportions.some((c) => c.label === label),
        label,
      );
    }
    assert.ok(fixtures.proportions.some((c) => c.nb >= 1e7));
  });

  it('matches proportions_ztest (z and two-sided p to 1e-6 relative) for every case', () => {
    for (const c of fixtures.proportions) {
      const r = twoProportionZTest(c.xb, c.nb, c.xv, c.nv);
      assertClose(r.z, c.z, 1e-6, 1e-12, `${c.label} z`);
      assertClose(r.pValue, c.pValue, 1e-6, 1e-300, `${c.label} p`);
    }
  });

  it('matches the Newcombe hybrid score interval (method="newcomb") to 1e-6 relative for every case', () => {
    for (const c of fixtures.proportions) {
      const [lo, hi] = newcombeDiffCI(c.xb, c.nb, c.xv, c.nv, c.alpha);
      assertClose(lo, c.newcombe[0], 1e-6, 1e-12, `${c.label} lo`);
      assertClose(hi, c.newcombe[1], 1e-6, 1e-12, `${c.label} hi`);
    }
  });

  it('matches the log risk-ratio interval minus 1 (log-adjusted only with a zero count) for every case', () => {
    for (const c of fixtures.proportions) {
      const [lo, hi] = relativeLiftCI(c.xb, c.nb, c.xv, c.nv, c.alpha);
      assertClose(lo, c.relative[0], 1e-6, 1e-12, `${c.label} lo (${c.relativeMethod})`);
      assertClose(hi, c.relative[1], 1e-6, 1e-12, `${c.label} hi (${c.relativeMethod})`);
    }
  });

  it('computes the chance to beat the baseline within 1e-6 of numerical integration, for counts up to 10^7', () => {
    let worst = 0;
    for (const c of fixtures.proportions) {
      const p = chanceToBeatBaseline(c.xb, c.nb, c.xv, c.nv);
      assertClose(p, c.chanceToBeat, 0, 1e-6, `${c.label} chance to beat`);
      worst = Math.max(worst, Math.abs(p - c.chanceToBeat));
    }
    assert.ok(worst < 1e-6, `worst ${worst}`);
  });

  it('gives the same chance to beat by the exact sum and by quadrature once both posteriors are large', () => {
    const cases: [number, number, number, number][] = [
      [EXACT_MAX_TERMS + 1, 9 * EXACT_MAX_TERMS, 10 * EXACT_MAX_TERMS, 90 * EXACT_MAX_TERMS],
      [6_001, 94_000, 120_500, 1_879_500],
      [2_000, 18_000, 40_200, 359_800],
    ];
    for (const [a1, b1, a2, b2] of cases) {
      const exact = betaSuperiorityExact(a1, b1, a2, b2);
      const quad = betaSuperiorityQuadrature(a1, b1, a2, b2);
      assert.ok(Math.abs(exact - quad) < 1e-8, `${a1},${b1} vs ${a2},${b2}: ${exact} vs ${quad}`);
      assert.ok(exact > 0.001 && exact < 0.999, `not a trivial case: ${exact}`);
    }
  });

  it('treats two arms without traffic as a coin flip and stays within [0, 1]', () => {
    assert.equal(chanceToBeatBaseline(0, 0, 0, 0), 0.5);
    assert.ok(Math.abs(chanceToBeatBaseline(0, 1, 1, 1) - 5 / 6) < 1e-12); // P(Beta(2,1) > Beta(1,2))
    const p = chanceToBeatBaseline(1_000_000, 10_000_000, 1, 3);
    assert.ok(p >= 0 && p <= 1);
  });

  it('defines the z-test where statsmodels returns nan: no traffic or a pooled rate of 0 or 1 gives z 0, p 1', () => {
    assert.deepEqual(twoProportionZTest(120, 1000, 0, 0), { z: 0, pValue: 1 });
    assert.deepEqual(twoProportionZTest(0, 5000, 0, 250), { z: 0, pValue: 1 });
    assert.deepEqual(twoProportionZTest(800, 800, 40, 40), { z: 0, pValue: 1 });
  });

  it('returns NaN intervals for an arm without traffic and a positive z when the variant converts better', () => {
    assert.ok(newcombeDiffCI(10, 100, 0, 0).every(Number.isNaN));
    assert.ok(relativeLiftCI(0, 0, 3, 10).every(Number.isNaN));
    assert.ok(twoProportionZTest(100, 1000, 150, 1000).z > 0);
    const [lo, hi] = newcombeDiffCI(100, 1000, 150, 1000);
    assert.ok(lo > 0 && hi > lo);
  });

  it('keeps the Wilson interval within [0, 1] and touching the bound at 0% and 100%', () => {
    const [lo0, hi0] = wilsonInterval(0, 20);
    const [lo1, hi1] = wilsonInterval(20, 20);
    assert.ok(lo0 >= 0 && lo0 < 1e-15 && hi0 > 0.1);
    assert.ok(hi1 <= 1 && hi1 > 1 - 1e-15 && lo1 < 0.9);
  });

  it('rejects impossible counts with a RangeError that names the arm', () => {
    assert.throws(() => twoProportionZTest(5, 4, 0, 1), /baseline: successes/);
    assert.throws(() => newcombeDiffCI(0, 1, -1, 1), /variant: successes/);
    assert.throws(() => chanceToBeatBaseline(1.5, 4, 0, 1), /xb must be an integer/);
    assert.throws(() => relativeLiftCI(1, 4, 1, 4, 1.5), /alpha/);
  });
});

describe('always-valid sequential p-values (mixture SPRT)', () => {
  it("equals the paper's two-sample statistic when both arms have n trials", () => {
    // Johari et al.: Λ = sqrt(2σ²/(2σ² + nτ²)) · exp(n²τ²θ̂² / (4σ²(2σ² + nτ²))), σ² = p̄(1 − p̄).
    const n = 5000;
    const [xb, xv] = [500, 560];
    const tau2 = 1e-4;
    const pbar = (xb + xv) / (2 * n);
    const s2 = pbar * (1 - pbar);
    const theta = xv / n - xb / n;
    const expected =
      Math.sqrt((2 * s2) / (2 * s2 + n * tau2)) *
      Math.exp((n * n * tau2 * theta * theta) / (4 * s2 * (2 * s2 + n * tau2)));
    const r = msprtPValue(xb, n, xv, n, { tau2 });
    assertClose(r.lambda, expected, 1e-12, 0, 'lambda');
    assertClose(r.pValue, Math.min(1, 1 / expected), 1e-12, 0, 'p');
  });

  it('grows with the size of the lift, is symmetric in its sign, and caps p at 1', () => {
    const tau2 = defaultMixingVariance(0.1);
    const small = msprtPValue(1000, 10000, 510, 5000, { tau2 });
    const large = msprtPValue(1000, 10000, 650, 5000, { tau2 });
    const swapped = msprtPValue(650, 5000, 1000, 10000, { tau2 });
    assert.ok(large.lambda > small.lambda);
    assertClose(swapped.lambda, large.lambda, 1e-12, 0, 'symmetric');
    assert.equal(small.pValue, 1, 'a small lift at this size is no evidence: Λ < 1');
    assertClose(large.pValue, 1 / large.lambda, 1e-12, 0, 'p = 1/Λ');
    assert.ok(large.pValue < 0.05);
  });

  it('gives Λ 1 and p 1 without traffic in an arm, with a pooled rate of 0, or with τ² = 0', () => {
    assert.deepEqual(msprtPValue(10, 100, 0, 0, { tau2: 1e-4 }), { lambda: 1, pValue: 1 });
    assert.deepEqual(msprtPValue(0, 100, 0, 10, { tau2: 1e-4 }), { lambda: 1, pValue: 1 });
    assert.deepEqual(msprtPValue(10, 100, 9, 10, { tau2: 0 }), { lambda: 1, pValue: 1 });
    assert.throws(() => msprtPValue(10, 100, 9, 10, { tau2: -1 }), /tau2/);
  });

  it('chooses τ² as the square of the minimum detectable effect (default a 5% relative lift)', () => {
    assertClose(defaultMixingVariance(0.1), 0.005 ** 2, 1e-12, 0, 'relative default');
    assertClose(defaultMixingVariance(0.1, { absolute: 0.01 }), 1e-4, 1e-12, 0, 'absolute');
    assert.equal(defaultMixingVariance(0), 0);
  });

  it('keeps the running minimum, so the p-value never increases across looks', () => {
    const test = new SequentialTest({ tau2: defaultMixingVariance(0.1) });
    const looks = [
      [100, 1000, 20, 50],
      [190, 2000, 22, 100],
      [300, 3000, 30, 150],
      [400, 4000, 40, 200],
    ] as const;
    let previous = 1;
    let sawIncreaseAtLook = false;
    for (const [xb, nb, xv, nv] of looks) {
      const r = test.update(xb, nb, xv, nv);
      assert.ok(r.pValue <= previous, 'non-increasing');
      assert.equal(r.pValue, Math.min(previous, r.pValueAtLook));
      if (r.pValueAtLook > previous) sawIncreaseAtLook = true;
      previous = r.pValue;
    }
    assert.ok(sawIncreaseAtLook, 'the per-look p-value went back up; the running one did not');
    assert.equal(test.pValue, previous);
    assert.throws(() => test.update(0, 10, 0, 10), /counts went down/);
  });

  it('keeps the false-positive rate ≤ 5% over 20 peeks in 500 seeded A/A canaries, where a peeked z-test exceeds it', () => {
    const rand = mulberry32(0x5eed);
    const experiments = 500;
    const checkpoints = 20;
    const requestsPerCheckpoint = 2_000;
    const rate = 0.1;
    const canaryShare = 0.05;
    const alpha = 0.05;
    const tau2 = defaultMixingVariance(rate);
    let naiveFalsePositives = 0;
    let sequentialFalsePositives = 0;
    for (let e = 0; e < experiments; e++) {
      const test = new SequentialTest({ tau2 });
      let [xb, nb, xv, nv] = [0, 0, 0, 0];
      let naiveRejected = false;
      let sequentialRejected = false;
      for (let k = 0; k < checkpoints; k++) {
        for (let i = 0; i < requestsPerCheckpoint; i++) {
          const converted = rand() < rate ? 1 : 0;
          if (rand() < canaryShare) {
            nv += 1;
            xv += converted;
          } else {
            nb += 1;
            xb += converted;
          }
        }
        if (twoProportionZTest(xb, nb, xv, nv).pValue < alpha) naiveRejected = true;
        if (test.update(xb, nb, xv, nv).pValue < alpha) sequentialRejected = true;
      }
      if (naiveRejected) naiveFalsePositives += 1;
      if (sequentialRejected) sequentialFalsePositives += 1;
    }
    const naiveRate = naiveFalsePositives / experiments;
    const sequentialRate = sequentialFalsePositives / experiments;
    assert.ok(sequentialRate <= alpha, `sequential false-positive rate ${sequentialRate}`);
    assert.ok(naiveRate > alpha, `peeked z-test false-positive rate ${naiveRate}`);
  });

  it('still detects a real 20% lift (10% → 12%, 50/50, 20 looks of 1,000 requests) in most of 200 seeded experiments', () => {
    const rand = mulberry32(11);
    const tau2 = defaultMixingVariance(0.1);
    let detected = 0;
    for (let e = 0; e < 200; e++) {
      const test = new SequentialTest({ tau2 });
      let [xb, nb, xv, nv] = [0, 0, 0, 0];
      for (let k = 0; k < 20; k++) {
        for (let i = 0; i < 1_000; i++) {
          if (rand() < 0.5) {
            nv += 1;
            xv += rand() < 0.12 ? 1 : 0;
          } else {
            nb += 1;
            xb += rand() < 0.1 ? 1 : 0;
          }
        }
        test.update(xb, nb, xv, nv);
      }
      if (test.pValue < 0.05) detected += 1;
    }
    assert.ok(detected / 200 > 0.7, `detected in ${detected} of 200`);
  });
});

describe("Welch's t-test on running moments (against scipy ttest_ind(equal_var=False))", () => {
  it('matches t, df, p, the difference and the interval to 1e-6 relative for every case', () => {
    for (const c of fixtures.welch) {
      const r = welchTTest(c.a, c.b, c.alpha);
      assertClose(r.t, c.t, 1e-6, 1e-12, `${c.label} t`);
      assertClose(r.df, c.df, 1e-6, 0, `${c.label} df`);
      assertClose(r.pValue, c.pValue, 1e-6, 1e-300, `${c.label} p`);
      assertClose(r.diff, c.diff, 1e-9, 1e-12, `${c.label} diff`);
      assertClose(r.ci95[0], c.ci[0], 1e-6, 1e-9, `${c.label} ci lo`);
      assertClose(r.ci95[1], c.ci[1], 1e-6, 1e-9, `${c.label} ci hi`);
    }
  });

  it('accumulates and merges moments to numpy mean and sum of squares (also around 1e9)', () => {
    for (const c of fixtures.moments) {
      const whole = Moments.of(c.values);
      const merged = Moments.of(c.values.slice(0, c.split)).merge(Moments.of(c.values.slice(c.split)));
      for (const m of [whole, merged]) {
        assert.equal(m.n, c.n);
        assertClose(m.mean, c.mean, 1e-12, 1e-12, `${c.label} mean`);
        assertClose(m.m2, c.m2, 1e-8, 1e-12, `${c.label} m2`);
      }
    }
  });

  it('returns t 0 and p 1 with fewer than two observations, and handles constant samples', () => {
    const r = welchTTest({ n: 1, mean: 3, m2: 0 }, { n: 10, mean: 4, m2: 9 });
    assert.equal(r.t, 0);
    assert.equal(r.pValue, 1);
    assert.ok(Number.isNaN(r.df));
    const constant = welchTTest({ n: 5, mean: 1, m2: 0 }, { n: 5, mean: 2, m2: 0 });
    assert.equal(constant.t, Infinity);
    assert.equal(constant.pValue, 0);
  });
});

describe('sample-ratio mismatch (against scipy chisquare)', () => {
  it('matches chi2 and p to 1e-6 relative for every case and flags p < 0.001', () => {
    for (const c of fixtures.srm) {
      const r = sampleRatioMismatch(c.observed, c.weights);
      assertClose(r.chi2, c.chi2, 1e-6, 1e-12, `${c.label} chi2`);
      assertClose(r.pValue, c.pValue, 1e-6, 1e-300, `${c.label} p`);
      assert.equal(r.mismatch, c.pValue < 0.001, `${c.label} mismatch`);
    }
  });

  it('flags a starved canary, ignores zero-weight arms, and has nothing to test with one weighted arm', () => {
    assert.equal(sampleRatioMismatch([1000, 0], [95, 5]).mismatch, true);
    assert.equal(sampleRatioMismatch([95_500, 4_500], [95, 5]).mismatch, true);
    assert.equal(sampleRatioMismatch([95_030, 4_970], [95, 5]).mismatch, false);
    assert.deepEqual(
      sampleRatioMismatch([9_480, 520, 300], [95, 5, 0]),
      sampleRatioMismatch([9_480, 520], [95, 5]),
    );
    assert.deepEqual(sampleRatioMismatch([1000, 10], [100, 0]), { chi2: 0, pValue: 1, mismatch: false });
    assert.deepEqual(sampleRatioMismatch([0, 0], [50, 50]), { chi2: 0, pValue: 1, mismatch: false });
    assert.throws(() => sampleRatioMismatch([1, 2], [1]), /arms/);
  });
});

describe('sample size and time to decision', () => {
  it('needs 57,763 per arm for 10% → 10.5% at α 0.05 and power 0.8 (57,762.65 rounded up)', () => {
    const options = { baselineRate: 0.1, minimumDetectableEffect: { absolute: 0.005 } };
    assertClose(requiredSampleSize(options), 57_762.65145412939, 1e-9, 0, 'unrounded');
    assert.equal(sampleSizePerArm(options), 57_763);
    assert.equal(
      sampleSizePerArm({ baselineRate: 0.1, minimumDetectableEffect: { relative: 0.05 } }),
      57_763,
    );
  });

  it('matches statsmodels samplesize_proportions_2indep_onetail for every case, unequal splits included', () => {
    for (const c of fixtures.power) {
      const n = requiredSampleSize({
        baselineRate: c.baselineRate,
        minimumDetectableEffect: { absolute: c.absolute },
        alpha: c.alpha,
        power: c.power,
        ratio: c.ratio,
      });
      assertClose(n, c.nRaw, 1e-9, 0, `p ${c.baselineRate} d ${c.absolute} ratio ${c.ratio}`);
    }
  });

  it('estimates the seconds until the canary has its sample, 0 when done, Infinity without traffic', () => {
    assert.equal(
      timeToDecision({ required: 57_763, observedPerArm: 7_763, requestsPerSecond: 100, share: 0.05 }),
      10_000,
    );
    assert.equal(
      timeToDecision({ required: 100, observedPerArm: 150, requestsPerSecond: 0, share: 0.05 }),
      0,
    );
    assert.equal(
      timeToDecision({ required: 100, observedPerArm: 50, requestsPerSecond: 0, share: 0.05 }),
      Infinity,
    );
  });

  it('rejects an effect that pushes the rate out of (0, 1)', () => {
    assert.throws(
      () => sampleSizePerArm({ baselineRate: 0.99, minimumDetectableEffect: { absolute: 0.02 } }),
      /smaller effect/,
    );
  });
});

describe('multiple-comparison corrections (against statsmodels multipletests)', () => {
  it('matches Holm and Benjamini–Hochberg adjusted p-values for every case', () => {
    for (const c of fixtures.multiple) {
      holmAdjust(c.pValues).forEach((p, i) => assertClose(p, c.holm[i] ?? NaN, 1e-12, 1e-15, `holm ${i}`));
      benjaminiHochbergAdjust(c.pValues).forEach((p, i) =>
        assertClose(p, c.bh[i] ?? NaN, 1e-12, 1e-15, `bh ${i}`),
      );
    }
  });

  it('leaves NaN p-values out of the family', () => {
    const adjusted = holmAdjust([0.01, NaN, 0.04]);
    assert.ok(Number.isNaN(adjusted[1]));
    assert.deepEqual([adjusted[0], adjusted[2]], holmAdjust([0.01, 0.04]));
  });
});
