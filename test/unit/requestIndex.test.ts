import assert from 'node:assert/strict';
import { encodeState, restoreState } from '../../src/core/analysis/stateCodec';
import { seededRandom } from '../../src/core/stats/random';
import { BloomFilter, RequestIndex, type Attribution } from '../../src/router/requestIndex';

// The router's request index (src/router/requestIndex.ts) keeps its newest ids on the compact id
// table. Here it is checked against the structure it replaced, written out plainly: two Maps of
// capacity / 2 ids, the current one becoming the previous one when it fills up. Seeded random
// streams of remembers and reads, with router-shaped and other ids, reused near and far, through
// many generations and through checkpoints: every read and every size must agree.

class TwoMaps {
  private current = new Map<string, Attribution>();
  private previous = new Map<string, Attribution>();
  constructor(private readonly capacity: number) {}
  remember(id: string, experiment: string, variant: string, run?: string): void {
    this.current.set(id, run === undefined ? { experiment, variant } : { experiment, variant, run });
    if (this.current.size >= Math.max(1, this.capacity >> 1)) {
      this.previous = this.current;
      this.current = new Map();
    }
  }
  recent(id: string): Attribution | undefined {
    return this.current.get(id) ?? this.previous.get(id);
  }
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

const newIndex = (capacity: number): RequestIndex =>
  new RequestIndex(
    capacity,
    1 << 20,
    () => [],
    () => Promise.resolve(),
  );

/** A checkpoint through JSON, restored into a fresh index (as src/router/checkpoints.ts does). */
function reopen(index: RequestIndex, capacity: number): RequestIndex {
  const text = JSON.stringify(encodeState({ index }));
  return restoreState({ index: newIndex(capacity) }, JSON.parse(text), {}, [BloomFilter]).index;
}

function run(seed: number, steps: number, checkpointEvery = 0) {
  const random = seededRandom(seed);
  const capacity = 2 + Math.floor(random() * 400);
  let index = newIndex(capacity);
  const ref = new TwoMaps(capacity);
  const hex = (n: number, w: number) => Math.floor(n).toString(16).padStart(w, '0').slice(-w);
  const newId = (i: number): string => {
    const r = random();
    if (r < 0.7)
      return `${hex(random() * 2 ** 32, 8)}-${hex(random() * 65536, 4)}-4${hex(random() * 4096, 3)}-${hex(random() * 65536, 4)}-${hex(random() * 2 ** 32, 8)}${hex(i, 4)}`;
    if (r < 0.8) return `${hex(random() * 2 ** 32, 8)}-${hex(random() * 65536, 4)}`.toUpperCase();
    return `req-${i}`;
  };
  const ids: string[] = [];
  const pick = (): string => {
    const r = random();
    if (ids.length === 0 || r < 0.5) {
      const id = newId(ids.length);
      ids.push(id);
      return id;
    }
    // Near (still held) or far (forgotten long ago) reuse.
    const back = r < 0.85 ? Math.floor(random() * capacity) : Math.floor(random() * ids.length);
    return ids[Math.max(0, ids.length - 1 - back)]!;
  };
  let reads = 0;
  let hits = 0;
  for (let step = 0; step < steps; step++) {
    const id = pick();
    if (random() < 0.6) {
      const experiment = `exp${Math.floor(random() * 3)}`;
      const variant = `v${Math.floor(random() * 3)}`;
      const run = random() < 0.5 ? undefined : `run-${Math.floor(random() * 2)}`;
      index.remember(id, experiment, variant, run);
      ref.remember(id, experiment, variant, run);
    } else {
      const want = ref.recent(id);
      assert.deepEqual(index.recent(id), want, `seed ${seed} step ${step}: recent(${id})`);
      assert.equal(index.mayHold(id), want !== undefined, `seed ${seed} step ${step}: mayHold(${id})`);
      reads++;
      if (want) hits++;
    }
    assert.equal(index.size, ref.size, `seed ${seed} step ${step}: size`);
    if (checkpointEvery > 0 && step % checkpointEvery === checkpointEvery - 1)
      index = reopen(index, capacity);
  }
  // Every id ever seen, held or forgotten, reads the same at the end.
  for (const id of ids)
    assert.deepEqual(index.recent(id), ref.recent(id), `seed ${seed}: recent(${id}) at the end`);
  return { reads, hits, generations: Math.floor(ids.length / Math.max(1, capacity >> 1)), capacity };
}

describe('router request index on the id table', () => {
  it('reads as two Maps of capacity / 2 ids did, through many generations (seeded)', () => {
    let reads = 0;
    let hits = 0;
    let generations = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = run(seed, 20_000);
      reads += r.reads;
      hits += r.hits;
      generations += r.generations;
    }
    console.log(
      `      ${reads} reads, ${((100 * hits) / reads).toFixed(1)}% held, ~${generations} generations`,
    );
    assert.ok(hits > reads / 10 && hits < reads, 'both held and forgotten ids were read');
    assert.ok(generations > 1000, 'many generations went by');
  });

  it('reads the same after checkpoints restored into a fresh index (seeded)', () => {
    let reads = 0;
    for (let seed = 101; seed <= 110; seed++) reads += run(seed, 10_000, 997).reads;
    console.log(`      ${reads} reads across checkpoints`);
  });

  it('keeps the lookup of ids that only the Bloom filters know', async () => {
    const index = newIndex(4);
    for (let i = 0; i < 10; i++) index.remember(`id-${i}`, 'e', i % 2 ? 'a' : 'b');
    index.written(0, ['id-0', 'id-1']);
    assert.equal(index.recent('id-0'), undefined, 'forgotten from memory');
    assert.equal(index.mayHold('id-0'), true, 'a segment may hold it');
    assert.equal(index.mayHold('never'), false);
    assert.deepEqual(index.recent('id-9'), { experiment: 'e', variant: 'a' });
    assert.deepEqual(await index.lookup('id-8'), { experiment: 'e', variant: 'b' });
    assert.equal(index.size, 2, 'the previous generation of capacity / 2; the current one is empty');
  });

  it('writes a checkpoint much smaller than the ids as strings', () => {
    const index = newIndex(200_000);
    for (let i = 0; i < 150_000; i++)
      index.remember(
        `4f60b3a0-a70e-4c63-bef5-${String(i).padStart(12, '0')}`,
        'propensity',
        i % 20 ? 'v1' : 'v2',
      );
    const bytes = JSON.stringify(encodeState({ index })).length;
    console.log(`      150000 ids: ${(bytes / 1e6).toFixed(2)} MB of checkpoint`);
    assert.ok(bytes < 150_000 * 36, `${bytes} bytes: less than the ids' text alone`);
  });
});
