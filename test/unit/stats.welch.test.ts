import assert from 'node:assert/strict';
import { Moments, welchTTest } from '../../src/core/stats';
import { assertClose, fixtures } from '../harness/statsFixtures';

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
