/**
 * A fixed-capacity set of rows chosen by timestamp: the `capacity` most recent rows (keep
 * 'latest') or the earliest ones (keep 'earliest'), whatever order they arrive in. Rows live in
 * slots 0 … length-1 that the caller indexes its own column arrays with; a binary heap over the
 * slots finds the row to evict in O(log capacity). Equal timestamps are ordered by arrival.
 */
export class TimeWindow {
  private readonly ts: Float64Array;
  private readonly seq: Float64Array;
  private readonly heap: Int32Array;
  private size = 0;
  private nextSeq = 0;
  /** Timestamp of the row the last successful admit() replaced (NaN when it replaced none). */
  evictedTs = NaN;

  constructor(
    readonly capacity: number,
    private readonly keep: 'latest' | 'earliest',
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`a drift window needs a positive whole number of rows (got ${capacity})`);
    }
    this.ts = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
  }

  /** Rows held (slots 0 … length-1 are live). */
  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** Timestamp of the row in a slot. */
  timestamp(slot: number): number {
    return this.ts[slot] as number;
  }

  /** Take a row with this timestamp: returns the slot to write it into, or -1 when it is not kept. */
  admit(timestamp: number): number {
    const t = Number.isNaN(timestamp) ? -Infinity : timestamp;
    const s = this.nextSeq++;
    this.evictedTs = NaN;
    if (this.size < this.capacity) {
      const slot = this.size++;
      this.ts[slot] = t;
      this.seq[slot] = s;
      this.heap[slot] = slot;
      this.siftUp(slot);
      return slot;
    }
    const top = this.heap[0] as number;
    const topTs = this.ts[top] as number;
    // The new row has the largest arrival number, so only its timestamp decides.
    const kept = this.keep === 'latest' ? t >= topTs : t < topTs;
    if (!kept) return -1;
    this.evictedTs = topTs;
    this.ts[top] = t;
    this.seq[top] = s;
    this.siftDown(0);
    return top;
  }

  /** True when slot a belongs nearer the heap top (evicted sooner) than slot b. */
  private above(a: number, b: number): boolean {
    const ta = this.ts[a] as number;
    const tb = this.ts[b] as number;
    if (ta !== tb) return this.keep === 'latest' ? ta < tb : ta > tb;
    const sa = this.seq[a] as number;
    const sb = this.seq[b] as number;
    return this.keep === 'latest' ? sa < sb : sa > sb;
  }

  private siftUp(index: number): void {
    const h = this.heap;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(h[i] as number, h[parent] as number)) break;
      [h[i], h[parent]] = [h[parent] as number, h[i] as number];
      i = parent;
    }
  }

  private siftDown(index: number): void {
    const h = this.heap;
    let i = index;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.size && this.above(h[l] as number, h[best] as number)) best = l;
      if (r < this.size && this.above(h[r] as number, h[best] as number)) best = r;
      if (best === i) return;
      [h[i], h[best]] = [h[best] as number, h[i] as number];
      i = best;
    }
  }
}
