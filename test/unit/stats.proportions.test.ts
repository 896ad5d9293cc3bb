import assert from 'node:assert/strict';
import {
  betaSuperiorityExact,
  betaSuperiorityQuadrature,
  EXACT_MAX_TERMS,
} from '../../src/core/stats/betaSuperiority';
import {
  chanceToBeatBaseline,
  newcombeDiffCI,
  relativeLiftCI,
  twoProportionZTest,
  wilsonInterval,
} from '../../src/core/stats';
import { assertClose, fixtures } from '../harness/statsFixtures';

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
