/**
 * Request id → (experiment, variant), for attributing feedback.
 *
 * The newest ids live in memory in two generations of at most `capacity / 2` each: when the
 * current one fills up it becomes the previous one and the old previous one is dropped. They
 * are kept on a compact id table, UUIDs as four words and the attribution as a small integer
 * (./recentAttributions.ts), not as a million strings in `Map`s. Older ids are
 * found on disk: each segment has a Bloom filter of the request ids written to it (about ten
 * bits per id, rebuilt during replay), so a miss reads only the segments that may hold the id,
 * newest first, instead of every segment. Memory stays bounded by the LRU plus ~1.2 bytes per
 * logged request.
 */
import { findRequestInSegment } from './eventLog';
import { RecentAttributions } from './recentAttributions';

export interface Attribution {
  experiment: string;
  variant: string;
  /** The run the request belongs to, when the experiment had started one. */
  run?: string;
}

const BITS_PER_ID = 10;
const HASHES = 7;
// A request line is rarely shorter than this; it sizes a segment's filter from its byte budget.
const MIN_LINE_BYTES = 90;

export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly m: number;

  constructor(expected: number) {
    this.m = Math.max(1024, expected * BITS_PER_ID);
    this.bits = new Uint32Array(Math.ceil(this.m / 32));
  }

  add(key: string): void {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.m;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  has(key: string): boolean {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.m;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

// Two independent 32-bit hashes (FNV-1a and a murmur-style mix) for double hashing.
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, (b | 1) >>> 0];
}

export class RequestIndex {
  // Two generations of capacity / 2 ids on a compact id table, one shared object per (experiment, variant, run).
  private readonly ids: RecentAttributions;
  private readonly filters = new Map<number, BloomFilter>();
  private readonly filterSize: number;
  private lastFilter: { segment: number; filter: BloomFilter } | undefined;

  constructor(
    capacity: number,
    segmentBytes: number,
    /** Segment files, oldest first, for the durable lookup. */
    private readonly segments: () => { segment: number; file: string }[],
    /** Makes everything appended so far readable from the segments. */
    private readonly flush: () => Promise<void>,
  ) {
    this.filterSize = Math.ceil(segmentBytes / MIN_LINE_BYTES);
    this.ids = new RecentAttributions(Math.max(1, capacity >> 1));
  }

  /** Remembers a routed request (the most recent wins for a reused id). */
  remember(id: string, experiment: string, variant: string, run?: string): void {
    this.ids.set(id, experiment, variant, run);
  }

  /** Records that these request ids were written to `segment`. */
  written(segment: number, ids: readonly string[]): void {
    if (ids.length === 0) return;
    const filter = this.filter(segment);
    for (const id of ids) filter.add(id);
  }

  /** Records that one request id was written to `segment` (replay). */
  writtenOne(segment: number, id: string): void {
    this.filter(segment).add(id);
  }

  private filter(segment: number): BloomFilter {
    if (this.lastFilter?.segment === segment) return this.lastFilter.filter;
    let filter = this.filters.get(segment);
    if (!filter) this.filters.set(segment, (filter = new BloomFilter(this.filterSize)));
    this.lastFilter = { segment, filter };
    return filter;
  }

  /** Memory first, then the segments whose filter may hold the id (newest first). */
  async lookup(id: string): Promise<Attribution | undefined> {
    const hit = this.recent(id);
    if (hit) return hit;
    await this.flush();
    const again = this.recent(id);
    if (again) return again;
    const files = this.segments().reverse();
    for (const { segment, file } of files) {
      if (!this.filters.get(segment)?.has(id)) continue;
      const found = await findRequestInSegment(file, id);
      if (found)
        return {
          experiment: found.experiment,
          variant: found.variant,
          ...(found.run ? { run: found.run } : {}),
        };
    }
    return undefined;
  }

  /**
   * False only when no request with this id was routed or replayed: not in memory and in no
   * segment's filter (no disk read). Replay quarantines feedback and labels for such an id.
   */
  mayHold(id: string): boolean {
    if (this.recent(id)) return true;
    for (const filter of this.filters.values()) if (filter.has(id)) return true;
    return false;
  }

  /** The attribution of a request id held in memory (no disk lookup). */
  recent(id: string): Attribution | undefined {
    return this.ids.get(id);
  }

  /** Ids held in memory. */
  get size(): number {
    return this.ids.count;
  }
}
