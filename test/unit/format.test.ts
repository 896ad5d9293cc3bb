import assert from 'node:assert/strict';
import {
  DASH,
  ago,
  count,
  exact,
  interval,
  ms,
  pValue,
  percent,
  plain,
  shares,
  shortPercent,
  signedPercent,
  signedPoints,
  splitText,
} from '../../src/shared/format';
import { withAlpha } from '../../webview/colour';

describe('webview formatting: numbers for people', () => {
  it('prints p-values without exponents, with two significant digits', () => {
    assert.equal(pValue(4.123e-4), '0.0004');
    assert.equal(pValue(0.0042), '0.0042');
    assert.equal(pValue(0.01237), '0.012');
    assert.equal(pValue(0.26281), '0.26');
    assert.equal(pValue(1), '1.00');
    assert.equal(pValue(3e-9), '<0.0001');
    assert.equal(pValue(0), '<0.0001');
  });

  it('prints "—" for what the report could not compute (NaN in memory, null after JSON)', () => {
    for (const f of [pValue, percent, signedPercent, count, ms, plain, signedPoints])
      for (const missing of [NaN, null, undefined, Infinity, 'x'])
        assert.equal(f(missing), DASH, `${f.name}(${missing})`);
    assert.equal(interval([NaN, 0.1]), DASH);
    assert.equal(interval(null), DASH);
  });

  it('prints lifts signed, in percent, with a real minus sign', () => {
    assert.equal(signedPercent(0.18888), '+18.9%');
    assert.equal(signedPercent(-0.05), '\u22125.0%');
    assert.equal(signedPercent(0.00001), '0.0%');
    assert.equal(interval([0.039, 0.361]), '(+3.9%, +36.1%)');
    assert.equal(signedPoints(0.00856), '+0.86 pp');
  });

  it('keeps the significant digits of small shares and rates', () => {
    assert.equal(percent(0.189), '18.9%');
    assert.equal(percent(0.0607), '6.07%');
    assert.equal(percent(0.0014), '0.14%');
    assert.equal(percent(0.00014), '0.014%');
    assert.equal(percent(0), '0.0%');
    assert.equal(percent(0.9941, 0), '99%');
    assert.equal(shortPercent(0.01), '1%');
    assert.equal(shortPercent(0.01434), '1.43%');
  });

  it('groups thousands in counts', () => {
    assert.equal(count(1940), '1,940');
    assert.equal(count(1234567), '1,234,567');
    assert.equal(count(12.6), '13');
    assert.equal(count(-1940), '\u22121,940');
  });

  it('prints latencies in the unit that reads best', () => {
    assert.equal(ms(0.423), '0.42 ms');
    assert.equal(ms(4.23), '4.2 ms');
    assert.equal(ms(22.408), '22.4 ms');
    assert.equal(ms(123.4), '123 ms');
    assert.equal(ms(1234), '1.2 s');
    assert.equal(ms(-1), DASH);
  });

  it('prints statistics with three significant digits and no exponent', () => {
    assert.equal(plain(0.067234), '0.0672');
    assert.equal(plain(12.53), '12.5');
    assert.equal(plain(0.00001234), '0.000012');
    assert.equal(plain(123456), '123,456');
  });

  it('keeps full precision for tooltips', () => {
    assert.equal(exact(0.0004123456789), '0.0004123456789');
    assert.equal(exact(NaN), 'not computed (no data)');
    assert.equal(exact(null), 'not computed (no data)');
  });

  it('describes a split as shares of its total', () => {
    assert.deepEqual(shares({ v1: 3, v2: 1 }), { v1: 0.75, v2: 0.25 });
    assert.deepEqual(shares({ v1: 0, v2: 0 }), { v1: 0, v2: 0 });
    assert.equal(splitText({ v2: 5, v1: 95 }, ['v1', 'v2']), 'v1 95% · v2 5%');
    assert.equal(splitText({ a: 1, b: 2 }), 'a 33.3% · b 66.7%');
  });

  it('says how long ago a report was made', () => {
    assert.equal(ago(1000, 1500), 'just now');
    assert.equal(ago(0, 12_000), '12 s ago');
    assert.equal(ago(0, 180_000), '3 min ago');
    assert.equal(ago(0, 2 * 3600_000), '2 h ago');
  });

  it('makes theme colours translucent for chart fills', () => {
    assert.equal(withAlpha('#3794ff', 0.5), 'rgba(55, 148, 255, 0.5)');
    assert.equal(withAlpha('#fff', 0.25), 'rgba(255, 255, 255, 0.25)');
    assert.equal(withAlpha('#ccccccb3', 0.5), 'rgba(204, 204, 204, 0.351)');
    assert.equal(withAlpha('rgb(1, 2, 3)', 0.4), 'rgba(1, 2, 3, 0.4)');
    assert.equal(withAlpha('rgba(1, 2, 3, 0.5)', 0.5), 'rgba(1, 2, 3, 0.25)');
    assert.equal(withAlpha('hsl(10 20% 30%)', 0.3), 'color-mix(in srgb, hsl(10 20% 30%) 30%, transparent)');
  });
});
