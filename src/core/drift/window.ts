/**
 * A fixed-capacity set of rows chosen by timestamp: the `capacity` most recent rows (keep
 * 'latest') or the earliest ones (keep 'earliest'), whatever order they arrive in. Rows live in
 * slots 0 … length-1 that the caller indexes its own column arrays with; a binary heap over the
 * slots finds the row to evict in O(log capacity). Equal timestamps are ordered by arrival.
 *
 * Rows nearly always arrive in timestamp order (a live router, a log replay). While they do, a
 * 'latest' window is a plain ring: the oldest slot is the next to go, O(1) per row. The first row
 * that arrives out of order turns the ring into the heap for good.
 */
export class TimeWindow {
  private readonly ts: Float64Array;
  private readonly seq: Float64Array;
  private readonly heap: Int32Array;
  private size = 0;
  private nextSeq = 0;
  /** Ring mode ('latest' only): rows so far arrived in timestamp order. */
  private inOrder: boolean;
  /** Ring mode: the slot of the oldest row once the window is full. */
  private head = 0;
  private maxTs = -Infinity;
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
    this.inOrder = keep === 'latest';
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
    if (this.inOrder) {
      if (t >= this.maxTs) return this.admitInOrder(t, s);
      this.toHeap();
    }
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

  private admitInOrder(t: number, s: number): number {
    this.maxTs = t;
    let slot: number;
    if (this.size < this.capacity) slot = this.size++;
    else {
      slot = this.head;
      this.head = slot + 1 === this.capacity ? 0 : slot + 1;
      this.evictedTs = this.ts[slot] as number;
    }
    this.ts[slot] = t;
    this.seq[slot] = s;
    return slot;
  }

  /** Leaves ring mode: builds the heap over the rows held. */
  private toHeap(): void {
    this.inOrder = false;
    for (let i = 0; i < this.size; i++) this.heap[i] = i;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
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
