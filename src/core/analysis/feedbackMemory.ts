/**
 * The latest feedback value of each (metric, request id) a report builder remembers, for
 * "latest feedback wins" (./reportBuilder.ts), over the builder's id table (./idTable.ts), with
 * the two generations of ./idMemories.ts.
 */
import type { IdTable, SlotHolder } from './idTable';
import { widen } from './idMemories';
import { fromRuns, packNumbers, toRuns } from './slotPacking';
import type { CompactState } from './stateCodec';

/** Metrics with a column of their own; feedback for more metric names goes to a map. */
const METRIC_COLUMNS = 16;

interface MetricColumn {
  metric: string;
  stamps: Uint32Array;
  values: Float64Array;
}

/**
 * The latest feedback value of each (metric, request id), for "latest feedback wins": one
 * memory over all metrics, as the one `Map` keyed `${metric}\u0000${id}` was (a new pair counts
 * in the current generation, whatever its metric).
 */
export class FeedbackMemory implements SlotHolder, CompactState {
  private readonly columns: MetricColumn[] = [];
  /** Pairs beyond METRIC_COLUMNS metrics, by `${metric}\u0000${id}`. */
  private readonly others = new Map<string, { stamp: number; value: number }>();
  private gen = 2;
  private size = 0;
  private capacity = 0;

  constructor(
    private readonly table: IdTable,
    private readonly perGeneration: number,
  ) {
    if (!(perGeneration >= 1)) throw new RangeError(`perGeneration must be at least 1, got ${perGeneration}`);
    table.register(this);
  }

  private column(metric: string, create: boolean): MetricColumn | undefined {
    for (const c of this.columns) if (c.metric === metric) return c;
    if (!create || this.columns.length >= METRIC_COLUMNS) return undefined;
    const c = { metric, stamps: new Uint32Array(this.capacity), values: new Float64Array(this.capacity) };
    this.columns.push(c);
    return c;
  }

  get(metric: string, id: string): number | undefined {
    const c = this.column(metric, false);
    if (c) {
      const slot = this.table.slotOf(id);
      return slot >= 0 && c.stamps[slot]! >= this.gen - 1 ? c.values[slot] : undefined;
    }
    if (this.columns.length < METRIC_COLUMNS) return undefined;
    const e = this.others.get(`${metric}\u0000${id}`);
    return e && e.stamp >= this.gen - 1 ? e.value : undefined;
  }

  set(metric: string, id: string, value: number): void {
    const c = this.column(metric, true);
    if (c) {
      const slot = this.table.intern(id);
      c.values[slot] = value;
      if (c.stamps[slot] === this.gen) return;
      c.stamps[slot] = this.gen;
    } else {
      const key = `${metric}\u0000${id}`;
      const e = this.others.get(key);
      if (e && e.stamp === this.gen) {
        e.value = value;
        return;
      }
      this.others.set(key, { stamp: this.gen, value });
    }
    if (++this.size < this.perGeneration) return;
    this.gen++;
    this.size = 0;
    for (const [key, e] of this.others) if (e.stamp < this.gen - 1) this.others.delete(key);
  }

  holds(slot: number): boolean {
    for (const c of this.columns) if (c.stamps[slot]! >= this.gen - 1) return true;
    return false;
  }

  grow(capacity: number): void {
    this.capacity = capacity;
    for (const c of this.columns) {
      c.stamps = widen(c.stamps, capacity);
      c.values = widen(c.values, capacity);
    }
  }

  free(_slot: number): void {}

  toCheckpoint(): unknown {
    const columns = this.columns.map((c) => {
      let n = 0;
      for (let slot = 0; slot < c.stamps.length; slot++) if (c.stamps[slot]! >= this.gen - 1) n++;
      const held = new Int32Array(n);
      const current = new Uint8Array(n);
      const values = new Float64Array(n);
      for (let slot = 0, i = 0; slot < c.stamps.length; slot++) {
        const stamp = c.stamps[slot]!;
        if (stamp < this.gen - 1) continue;
        held[i] = slot;
        current[i] = stamp === this.gen ? 1 : 0;
        values[i++] = c.values[slot]!;
      }
      return { metric: c.metric, runs: toRuns(held), current, values: packNumbers(values) };
    });
    const { table, gen, size, capacity, others } = this;
    return { table, gen, size, capacity, columns, others };
  }

  fromCheckpoint(state: unknown): void {
    const f = state as {
      gen: number;
      size: number;
      capacity: number;
      columns: { metric: string; runs: Int32Array; current: Uint8Array; values: Float64Array | Uint8Array }[];
      others: Map<string, { stamp: number; value: number }>;
    };
    this.gen = f.gen;
    this.size = f.size;
    this.capacity = f.capacity;
    this.columns.length = 0;
    for (const saved of f.columns) {
      const c = this.column(saved.metric, true)!;
      fromRuns(saved.runs).forEach((slot, i) => {
        c.stamps[slot] = saved.current[i] ? f.gen : f.gen - 1;
        c.values[slot] = saved.values[i]!;
      });
    }
    this.others.clear();
    for (const [key, e] of f.others) this.others.set(key, e);
  }
}
