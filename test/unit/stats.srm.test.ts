import assert from 'node:assert/strict';
import { sampleRatioMismatch } from '../../src/core/stats';
import { assertClose, fixtures } from '../harness/statsFixtures';

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
