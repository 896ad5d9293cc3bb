import assert from 'node:assert/strict';
import { srmBanner } from '../../webview/panels/notices/shape';
import { report, variant } from './webviewReportFixture';

describe('webview shaping: SRM banner', () => {
  it('shows the observed and configured split when they do not match', () => {
    const r = report({
      srm: { chi2: 12.5, pValue: 0.0004, mismatch: true },
      variants: [
        variant('v1', 'baseline', { observedShare: 0.931 }),
        variant('v2', 'candidate', { observedShare: 0.069 }),
      ],
    });
    assert.equal(
      srmBanner(r),
      "SRM p = 0.0004: observed split 93.1/6.9 does not match 95/5 — results can't be trusted until the routing is fixed",
    );
  });

  it('stays away when the split matches', () => {
    assert.equal(srmBanner(report()), undefined);
  });
});
