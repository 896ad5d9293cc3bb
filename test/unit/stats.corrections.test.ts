import assert from 'node:assert/strict';
import { benjaminiHochbergAdjust, holmAdjust } from '../../src/core/stats';
import { assertClose, fixtures } from '../harness/statsFixtures';

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
