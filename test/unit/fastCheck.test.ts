import assert from 'node:assert/strict';
import { shapeOf } from '../../src/core/analysis/events';
import { fastEvent } from '../../src/core/log/fastCheck';
import { checkEvent, checkEventSchema } from '../../src/core/log/eventSchema';
import { seededRandom } from '../../src/core/stats/random';

const REQUEST = {
  type: 'request',
  id: 'r-1',
  ts: 1_764_000_000_000,
  experiment: 'propensity',
  variant: 'v1',
  latencyMs: 3.5,
  status: 200,
  assignment: 'sticky',
  user: '00000000000000ab',
  run: 'run-1',
  inputs: { age: 31, channel: 'web' },
  outputs: { predict: 1, proba: 0.7 },
  steps: [{ name: 'pre', latencyMs: 1, status: 200 }],
};
const FEEDBACK = { type: 'feedback', id: 'r-1', ts: 1, experiment: 'e', metric: 'conversion', value: 1 };
const LABEL = { type: 'label', id: 'r-1', ts: 1, experiment: 'e', label: 'yes', run: 'x' };

/** Odd values a field may hold in a poisoned line. */
const ODD: unknown[] = [
  undefined,
  null,
  '',
  'x',
  0,
  -1,
  1.5,
  2 ** 60,
  8.64e15 + 1,
  -8.64e15 - 1,
  NaN,
  Infinity,
  true,
  [],
  [1],
  {},
  { a: null },
  { a: [] },
  { predict: null },
  { proba: 'x' },
  [{ name: '', latencyMs: 1, status: 1 }],
  [{ name: 'a', latencyMs: -1, status: 200 }],
  [{ name: 'a', latencyMs: 1, status: 1.5 }],
  'grpc',
  'http',
];

describe('the fast event check (replay and analyze at disk speed)', () => {
  it('accepts the common lines the full checks accept', () => {
    for (const e of [REQUEST, FEEDBACK, LABEL, { ...REQUEST, steps: undefined, shadow: true }]) {
      const clean = JSON.parse(JSON.stringify(e)) as unknown;
      assert.equal(fastEvent(clean), clean, JSON.stringify(e));
      assert.ok(checkEventSchema(clean).ok);
      assert.ok(shapeOf(JSON.stringify(e)).ok);
    }
  });

  it('never accepts a line that zod or analyze would refuse (every field set to every odd value, and seeded mixes)', () => {
    const random = seededRandom(20);
    let accepted = 0;
    let refused = 0;
    const check = (e: Record<string, unknown>): void => {
      const fast = fastEvent(e);
      const zod = checkEventSchema(e);
      const shape = shapeOf(JSON.stringify(e, (_k, v: unknown) => v));
      if (fast) {
        accepted++;
        assert.ok(zod.ok, `fast check accepted what zod refuses: ${JSON.stringify(e)}`);
        // JSON cannot hold NaN or Infinity: those cases only reach the shape check as null.
        if (Object.values(e).every((v) => typeof v !== 'number' || Number.isFinite(v)))
          assert.ok(shape.ok, `fast check accepted what analyze refuses: ${JSON.stringify(e)}`);
      } else refused++;
      // Through checkEvent, the verdict is zod's whichever path decides.
      assert.equal(checkEvent(e).ok, zod.ok);
    };
    for (const base of [REQUEST, FEEDBACK, LABEL])
      for (const key of [
        ...Object.keys(REQUEST),
        'label',
        'metric',
        'value',
        'shadow',
        'protocol',
        'modelInputs',
        'error',
        'debugHeader',
      ])
        for (const odd of ODD) check({ ...base, [key]: odd });
    for (let i = 0; i < 20_000; i++) {
      const base = [REQUEST, FEEDBACK, LABEL][i % 3]!;
      const e: Record<string, unknown> = { ...base };
      const keys = Object.keys(REQUEST).concat('label', 'value', 'metric', 'shadow', 'protocol');
      for (let k = 0; k < 3; k++)
        e[keys[Math.floor(random() * keys.length)]!] = ODD[Math.floor(random() * ODD.length)];
      check(e);
    }
    console.log(`      fast check: ${accepted} accepted, ${refused} left to zod`);
    assert.ok(accepted > 1000 && refused > 1000);
  });
});
