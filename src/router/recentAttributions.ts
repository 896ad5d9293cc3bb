/**
 * The request index's in-memory part (./requestIndex.ts): the newest request ids → their
 * attribution, on the report builder's compact id table (src/core/analysis/idTable.ts) instead
 * of two `Map`s of id strings. A router-shaped id (a UUID) is four 32-bit words in a typed
 * array, so a million remembered ids are no longer a million strings for the garbage collector
 * to trace and promote.
 *
 * The attribution is interned: each distinct (experiment, variant, run) is one shared object in
 * a short array, and a slot keeps that object's index in a `Uint32Array`. The two generations
 * are stamps per slot (src/core/analysis/idMemories.ts, IdGenerations), with the eviction of the
 * two `Map`s they replace: `set` counts an id in the current generation unless it is already
 * there; when the current one reaches `perGeneration` ids it becomes the previous one and the
 * old previous one is forgotten whole. An id set again in the current generation keeps its slot
 * and takes the new attribution (the most recent wins, as the current `Map` shadowed the older).
 */
import { IdTable } from '../core/analysis/idTable';
import { IdGenerations, widen } from '../core/analysis/idMemories';
import { packNumbers } from '../core/analysis/slotPacking';
import type { Attribution } from './requestIndex';

/** The checkpoint of the attributions: the interned triples, and each held slot's triple (in slot order). */
interface PackedAttributions {
  triples: Attribution[];
  which: Uint8Array | Float64Array;
}

export class RecentAttributions extends IdGenerations {
  /** Per slot, the index of its attribution in `triples`. */
  private which = new Uint32Array(0);
  private triples: Attribution[] = [];
  /** experiment → variant (or `variant\0run`) → index in `triples`. */
  private interned = new Map<string, Map<string, number>>();
  /** The triple set last (traffic mostly repeats it). */
  private last = -1;

  constructor(private readonly generation: number) {
    super(new IdTable(), generation);
    this.table.register(this); // after the subclass's fields exist
  }

  /** Remembers the id's attribution (the most recent wins). */
  set(id: string, experiment: string, variant: string, run: string | undefined): void {
    let t = this.last;
    const a = this.triples[t];
    if (a === undefined || a.variant !== variant || a.experiment !== experiment || a.run !== run)
      t = this.last = this.intern(experiment, variant, run);
    const slot = this.mark(id); // before writing: marking may grow the table, and with it `which`
    this.which[slot] = t;
  }

  get(id: string): Attribution | undefined {
    const slot = this.find(id);
    return slot < 0 ? undefined : this.triples[this.which[slot]!];
  }

  /** Ids held, counting one held in both generations twice (as the two `Map`s' sizes did). */
  get count(): number {
    // The previous generation, once there is one, holds exactly `generation` ids.
    return this.size + (this.gen > 2 ? this.generation : 0);
  }

  private intern(experiment: string, variant: string, run: string | undefined): number {
    let variants = this.interned.get(experiment);
    if (!variants) this.interned.set(experiment, (variants = new Map()));
    const key = run === undefined ? variant : `${variant}\u0000${run}`;
    let t = variants.get(key);
    if (t === undefined) {
      t = this.triples.length;
      this.triples.push(run === undefined ? { experiment, variant } : { experiment, variant, run });
      variants.set(key, t);
    }
    return t;
  }

  override grow(capacity: number): void {
    super.grow(capacity);
    this.which = widen(this.which, capacity);
  }

  protected override packValues(slots: Int32Array): PackedAttributions {
    const which = new Uint32Array(slots.length);
    for (let i = 0; i < slots.length; i++) which[i] = this.which[slots[i]!]!;
    return { triples: this.triples, which: packNumbers(which) };
  }

  protected override unpackValues(slots: Int32Array, values: unknown): void {
    const p = values as PackedAttributions;
    this.triples = [];
    this.interned = new Map();
    this.last = -1;
    for (const a of p.triples) this.intern(a.experiment, a.variant, a.run);
    for (let i = 0; i < slots.length; i++) this.which[slots[i]!] = p.which[i]!;
  }
}
