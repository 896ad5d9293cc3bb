import assert from 'node:assert/strict';
import { RecentKeys } from '../../src/core/analysis/recentKeys';
import { encodeState, restoreState } from '../../src/core/analysis/stateCodec';
import { seededRandom } from '../../src/core/stats/random';

// The users' table of ./units.ts (src/core/analysis/recentKeys.ts) against the two Maps it
// replaced, written out plainly: seeded streams of lookups and sets of new keys (units.ts sets a
// user only after a miss), keys reused near and far, through many generations, sweeps and
// growths, and through checkpoints. Every read and the count of dropped keys must agree.

class TwoMaps<V> {
  private current = new Map<string, V>();
  private older = new Map<string, V>();
  dropped = 0;

  constructor(private readonly perGeneration: number) {}

  get(key: string): V | undefined {
    const hit = this.current.get(key);
    if (hit !== undefined) return hit;
    const old = this.older.get(key);
    if (old === undefined) return undefined;
    this.older.delete(key);
    this.set(key, old);
    return old;
  }

  set(key: string, value: V): void {
    this.current.set(key, value);
    if (this.current.size >= this.perGeneration) {
      this.dropped += this.older.size;
      this.older = this.current;
      this.current = new Map();
    }
  }
}

function run(seed: number, steps: number, checkpointEvery = 0): number {
  const random = seededRandom(seed);
  const perGeneration = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 600));
  const ref = new TwoMaps<{ n: number }>(perGeneration);
  let keys = new RecentKeys<{ n: number }>(perGeneration);
  const seen: string[] = [];
  let reads = 0;
  for (let i = 0; i < steps; i++) {
    const r = random();
    // A new key, one seen lately, or one seen long ago (likely forgotten).
    const key =
      r < 0.3 || seen.length === 0
        ? `${Math.floor(random() * 1e9).toString(16)}-${i}`
        : r < 0.8
          ? seen[seen.length - 1 - Math.floor(random() * Math.min(seen.length, 2 * perGeneration))]!
          : seen[Math.floor(random() * seen.length)]!;
    seen.push(key);
    const expected = ref.get(key);
    const got = keys.get(key);
    assert.equal(got, expected, `seed ${seed} step ${i}: get ${key}`);
    reads++;
    if (expected === undefined) {
      const value = { n: i };
      ref.set(key, value);
      keys.set(key, value);
    }
    assert.equal(keys.dropped, ref.dropped, `seed ${seed} step ${i}: dropped`);
    if (checkpointEvery && i % checkpointEvery === checkpointEvery - 1) {
      // Values are compared by identity above: restore them as the same objects.
      const fresh = new RecentKeys<{ n: number }>(perGeneration);
      const values = new Map<number, { n: number }>();
      const state = keys.toCheckpoint();
      state.values.forEach((v) => values.set(v.n, v));
      restoreState(fresh, encodeState(keys));
      const restored = fresh.toCheckpoint();
      assert.deepEqual(restored, state, `seed ${seed} step ${i}: checkpoint`);
      restored.values.forEach((v, j) => (restored.values[j] = values.get(v.n)!));
      fresh.fromCheckpoint(restored);
      keys = fresh;
    }
  }
  return reads;
}

describe('recent keys (the users of a sticky experiment)', () => {
  it('reads and drops exactly as two Maps of two generations do (40 seeded streams)', () => {
    let reads = 0;
    for (let seed = 1; seed <= 40; seed++) reads += run(seed, 6_000);
    assert.ok(reads === 240_000);
  });

  it('agrees through checkpoints', () => {
    for (let seed = 100; seed < 110; seed++) run(seed, 4_000, 997);
  });

  it('lets forgotten keys go: slots and values stay about three generations, however many keys pass', () => {
    const keys = new RecentKeys<{ n: number }>(100);
    const held = (): { capacity: number; values: unknown[] } =>
      keys as unknown as { capacity: number; values: unknown[] };
    let most = 0;
    for (let i = 0; i < 200_000; i++) {
      keys.set(`user-${i}`, { n: i });
      if (i % 37 === 0) most = Math.max(most, held().values.filter((v) => v !== undefined).length);
    }
    assert.equal(keys.dropped, 200_000 - 100); // all but the older generation (the current one just started)
    assert.ok(held().capacity <= 1024, `capacity ${held().capacity}`);
    assert.ok(most <= 300, `${most} values held`);
  });

  it('refuses a generation of no keys', () => {
    assert.throws(() => new RecentKeys(0), RangeError);
  });
});
