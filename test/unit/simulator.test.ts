import assert from 'node:assert/strict';
import { applyDrift, parseDriftSpec } from '../../src/simulator/driftInjection';
import { converts, DEFAULT_OUTCOME } from '../../src/simulator/outcome';
import { seededRandom } from '../../src/core/stats/random';
import { v2Request } from '../../src/simulator/simulator';

describe('traffic simulator pieces', () => {
  it('parses drift specs and rejects malformed ones with the expected forms', () => {
    assert.deepEqual(parseDriftSpec('basket_value=shift:+60'), {
      feature: 'basket_value',
      kind: 'shift',
      amount: 60,
    });
    assert.deepEqual(parseDriftSpec('age=scale:1.5'), { feature: 'age', kind: 'scale', factor: 1.5 });
    assert.deepEqual(parseDriftSpec('channel=mix:web=0.7,app=0.3'), {
      feature: 'channel',
      kind: 'mix',
      weights: [
        ['web', 0.7],
        ['app', 0.3],
      ],
    });
    for (const bad of ['age', 'age=', 'age=shift:x', 'age=grow:2', 'channel=mix:web=-1']) {
      assert.throws(() => parseDriftSpec(bad), /expected FEATURE=shift:\+N/, bad);
    }
  });

  it('applies drift to a copy, keeping integer columns integers', () => {
    const row = { age: 40, basket_value: 12.5, channel: 'web' };
    const random = seededRandom(1);
    assert.deepEqual(applyDrift(row, parseDriftSpec('age=scale:1.25'), random), { ...row, age: 50 });
    assert.deepEqual(applyDrift(row, parseDriftSpec('basket_value=shift:+0.25'), random), {
      ...row,
      basket_value: 12.75,
    });
    assert.equal(row.age, 40, 'the original row is untouched');
    const mixed = Array.from(
      { length: 2000 },
      () => applyDrift(row, parseDriftSpec('channel=mix:app=0.8,store=0.2'), random).channel,
    );
    const app = mixed.filter((c) => c === 'app').length / mixed.length;
    assert.ok(Math.abs(app - 0.8) < 0.03, `app share ${app}`);
    assert.throws(() => applyDrift(row, parseDriftSpec('channel=shift:+1'), random), /use mix:/);
  });

  it('converts only offered customers, mostly those whose label says so', () => {
    const random = seededRandom(7);
    const n = 20_000;
    let positives = 0;
    let negatives = 0;
    for (let i = 0; i < n; i++) {
      assert.deepEqual(converts(DEFAULT_OUTCOME, 0.49, 1, random), { offered: false, converted: false });
      if (converts(DEFAULT_OUTCOME, 0.5, 1, random).converted) positives++;
      if (converts(DEFAULT_OUTCOME, 0.9, 0, random).converted) negatives++;
    }
    assert.ok(Math.abs(positives / n - 0.9) < 0.01);
    assert.ok(Math.abs(negatives / n - 0.03) < 0.005);
  });

  it('builds a V2 request with one typed input per feature column (MLServer pandas codec)', () => {
    const body = v2Request(
      { age: 41, basket_value: 9.5, channel: 'app' },
      ['age', 'basket_value', 'channel'],
      {
        age: 'INT64',
        basket_value: 'FP64',
        channel: 'BYTES',
      },
    );
    assert.deepEqual(body, {
      parameters: { content_type: 'pd' },
      inputs: [
        { name: 'age', shape: [1], datatype: 'INT64', data: [41] },
        { name: 'basket_value', shape: [1], datatype: 'FP64', data: [9.5] },
        { name: 'channel', shape: [1], datatype: 'BYTES', data: ['app'] },
      ],
      outputs: [{ name: 'predict_proba' }],
    });
  });

  it('draws the same sequence from the same seed', () => {
    const a = seededRandom(123);
    const b = seededRandom(123);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 5 }, () => b()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });
});
