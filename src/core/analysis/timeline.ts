/** The report's timeline: requests, errors and latency per variant in fixed-width time buckets, and the weight changes. */
import type { Timeline, WeightChange } from '../../shared/report';
import type { VariantAggregates } from './variantAggregates';

/** Counts a request in its bucket, dropping the oldest bucket when more than `maxBuckets` are held. */
export function countInBucket(
  v: VariantAggregates,
  ts: number,
  failed: boolean,
  bucketMs: number,
  maxBuckets: number,
): void {
  const start = Math.floor(ts / bucketMs) * bucketMs;
  let bucket = v.buckets.get(start);
  if (!bucket) {
    v.buckets.set(start, (bucket = { requests: 0, errors: 0 }));
    if (v.buckets.size > maxBuckets) v.buckets.delete(Math.min(...v.buckets.keys()));
  }
  bucket.requests++;
  if (failed) bucket.errors++;
}

/** The timeline of the most recent `maxBuckets` buckets any variant has requests in. */
export function buildTimeline(
  variants: readonly VariantAggregates[],
  bucketMs: number,
  maxBuckets: number,
  weightHistory: readonly WeightChange[],
): Timeline {
  const starts = new Set<number>();
  for (const v of variants) for (const start of v.buckets.keys()) starts.add(start);
  const latency = new Map(
    variants.map((v) => [v.name, new Map(v.latency.series().map((b) => [b.start, b]))]),
  );
  const points = [...starts]
    .sort((a, b) => a - b)
    .slice(-maxBuckets)
    .map((ts) => ({
      ts,
      variants: Object.fromEntries(
        variants.map((v) => {
          const counts = v.buckets.get(ts) ?? { requests: 0, errors: 0 };
          const q = latency.get(v.name)?.get(ts);
          return [
            v.name,
            { ...counts, latencyMs: { p50: q?.p50 ?? NaN, p95: q?.p95 ?? NaN, p99: q?.p99 ?? NaN } },
          ];
        }),
      ),
    }));
  return { bucketMs, points, weights: [...weightHistory] };
}
