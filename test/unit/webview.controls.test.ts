import assert from 'node:assert/strict';
import { editableSplit, sameSplit, withCandidateShare } from '../../webview/panels/controls/shape';
import { report, variant } from './webviewReportFixture';

describe('webview shaping: the weights the controls send', () => {
  it('starts from the current split in whole percent adding up to 100', () => {
    const r = report({
      variants: [
        variant('v1', 'baseline', { weight: 2 }),
        variant('v2', 'candidate', { weight: 1 }),
        variant('v3', 'candidate', { weight: 1 }),
      ],
    });
    assert.deepEqual(editableSplit(r), { v2: 25, v3: 25, v1: 50 });
  });

  it('moves a candidate and gives the rest to the baseline, never more than the others leave', () => {
    const split = { v1: 50, v2: 25, v3: 25 };
    assert.deepEqual(withCandidateShare(split, 'v1', 'v2', 40), { v1: 35, v2: 40, v3: 25 });
    assert.deepEqual(withCandidateShare(split, 'v1', 'v2', 90), { v1: 0, v2: 75, v3: 25 });
    assert.deepEqual(withCandidateShare(split, 'v1', 'v2', -5), { v1: 75, v2: 0, v3: 25 });
    assert.deepEqual(withCandidateShare(split, 'v1', 'v1', 10), split);
  });

  it('compares splits by their shares, not their raw weights', () => {
    assert.ok(sameSplit({ v1: 95, v2: 5 }, { v1: 19, v2: 1 }));
    assert.ok(!sameSplit({ v1: 95, v2: 5 }, { v1: 75, v2: 25 }));
  });
});
