/**
 * One table of recent request ids for all of a report builder's id memories: a request id
 * string → a small integer slot, so that each memory (./idMemories.ts: variant, latest
 * feedback, excluded ids, recorded predictions, scored labels, shadow agreement, units) keeps
 * its values in typed arrays indexed by slot instead of a `Map` of its own.
 *
 * Hand-rolled because big JS `Map`s of string keys cost far more per insert than small ones
 * (hashing, rehashing as they grow, and every key string kept alive and promoted by the
 * garbage collector) and about 200 bytes a key with their values: a third of a cold `analyze`
 * went there (docs/engine.md). Here:
 * - open addressing with linear probing over an `Int32Array` index at most half full;
 * - ids of the router's shape (a lowercase RFC 4122 UUID, `randomUUID()`) are packed into four
 *   32-bit words and compared as numbers, so the parsed line's string can be collected; any
 *   other id is kept as its string;
 * - a slot lives while any memory holds it (`SlotHolder.holds`). When the slots run out, a
 *   sweep frees those no memory holds and the index is rebuilt; the table doubles when a sweep
 *   frees less than a quarter. The memories decide what they forget, so their eviction is
 *   exactly what it was with one `Map` each.
 */
import { fromRuns, toRuns } from './slotPacking';
import type { CompactState } from './stateCodec';

/** A memory whose values are indexed by this table's slots. */
export interface SlotHolder {
  /** True while the memory may still read the slot's value. */
  holds(slot: number): boolean;
  /** The table now has `capacity` slots: widen the value arrays (keeping their content). */
  grow(capacity: number): void;
  /** The slot is free (no memory holds it): drop what it references. */
  free(slot: number): void;
}

const INITIAL_CAPACITY = 1024;
/** The four words of a lowercase canonical UUID into `words`; false for any other string. */
function packUuid(id: string, words: Uint32Array): boolean {
  if (id.length !== 36) return false;
  let w = 0;
  let k = 0;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else return false;
    w = (w << 4) | d;
    if ((++k & 7) === 0) {
      words[(k >> 3) - 1] = w;
      w = 0;
    }
  }
  return true;
}

/** MurmurHash3's finaliser: every input bit moves every output bit. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hashWords = (words: Uint32Array): number =>
  fmix(Math.imul(fmix(words[0]! ^ Math.imul(words[1]!, 0x9e3779b1)) ^ words[2]!, 0x27d4eb2f) ^ words[3]!);

/** FNV-1a over the UTF-16 code units, finalised. */
export function hashString(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return fmix(h);
}

/** The table's checkpoint (CompactState): the held slots and their ids. */
interface TableState {
  capacity: number;
  used: number;
  /** The slots held, as runs (./slotPacking.ts). */
  runs: Int32Array;
  /** Four words per slot, zero for an id kept as a string. */
  keys: Uint32Array;
  /** Indexes into the slots of the ids kept as strings, and those ids. */
  strings: number[];
  ids: string[];
}

export class IdTable implements CompactState {
  private capacity = INITIAL_CAPACITY;
  /** Slots handed out so far (the free ones below it are on `freeSlots`). */
  private used = 0;
  /** Per slot: 1 in use, 0 free. */
  private occupied = new Uint8Array(INITIAL_CAPACITY);
  private hashes = new Uint32Array(INITIAL_CAPACITY);
  /** Per slot, the packed UUID (4 words), when `strings[slot]` is undefined. */
  private keys = new Uint32Array(INITIAL_CAPACITY * 4);
  /** Per slot, the id when it is not a packed UUID. */
  private strings: (string | undefined)[] = [];
  private freeSlots = new Int32Array(0);
  private freeCount = 0;
  private readonly holders: SlotHolder[] = [];

  constructor() {
    // Derived from the fields above: not checkpointed, rebuilt on first use after a restore.
    Object.defineProperties(this, {
      index: { value: new Int32Array(INITIAL_CAPACITY * 2), writable: true, enumerable: false },
      indexed: { value: 0, writable: true, enumerable: false },
      lastId: { value: undefined, writable: true, enumerable: false },
      lastSlot: { value: -1, writable: true, enumerable: false },
      pinned: { value: -1, writable: true, enumerable: false },
      lastPacked: { value: false, writable: true, enumerable: false },
      words: { value: new Uint32Array(4), writable: false, enumerable: false },
      lastHash: { value: 0, writable: true, enumerable: false },
    });
  }
  /** Open-addressing index: slot + 1, or 0 for an empty place. */
  declare private index: Int32Array;
  /** `used` when the index was last built (a restore changes `used` behind its back). */
  declare private indexed: number;
  /** The last id looked up and its slot (−1: absent): an event's memories ask for the same id in turn. */
  declare private lastId: string | undefined;
  declare private lastSlot: number;
  /** The last slot interned: not freed by a sweep before its memory marks it. */
  declare private pinned: number;
  /** Scratch for the four words of the id slotOf packed last. */
  declare private readonly words: Uint32Array;
  /** How slotOf found the last id absent: packed as a UUID (in `words`) or not, and its hash. */
  declare private lastPacked: boolean;
  declare private lastHash: number;

  /** Adds a memory: its arrays are sized to the table now and grow with it. */
  register(holder: SlotHolder): void {
    this.holders.push(holder);
    holder.grow(this.capacity);
  }

  /** Ids in use (held by some memory, or not yet swept). */
  get size(): number {
    return this.used - this.freeCount;
  }

  /** The id's slot, or −1 when the table does not have it. */
  slotOf(id: string): number {
    if (id === this.lastId) return this.lastSlot;
    if (this.indexed !== this.used) this.rebuildIndex();
    const words = this.words;
    const packed = packUuid(id, words);
    const h = packed ? hashWords(words) : hashString(id);
    const mask = this.index.length - 1;
    let slot = -1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = this.index[i]!;
      if (e === 0) break;
      if (this.hashes[e - 1] === h && this.matches(e - 1, id, packed, words)) {
        slot = e - 1;
        break;
      }
    }
    this.lastId = id;
    this.lastSlot = slot;
    this.lastPacked = packed;
    this.lastHash = h;
    return slot;
  }

  /** The id's slot, given one if it has none. */
  intern(id: string): number {
    let slot = this.slotOf(id);
    if (slot >= 0) return (this.pinned = slot);
    // slotOf packed and hashed this id last (`this.words` still hold it); a sweep does not touch them.
    const packed = this.lastPacked;
    const h = this.lastHash;
    if (this.freeCount === 0 && this.used === this.capacity) this.makeRoom();
    slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount]! : this.used++;
    this.occupied[slot] = 1;
    this.hashes[slot] = h;
    if (packed) {
      this.keys.set(this.words, slot * 4);
      this.strings[slot] = undefined;
    } else this.strings[slot] = id;
    this.place(slot, h);
    this.indexed = this.used;
    this.lastId = id;
    this.lastSlot = slot;
    return (this.pinned = slot);
  }

  private matches(slot: number, id: string, packed: boolean, words: Uint32Array): boolean {
    const s = this.strings[slot];
    if (!packed) return s === id;
    if (s !== undefined) return false;
    const k = this.keys;
    const o = slot * 4;
    return k[o] === words[0] && k[o + 1] === words[1] && k[o + 2] === words[2] && k[o + 3] === words[3];
  }

  private place(slot: number, h: number): void {
    const mask = this.index.length - 1;
    let i = h & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = slot + 1;
  }

  /** Frees the slots no memory holds; doubles the table when that frees less than a quarter. */
  private makeRoom(): void {
    let freed = 0;
    const free = new Int32Array(this.capacity);
    for (let slot = 0; slot < this.used; slot++) {
      if (this.occupied[slot] === 0) {
        free[freed++] = slot;
        continue;
      }
      if (slot === this.pinned || this.held(slot)) continue;
      this.occupied[slot] = 0;
      this.strings[slot] = undefined;
      for (const h of this.holders) h.free(slot);
      free[freed++] = slot;
    }
    // Lowest slots handed out first: the stack pops from its end.
    this.freeSlots = free.subarray(0, freed).reverse();
    this.freeCount = freed;
    if (freed < this.capacity / 4) this.grow(this.capacity * 2);
    this.lastId = undefined;
    this.rebuildIndex();
  }

  private grow(capacity: number): void {
    const widen = <T extends Uint8Array | Uint32Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.occupied = widen(this.occupied, capacity);
    this.hashes = widen(this.hashes, capacity);
    this.keys = widen(this.keys, capacity * 4);
    this.capacity = capacity;
    for (const h of this.holders) h.grow(capacity);
  }

  /** The ids some memory holds, by slot (the index and the free slots are rebuilt from them). */
  toCheckpoint(): TableState {
    const slots: number[] = [];
    const strings: number[] = [];
    const ids: string[] = [];
    for (let slot = 0; slot < this.used; slot++) {
      if (this.occupied[slot] === 0 || !this.held(slot)) continue;
      const s = this.strings[slot];
      if (s !== undefined) {
        strings.push(slots.length);
        ids.push(s);
      }
      slots.push(slot);
    }
    const keys = new Uint32Array(slots.length * 4);
    for (let i = 0; i < slots.length; i++)
      for (let w = 0, from = slots[i]! * 4; w < 4; w++) keys[i * 4 + w] = this.keys[from + w]!;
    return { capacity: this.capacity, used: this.used, runs: toRuns(slots), keys, strings, ids };
  }

  fromCheckpoint(state: unknown): void {
    const t = state as TableState;
    this.capacity = t.capacity;
    this.used = t.used;
    this.occupied = new Uint8Array(t.capacity);
    this.hashes = new Uint32Array(t.capacity);
    this.keys = new Uint32Array(t.capacity * 4);
    this.strings = new Array<string | undefined>(t.used).fill(undefined);
    const slots = fromRuns(t.runs);
    t.strings.forEach((i, j) => (this.strings[slots[i]!] = t.ids[j]));
    slots.forEach((slot, i) => {
      this.occupied[slot] = 1;
      const s = this.strings[slot];
      if (s !== undefined) this.hashes[slot] = hashString(s);
      else {
        const words = t.keys.subarray(i * 4, i * 4 + 4);
        this.keys.set(words, slot * 4);
        this.hashes[slot] = hashWords(words);
      }
    });
    const free: number[] = [];
    for (let slot = this.used - 1; slot >= 0; slot--) if (this.occupied[slot] === 0) free.push(slot);
    this.freeSlots = Int32Array.from(free);
    this.freeCount = free.length;
    this.lastId = undefined;
    this.pinned = -1;
    this.rebuildIndex();
  }

  private held(slot: number): boolean {
    for (const h of this.holders) if (h.holds(slot)) return true;
    return false;
  }

  private rebuildIndex(): void {
    this.index = new Int32Array(this.capacity * 2);
    for (let slot = 0; slot < this.used; slot++)
      if (this.occupied[slot] === 1) this.place(slot, this.hashes[slot]!);
    this.indexed = this.used;
  }
}
