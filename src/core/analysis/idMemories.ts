/**
 * The report builder's memories of recent request ids, over one shared ./idTable.ts: each
 * remembers about the newest `perGeneration`–`2 × perGeneration` ids it was given, in two
 * generations, exactly as one `Map` per memory did (./generations.ts): setting an id counts in
 * the current generation unless it is already there; when the current generation fills up it
 * becomes the older one and the old older one is forgotten whole. Reading does not move an id.
 *
 * A generation is a number: each memory stamps a slot with the generation it was last set in,
 * and holds it while that stamp is the current or the previous generation. Forgetting a whole
 * generation is one increment.
 */
import type { IdTable, SlotHolder } from './idTable';
import { fromRuns, packNumbers, toRuns } from './slotPacking';
import type { CompactState } from './stateCodec';

/** Values a memory keeps by slot: numbers, strings or nothing. */
export class ScalarColumn {
  private nums = new Float64Array(0);
  /** 0 nothing, 1 a number, 2 a string (in `strs`). */
  private tags = new Uint8Array(0);
  private strs = new Map<number, string>();

  get(slot: number): number | string | undefined {
    const t = this.tags[slot];
    return t === 1 ? this.nums[slot] : t === 2 ? this.strs.get(slot) : undefined;
  }

  set(slot: number, v: number | string | undefined): void {
    if (this.tags[slot] === 2) this.strs.delete(slot);
    if (typeof v === 'number') {
      this.tags[slot] = 1;
      this.nums[slot] = v;
    } else if (typeof v === 'string') {
      this.tags[slot] = 2;
      this.strs.set(slot, v);
    } else this.tags[slot] = 0;
  }

  grow(capacity: number): void {
    this.nums = widen(this.nums, capacity);
    this.tags = widen(this.tags, capacity);
  }

  free(slot: number): void {
    this.set(slot, undefined);
  }

  /** The values of `slots`: a tag each, the numbers and the strings in order. */
  pack(slots: Int32Array): PackedScalars {
    const tags = new Uint8Array(slots.length);
    const nums = new Float64Array(slots.length);
    const strs: string[] = [];
    let n = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const t = (tags[i] = this.tags[slot]!);
      if (t === 1) nums[n++] = this.nums[slot]!;
      else if (t === 2) strs.push(this.strs.get(slot)!);
    }
    return { tags, nums: packNumbers(nums.subarray(0, n)), strs };
  }

  unpack(slots: Int32Array, p: PackedScalars): void {
    let n = 0;
    let k = 0;
    slots.forEach((slot, i) => {
      const t = p.tags[i];
      this.set(slot, t === 1 ? p.nums[n++] : t === 2 ? p.strs[k++] : undefined);
    });
  }
}

interface PackedScalars {
  tags: Uint8Array;
  nums: Float64Array | Uint8Array;
  strs: string[];
}

/** A memory's checkpoint: its generation, the slots it holds (as runs; 1 in `current`: set in the current generation) and their values. */
interface GenerationsState {
  table: IdTable;
  gen: number;
  size: number;
  capacity: number;
  runs: Int32Array;
  current: Uint8Array;
  values: unknown;
}

export function widen<T extends Float64Array | Uint32Array | Uint8Array | Uint16Array>(a: T, n: number): T {
  if (a.length >= n) return a;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Two generations of slots: the membership part of every memory below (each registers with the table). */
export class IdGenerations implements SlotHolder, CompactState {
  protected stamps = new Uint32Array(0);
  /** The current generation (0 is "never set", so the previous one of the first is 1, never a stamp). */
  protected gen = 2;
  protected size = 0;

  constructor(
    protected readonly table: IdTable,
    private readonly perGeneration: number,
  ) {
    if (!(perGeneration >= 1)) throw new RangeError(`perGeneration must be at least 1, got ${perGeneration}`);
  }

  holds(slot: number): boolean {
    return this.stamps[slot]! >= this.gen - 1;
  }

  /** The id's slot when this memory holds it, else −1. */
  protected find(id: string): number {
    const slot = this.table.slotOf(id);
    return slot >= 0 && this.stamps[slot]! >= this.gen - 1 ? slot : -1;
  }

  /** Counts the id in the current generation (as `Map.set` did); returns its slot. */
  protected mark(id: string): number {
    const slot = this.table.intern(id);
    if (this.stamps[slot] !== this.gen) {
      this.stamps[slot] = this.gen;
      if (++this.size >= this.perGeneration) {
        this.gen++;
        this.size = 0;
      }
    }
    return slot;
  }

  grow(capacity: number): void {
    this.stamps = widen(this.stamps, capacity);
  }

  free(_slot: number): void {}

  toCheckpoint(): GenerationsState {
    const { stamps, gen, size } = this;
    let n = 0;
    for (let slot = 0; slot < stamps.length; slot++) if (stamps[slot]! >= gen - 1) n++;
    const slots = new Int32Array(n);
    const current = new Uint8Array(n);
    for (let slot = 0, i = 0; slot < stamps.length; slot++) {
      const stamp = stamps[slot]!;
      if (stamp < gen - 1) continue;
      slots[i] = slot;
      current[i++] = stamp === gen ? 1 : 0;
    }
    const { table } = this; // the table's ids are saved with the first memory that reaches it
    const runs = toRuns(slots);
    return { table, gen, size, capacity: this.stamps.length, runs, current, values: this.packValues(slots) };
  }

  fromCheckpoint(state: unknown): void {
    const g = state as GenerationsState;
    this.gen = g.gen;
    this.size = g.size;
    this.stamps = new Uint32Array(g.capacity);
    this.grow(g.capacity);
    const slots = fromRuns(g.runs);
    slots.forEach((slot, i) => (this.stamps[slot] = g.current[i] ? g.gen : g.gen - 1));
    this.unpackValues(slots, g.values);
  }

  protected packValues(_slots: Int32Array): unknown {
    return null;
  }

  protected unpackValues(_slots: Int32Array, _values: unknown): void {}
}

/** Recent ids (excluded requests). */
export class IdSet extends IdGenerations {
  constructor(table: IdTable, perGeneration: number) {
    super(table, perGeneration);
    table.register(this); // after the subclass's fields exist
  }

  has(id: string): boolean {
    return this.find(id) >= 0;
  }

  add(id: string): void {
    this.mark(id);
  }
}

/** Recent ids → a number or a string (a request's variant, a primary prediction). */
export class IdScalars extends IdGenerations {
  private readonly values = new ScalarColumn();

  constructor(table: IdTable, perGeneration: number) {
    super(table, perGeneration);
    table.register(this); // after the subclass's fields exist
  }

  get(id: string): number | string | undefined {
    const slot = this.find(id);
    return slot < 0 ? undefined : this.values.get(slot);
  }

  set(id: string, value: number | string): void {
    this.values.set(this.mark(id), value);
  }

  override grow(capacity: number): void {
    super.grow(capacity);
    this.values.grow(capacity);
  }

  override free(slot: number): void {
    this.values.free(slot);
  }

  protected override packValues(slots: Int32Array): PackedScalars {
    return this.values.pack(slots);
  }

  protected override unpackValues(slots: Int32Array, values: unknown): void {
    this.values.unpack(slots, values as PackedScalars);
  }
}

/** Recent ids → an object (a request's user). */
export class IdObjects<V extends object> extends IdGenerations {
  private values: (V | undefined)[] = [];

  constructor(table: IdTable, perGeneration: number) {
    super(table, perGeneration);
    table.register(this); // after the subclass's fields exist
  }

  get(id: string): V | undefined {
    const slot = this.find(id);
    return slot < 0 ? undefined : this.values[slot];
  }

  set(id: string, value: V): void {
    const slot = this.mark(id); // first: marking may grow the table, and with it `values`
    this.values[slot] = value;
  }

  override grow(capacity: number): void {
    super.grow(capacity);
    // Filled, not holey: an array written far past its end goes to V8's slow dictionary mode.
    const values = new Array<V | undefined>(capacity).fill(undefined);
    for (let i = 0; i < this.values.length; i++) values[i] = this.values[i];
    this.values = values;
  }

  override free(slot: number): void {
    this.values[slot] = undefined;
  }

  protected override packValues(slots: Int32Array): (V | undefined)[] {
    return Array.from(slots, (slot) => this.values[slot]);
  }

  protected override unpackValues(slots: Int32Array, values: unknown): void {
    slots.forEach((slot, i) => (this.values[slot] = (values as (V | undefined)[])[i]));
  }
}

/** What a request predicted and the variant it was routed to; with the label once one was scored. */
export interface PredictionEntry {
  variant: number;
  predict?: number | string;
  proba?: number;
  label?: number | string;
}

/** Recent ids → a recorded prediction, or a scored label (./modelMetrics.ts). */
export class PredictionMemory extends IdGenerations {
  private variants = new Uint16Array(0);
  /** NaN: no probability. */
  private probas = new Float64Array(0);
  private readonly predicts = new ScalarColumn();
  private readonly labels = new ScalarColumn();

  constructor(table: IdTable, perGeneration: number) {
    super(table, perGeneration);
    table.register(this); // after the subclass's fields exist
  }

  get(id: string): PredictionEntry | undefined {
    const slot = this.find(id);
    if (slot < 0) return undefined;
    const proba = this.probas[slot]!;
    const label = this.labels.get(slot);
    const entry: PredictionEntry = {
      variant: this.variants[slot]!,
      predict: this.predicts.get(slot),
      proba: Number.isNaN(proba) ? undefined : proba,
    };
    if (label !== undefined) entry.label = label;
    return entry;
  }

  set(id: string, entry: PredictionEntry): void {
    const slot = this.mark(id);
    this.variants[slot] = entry.variant;
    this.probas[slot] = entry.proba ?? NaN;
    this.predicts.set(slot, entry.predict);
    this.labels.set(slot, entry.label);
  }

  override grow(capacity: number): void {
    super.grow(capacity);
    this.variants = widen(this.variants, capacity);
    this.probas = widen(this.probas, capacity);
    this.predicts.grow(capacity);
    this.labels.grow(capacity);
  }

  override free(slot: number): void {
    this.predicts.free(slot);
    this.labels.free(slot);
  }

  protected override packValues(slots: Int32Array): PackedPredictions {
    const variants = new Uint16Array(slots.length);
    const probas = new Float64Array(slots.length);
    for (let i = 0; i < slots.length; i++) {
      variants[i] = this.variants[slots[i]!]!;
      probas[i] = this.probas[slots[i]!]!;
    }
    return {
      variants: packNumbers(variants),
      probas,
      predicts: this.predicts.pack(slots),
      labels: this.labels.pack(slots),
    };
  }

  protected override unpackValues(slots: Int32Array, values: unknown): void {
    const p = values as PackedPredictions;
    slots.forEach((slot, i) => {
      this.variants[slot] = p.variants[i]!;
      this.probas[slot] = p.probas[i]!;
    });
    this.predicts.unpack(slots, p.predicts);
    this.labels.unpack(slots, p.labels);
  }
}

interface PackedPredictions {
  variants: Uint8Array | Float64Array;
  probas: Float64Array;
  predicts: PackedScalars;
  labels: PackedScalars;
}
