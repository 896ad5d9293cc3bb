import { strict as assert } from 'node:assert';
import { pointRadius } from '../../webview/series';

describe('dashboard charts', () => {
  it('draws a point for a series with a single value, and none for a line', () => {
    assert.equal(pointRadius([]), 0);
    assert.equal(pointRadius([{ x: 1, y: 12 }]), 3, 'a run inside one 10 s bucket is visible');
    assert.equal(
      pointRadius([
        { x: 1, y: NaN },
        { x: 2, y: 4 },
        { x: 3, y: NaN },
      ]),
      3,
      'gaps around the one value do not count',
    );
    assert.equal(
      pointRadius([
        { x: 1, y: 4 },
        { x: 2, y: 5 },
      ]),
      0,
    );
    assert.equal(pointRadius([{ x: 1, y: NaN }]), 0);
  });
});
