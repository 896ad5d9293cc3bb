import assert from 'node:assert/strict';
import { requiredSampleSize, sampleSizePerArm, timeToDecision } from '../../src/core/stats';
import { assertClose, fixtures } from '../harness/statsFixtures';

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
