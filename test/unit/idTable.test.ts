import assert from 'node:assert/strict';
import { GenerationalMap } from '../../src/core/analysis/generations';
import { FeedbackMemory } from '../../src/core/analysis/feedbackMemory';
import { IdObjects, IdScalars, IdSet, PredictionMemory } from '../../src/core/analysis/idMemories';
import { IdTable } from '../../src/core/analysis/idTable';
import { encodeState, restoreState } from '../../src/core/analysis/stateCodec';
import { seededRandom } from '../../src/core/stats/random';

// The id memories over one shared table (src/core/analysis/idTable.ts) against one
// GenerationalMap per memory, the structure they replace: seeded random streams of sets and
// gets, with ids of the router's shape and others, reused near and far, through many sweeps and
// growths of the table and through checkpoints. Every read must agree.

/** One memory of each kind and its reference map, on `table`. */
function memories(table: IdTable, sizes: number[]) {
  return {
    scalars: new IdScalars(table, sizes[0]!),
    scalarsRef: new GenerationalMap<string, number | string>(sizes[0]!),
    set: new IdSet(table, sizes[1]!),
    setRef: new GenerationalMap<string, true>(sizes[1]!),
    objects: new IdObjects<{ n: number }>(table, sizes[2]!),
    objectsRef: new GenerationalMap<string, { n: number }>(sizes[2]!),
    predictions: new PredictionMemory(table, sizes[3]!),
    predictionsRef: new GenerationalMap<string, object>(sizes[3]!),
    feedback: new FeedbackMemory(table, sizes[4]!),
    feedbackRef: new GenerationalMap<string, number>(sizes[4]!),
  };
}

function run(seed: number, steps: number, checkpointEvery = 0): { reads: number; table: number } {
  const random = seededRandom(seed);
  const sizes = [1, 2, 3, 4, 5].map(() => 1 + Math.floor(random() * 300));
  let table = new IdTable();
  let m = memories(table, sizes);
  const ids: string[] = [];
  const hex = (n: number, w: number) => Math.floor(n).toString(16).padStart(w, '0').slice(-w);
  const newId = (i: number): string => {
    const r = random();
    if (r < 0.6)
      return `${hex(random() * 2 ** 32, 8)}-${hex(random() * 65536, 4)}-4${hex(random() * 4096, 3)}-${hex(random() * 65536, 4)}-${hex(random() * 2 ** 32, 8)}${hex(i, 4)}`;
    if (r < 0.7) return `${hex(i, 8)}-0000-4000-8000-000000000000`.toUpperCase(); // not packed: upper case
    return r < 0.95 ? `req-${i}` : `é-${i}-ü`;
  };
  const pick = (): string => {
    const r = random();
    if (ids.length === 0 || r < 0.3) {
      ids.push(newId(ids.length));
      return ids.at(-1)!;
    }
    const reach = r < 0.8 ? 50 : r < 0.95 ? 1000 : ids.length;
    return ids[Math.max(0, ids.length - 1 - Math.floor(random() * reach))]!;
  };
  const metrics = ['conversion', 'revenue', 'clicks'];
  let reads = 0;
  for (let step = 0; step < steps; step++) {
    const id = pick();
    const what = Math.floor(random() * 5);
    const write = random() < 0.5;
    if (what === 0) {
      if (write) {
        const v = random() < 0.2 ? `class-${Math.floor(random() * 3)}` : Math.floor(random() * 5);
        m.scalars.set(id, v);
        m.scalarsRef.set(id, v);
      } else assert.equal(m.scalars.get(id), m.scalarsRef.get(id), `scalars ${id} at ${step}`);
    } else if (what === 1) {
      if (write) {
        m.set.add(id);
        m.setRef.set(id, true);
      } else assert.equal(m.set.has(id), m.setRef.get(id) === true, `set ${id} at ${step}`);
    } else if (what === 2) {
      if (write) {
        const o = { n: step };
        m.objects.set(id, o);
        m.objectsRef.set(id, o);
      } else assert.deepEqual(m.objects.get(id), m.objectsRef.get(id), `objects ${id} at ${step}`);
    } else if (what === 3) {
      if (write) {
        const e = {
          variant: Math.floor(random() * 3),
          predict: random() < 0.3 ? 'yes' : random() < 0.9 ? random() : undefined,
          proba: random() < 0.8 ? random() : undefined,
          ...(random() < 0.5 ? { label: random() < 0.5 ? 1 : 'no' } : {}),
        };
        m.predictions.set(id, e);
        m.predictionsRef.set(id, e);
      } else
        assert.deepEqual(m.predictions.get(id), m.predictionsRef.get(id), `predictions ${id} at ${step}`);
    } else {
      const metric = metrics[Math.floor(random() * metrics.length)]!;
      if (write) {
        const v = Math.round(random() * 100) / 10;
        m.feedback.set(metric, id, v);
        m.feedbackRef.set(`${metric}\u0000${id}`, v);
      } else
        assert.equal(m.feedback.get(metric, id), m.feedbackRef.get(`${metric}\u0000${id}`), `feedback ${id}`);
    }
    if (!write) reads++;
    if (checkpointEvery && step % checkpointEvery === checkpointEvery - 1) {
      // Through JSON into fresh objects, the reference maps carried over as they are.
      const saved = JSON.parse(JSON.stringify(encodeState(m)));
      table = new IdTable();
      const fresh = memories(table, sizes);
      m = restoreState(fresh, saved, {}, [GenerationalMap]);
    }
  }
  return { reads, table: table.size };
}

describe('the id table and its memories forget exactly as one GenerationalMap per memory did', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 60,000 random sets and gets on five memories of random sizes`, () => {
      const { reads, table } = run(seed, 60_000);
      console.log(`      ${reads} reads agreed; ${table} ids in the table at the end`);
      assert.ok(reads > 25_000);
      assert.ok(table < 4000, `the table holds only what the memories hold (${table})`);
    });
  }

  for (const [seed, every] of [
    [4, 7_000],
    [5, 3_001],
    [6, 997],
  ] as const)
    it(`seed ${seed}: also through a checkpoint every ${every} steps`, () => {
      const { reads } = run(seed, 40_000, every);
      assert.ok(reads > 15_000);
    });

  it('finds ids by their exact text: a UUID in upper case, or with other bytes, is another id', () => {
    const table = new IdTable();
    const s = new IdScalars(table, 10);
    const id = '4f60b3a0-a70e-4c63-bef5-000000000001';
    s.set(id, 1);
    s.set(id.toUpperCase(), 2);
    s.set(`${id} `, 3);
    assert.deepEqual(
      [s.get(id), s.get(id.toUpperCase()), s.get(`${id} `), s.get(id.replace('1', '2'))],
      [1, 2, 3, undefined],
    );
    assert.throws(() => new IdScalars(table, 0), /at least 1/);
  });
});
