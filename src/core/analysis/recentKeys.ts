/**
 * The most recently used keys (a sticky experiment's users, ./units.ts) → a value: two
 * generations of `perGeneration` keys, a hit in the older one moves the key to the current one,
 * and when the current one fills the older one is forgotten whole (its size is counted in
 * `dropped`). Exactly what two `Map`s did (`test/unit/recentKeys.test.ts` checks it against them).
 *
 * Hand-rolled for the same reason as ./idTable.ts: looking a user up in a `Map` of a hundred
 * thousand fresh strings (each line's user is a new string) was 9% of a cold `analyze` at 10^6
 * events, mostly cache misses in the map's buckets, entries and key strings. Here a key's hash
 * is kept beside its slot, so a probe reads the key string only when the hashes agree; keys live
 * in slots stamped with the generation they were last set in, so forgetting a generation is one
 * increment. The slots of forgotten keys are freed (their values let go) once a generation's
 * worth of them has gathered, so the table holds at most about three generations, where the two
 * Maps held two; and when the slots run out.
 */
import { hashString } from './idTable';
import type { CompactState } from './stateCodec';

const INITIAL_CAPACITY = 1024;

/** The checkpoint (CompactState): the keys held, their values, and which are in the current generation. */
interface RecentKeysState<V> {
  gen: number;
  currentSize: number;
  olderSize: number;
  dropped: number;
  keys: string[];
  values: V[];
  current: Uint8Array;
}

export class RecentKeys<V> implements CompactState {
  /** Keys forgotten with their generation. */
  dropped = 0;
  /** The current generation (a slot stamped 0 is free; one below `gen - 1` is forgotten). */
  private gen = 2;
  private currentSize = 0;
  private olderSize = 0;
  /** Keys forgotten since their slots were last freed. */
  private forgotten = 0;
  private capacity = INITIAL_CAPACITY;
  /** Slots handed out so far (the free ones below it are on `freeSlots`). */
  private used = 0;
  private stamps = new Uint32Array(INITIAL_CAPACITY);
  private hashes = new Uint32Array(INITIAL_CAPACITY);
  private keys: (string | undefined)[] = [];
  private values: (V | undefined)[] = [];
  private freeSlots: number[] = [];
  /** Open-addressing index, at most half full: slot + 1, or 0 for an empty place. */
  private index = new Int32Array(INITIAL_CAPACITY * 2);

  constructor(private readonly perGeneration: number) {
    if (!(perGeneration >= 1)) throw new RangeError(`perGeneration must be at least 1, got ${perGeneration}`);
  }

  /** The key's value; a key of the older generation moves to the current one. */
  get(key: string): V | undefined {
    const slot = this.slotOf(key, hashString(key));
    if (slot < 0) return undefined;
    const stamp = this.stamps[slot]!;
    if (stamp === this.gen) return this.values[slot];
    if (stamp !== this.gen - 1) return undefined;
    this.olderSize--;
    this.stamps[slot] = this.gen;
    this.counted();
    return this.values[slot];
  }

  /** Sets a key that is in neither generation (./units.ts sets only after a miss). */
  set(key: string, value: V): void {
    const h = hashString(key);
    let slot = this.slotOf(key, h);
    if (slot >= 0 && this.stamps[slot]! >= this.gen - 1) {
      // Held already: a Map would overwrite it, and move it to the current generation as `get` does.
      if (this.stamps[slot] === this.gen) {
        this.values[slot] = value;
        return;
      }
      this.olderSize--;
    } else if (slot < 0) {
      if (this.freeSlots.length === 0 && this.used === this.capacity) this.makeRoom();
      slot = this.freeSlots.pop() ?? this.used++;
      this.keys[slot] = key;
      this.hashes[slot] = h;
      this.place(slot, h);
    }
    this.stamps[slot] = this.gen;
    this.values[slot] = value;
    this.counted();
  }

  /** One more key in the current generation: when it is full, the older one is forgotten. */
  private counted(): void {
    if (++this.currentSize < this.perGeneration) return;
    this.dropped += this.olderSize;
    this.forgotten += this.olderSize;
    this.olderSize = this.currentSize;
    this.currentSize = 0;
    this.gen++;
    // Let the forgotten keys' values go about when the Maps did, at a cost linear in the keys held
    // once per generation's worth of them (not per generation: a generation may be one key).
    if (this.forgotten >= Math.max(this.perGeneration, 64)) {
      this.release();
      this.rebuildIndex();
    }
  }

  /** The key's slot (held or forgotten but not yet reused), or −1. */
  private slotOf(key: string, h: number): number {
    const index = this.index;
    const mask = index.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = index[i]!;
      if (e === 0) return -1;
      if (this.hashes[e - 1] === h && this.keys[e - 1] === key) return e - 1;
    }
  }

  private place(slot: number, h: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let i = h & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = slot + 1;
  }

  /** Frees the slots of forgotten keys (the index still names them until it is rebuilt). */
  private release(): void {
    const free: number[] = [];
    for (let slot = this.used - 1; slot >= 0; slot--) {
      if (this.stamps[slot]! >= this.gen - 1) continue;
      this.stamps[slot] = 0;
      this.keys[slot] = undefined;
      this.values[slot] = undefined;
      free.push(slot);
    }
    this.freeSlots = free;
    this.forgotten = 0;
  }

  /** Frees the slots of forgotten keys; doubles the slots when that frees less than a quarter. */
  private makeRoom(): void {
    this.release();
    if (this.freeSlots.length < this.capacity / 4) {
      this.capacity *= 2;
      const stamps = new Uint32Array(this.capacity);
      stamps.set(this.stamps);
      const hashes = new Uint32Array(this.capacity);
      hashes.set(this.hashes);
      this.stamps = stamps;
      this.hashes = hashes;
    }
    this.rebuildIndex();
  }

  private rebuildIndex(): void {
    this.index = new Int32Array(this.capacity * 2);
    for (let slot = 0; slot < this.used; slot++)
      if (this.stamps[slot] !== 0) this.place(slot, this.hashes[slot]!);
  }

  toCheckpoint(): RecentKeysState<V> {
    const keys: string[] = [];
    const values: V[] = [];
    const current: number[] = [];
    for (let slot = 0; slot < this.used; slot++) {
      const stamp = this.stamps[slot]!;
      if (stamp < this.gen - 1) continue;
      keys.push(this.keys[slot]!);
      values.push(this.values[slot]!);
      current.push(stamp === this.gen ? 1 : 0);
    }
    const { gen, currentSize, olderSize, dropped } = this;
    return { gen, currentSize, olderSize, dropped, keys, values, current: Uint8Array.from(current) };
  }

  fromCheckpoint(state: unknown): void {
    const s = state as RecentKeysState<V>;
    this.gen = s.gen;
    this.currentSize = s.currentSize;
    this.olderSize = s.olderSize;
    this.dropped = s.dropped;
    this.forgotten = 0;
    const n = s.keys.length;
    let capacity = INITIAL_CAPACITY;
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    this.used = n;
    this.stamps = new Uint32Array(capacity);
    this.hashes = new Uint32Array(capacity);
    this.keys = s.keys.slice();
    this.values = s.values.slice();
    this.freeSlots = [];
    for (let slot = 0; slot < n; slot++) {
      this.stamps[slot] = s.current[slot] ? s.gen : s.gen - 1;
      this.hashes[slot] = hashString(s.keys[slot]!);
    }
    this.rebuildIndex();
  }
}
