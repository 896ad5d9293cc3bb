/**
 * Latency percentiles with a relative-error guarantee: DDSketch (Masson, Rim & Lee, "DDSketch:
 * A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019) from
 * @datadog/sketches-js, relative accuracy 1%. A quantile q is the sketch's value at rank
 * q·(count - 1), within 1% of the exact order statistic at that rank.
 *
 * One LatencyRecorder per variant keeps a sketch of everything plus one sketch per time bucket
 * (default 10 s wide, the last 360 buckets = one hour kept) for the dashboard's charts. Memory is
 * bounded: a sketch holds a few hundred bins whatever the count, and old buckets are dropped.
 * Recorders (and so router replicas or log shards) merge exactly: merging sketches equals
 * sketching the union.
 */
import { DDSketch } from '@datadog/sketches-js';
import type { LatencySummary } from '../../shared/report';

export const RELATIVE_ACCURACY = 0.01;
export const DEFAULT_BUCKET_MS = 10_000;
export const DEFAULT_MAX_BUCKETS = 360;

export interface LatencyRecorderOptions {
  /** Width of a chart bucket in milliseconds (default 10 s). */
  bucketMs?: number;
  /** Buckets kept, newest first by start time (default 360). */
  maxBuckets?: number;
  relativeAccuracy?: number;
}

/** Percentiles of one time bucket. */
export interface LatencyBucket extends LatencySummary {
  /** Bucket start, epoch milliseconds (a multiple of the bucket width). */
  start: number;
  count: number;
}

/** p50/p95/p99 of a sketch; NaN when it is empty. */
export function sketchQuantiles(sketch: DDSketch): LatencySummary {
  return {
    p50: sketch.getValueAtQuantile(0.5),
    p95: sketch.getValueAtQuantile(0.95),
    p99: sketch.getValueAtQuantile(0.99),
  };
}

/** Latency sketches of one variant: in total and per time bucket. */
export class LatencyRecorder {
  readonly bucketMs: number;
  readonly maxBuckets: number;
  readonly relativeAccuracy: number;
  private readonly total: DDSketch;
  private readonly buckets = new Map<number, DDSketch>();

  constructor(options: LatencyRecorderOptions = {}) {
    this.bucketMs = options.bucketMs ?? DEFAULT_BUCKET_MS;
    this.maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
    this.relativeAccuracy = options.relativeAccuracy ?? RELATIVE_ACCURACY;
    if (!(this.bucketMs > 0)) throw new RangeError(`bucketMs must be positive (got ${this.bucketMs})`);
    if (!Number.isInteger(this.maxBuckets) || this.maxBuckets < 1) {
      throw new RangeError(`maxBuckets must be a positive whole number (got ${this.maxBuckets})`);
    }
    this.total = new DDSketch({ relativeAccuracy: this.relativeAccuracy });
  }

  /** Values recorded in total. */
  get count(): number {
    return this.total.count;
  }

  /** Record one request's latency (ms) at time ts (epoch ms); non-finite or negative latencies are ignored. */
  record(ts: number, latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.total.accept(latencyMs);
    if (!Number.isFinite(ts)) return;
    this.bucketFor(Math.floor(ts / this.bucketMs) * this.bucketMs)?.accept(latencyMs);
  }

  /** p50/p95/p99 over everything recorded (NaN when empty). */
  quantiles(): LatencySummary {
    return sketchQuantiles(this.total);
  }

  /** Any quantile in [0, 1] over everything recorded. */
  quantile(q: number): number {
    return this.total.getValueAtQuantile(q);
  }

  /** Per-bucket percentiles, oldest first. */
  series(): LatencyBucket[] {
    return [...this.buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([start, sketch]) => ({ start, count: sketch.count, ...sketchQuantiles(sketch) }));
  }

  /** Add another recorder's values (same bucket width and accuracy) into this one. */
  merge(other: LatencyRecorder): void {
    if (other.bucketMs !== this.bucketMs || other.relativeAccuracy !== this.relativeAccuracy) {
      throw new RangeError(
        `cannot merge latency recorders with different settings ` +
          `(${this.bucketMs} ms/${this.relativeAccuracy} vs ${other.bucketMs} ms/${other.relativeAccuracy})`,
      );
    }
    this.total.merge(other.total);
    for (const [start, sketch] of other.buckets) this.bucketFor(start)?.merge(sketch);
  }

  /** The bucket starting at `start`, created if needed; undefined when it is older than every kept one and no room is left. */
  private bucketFor(start: number): DDSketch | undefined {
    const existing = this.buckets.get(start);
    if (existing !== undefined) return existing;
    if (this.buckets.size >= this.maxBuckets) {
      let oldest = Infinity;
      for (const s of this.buckets.keys()) if (s < oldest) oldest = s;
      if (start < oldest) return undefined;
      this.buckets.delete(oldest);
    }
    const sketch = new DDSketch({ relativeAccuracy: this.relativeAccuracy });
    this.buckets.set(start, sketch);
    return sketch;
  }
}

/** One LatencyRecorder per variant. */
export class VariantLatencies {
  private readonly recorders = new Map<string, LatencyRecorder>();

  constructor(private readonly options: LatencyRecorderOptions = {}) {}

  /** Record a request's latency for its variant. */
  record(variant: string, ts: number, latencyMs: number): void {
    this.recorder(variant).record(ts, latencyMs);
  }

  /** The variant's recorder (created empty on first use). */
  recorder(variant: string): LatencyRecorder {
    let r = this.recorders.get(variant);
    if (r === undefined) {
      r = new LatencyRecorder(this.options);
      this.recorders.set(variant, r);
    }
    return r;
  }

  /** Variants seen, in first-seen order. */
  variants(): string[] {
    return [...this.recorders.keys()];
  }

  /** p50/p95/p99 of a variant (NaN when it has no values). */
  quantiles(variant: string): LatencySummary {
    return this.recorders.get(variant)?.quantiles() ?? { p50: NaN, p95: NaN, p99: NaN };
  }

  /** Merge every variant of another set of recorders into this one. */
  merge(other: VariantLatencies): void {
    for (const [variant, r] of other.recorders) this.recorder(variant).merge(r);
  }
}
