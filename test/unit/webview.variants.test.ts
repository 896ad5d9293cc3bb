import assert from 'node:assert/strict';
import { headerSplit } from '../../webview/panels/header/shape';
import { variantColours, variantOrder } from '../../webview/variants';
import { report, variant } from './webviewReportFixture';

describe('webview shaping: variants, colours, header', () => {
  it('puts the baseline first, neutral, and gives candidates and the shadow their own colours', () => {
    const r = report({
      variants: [variant('v2', 'candidate'), variant('v1', 'baseline'), variant('v3', 'candidate')],
      shadow: { variant: 'v4', requests: 10, agreement: 0.9 },
    });
    assert.deepEqual(variantOrder(r), ['v1', 'v2', 'v3']);
    assert.deepEqual(
      [...variantColours(r)],
      [
        ['v1', 'neutral'],
        ['v2', 'blue'],
        ['v3', 'orange'],
        ['v4', 'purple'],
      ],
    );
    assert.equal(headerSplit(r), 'v1 90.5% · v2 4.8% · v3 4.8% · v4 shadow');
  });
});
