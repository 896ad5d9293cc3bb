/**
 * Time series for the three charts (traffic split, latency, error rate), shaped from the
 * report's timeline — or, for routers whose report has none, from the reports the dashboard
 * has seen (deltas between successive snapshots). Pure: no DOM, no Chart.js; tested in node.
 */
import type { LatencySummary, Report, Timeline, TimelinePoint, WeightChange } from '../src/shared/report';
import { num, shares } from '../src/shared/format';

/** Chart.js's internal point format (with `parsing: false`): no parsing on each update. */
export interface XY {
  x: number;
  y: number;
}

export interface TrafficSeries {
  variant: string;
  /** Observed share of the bucket's requests, in percent (NaN for an empty bucket). */
  observed: XY[];
  /** Configured share in percent, as steps: one point per change, and one at the end. */
  configured: XY[];
}

export interface LatencySeries {
  variant: string;
  p50: XY[];
  p95: XY[];
  p99: XY[];
}

export interface RateSeries {
  variant: string;
  /** Errors over requests in the bucket, in percent. */
  points: XY[];
}

export interface ChartSeries {
  xMin: number;
  xMax: number;
  /** Width of a bucket of the traffic and error-rate series after merging. */
  bucketMs: number;
  traffic: TrafficSeries[];
  latency: LatencySeries[];
  errorRate: RateSeries[];
  /** When the configured split changed (vertical markers on every chart). */
  weightChanges: number[];
  /** Requests in the whole range, per variant. */
  requests: Record<string, number>;
}

interface Bucket {
  ts: number;
  /** Per variant, in the order of the `variants` argument. */
  requests: number[];
  errors: number[];
}

/**
 * Merges time buckets so a ratio series has at most `maxBuckets` points: shares and error
 * rates must be ratios of sums (a 1-request bucket with 1 error is not a 100% error rate
 * worth drawing), which the decimation plugin cannot know.
 */
export function mergeBuckets(
  points: readonly TimelinePoint[],
  variants: readonly string[],
  bucketMs: number,
  maxBuckets: number,
): { width: number; buckets: Bucket[] } {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return { width: bucketMs, buckets: [] };
  const base = Math.max(1, num(bucketMs) || 1);
  const span = last.ts - first.ts + base;
  const factor = Math.max(1, Math.ceil(span / base / Math.max(1, maxBuckets)));
  const width = base * factor;
  const nv = variants.length;
  const buckets: Bucket[] = [];
  let current: Bucket | undefined;
  // Plain loops: this runs over every point of a 10k-point timeline on each update.
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const start = first.ts + Math.floor((p.ts - first.ts) / width) * width;
    if (!current || current.ts !== start) {
      current = { ts: start, requests: new Array<number>(nv).fill(0), errors: new Array<number>(nv).fill(0) };
      buckets.push(current);
    }
    for (let j = 0; j < nv; j++) {
      const s = p.variants[variants[j]!];
      if (!s) continue;
      const r = s.requests;
      const e = s.errors;
      if (typeof r === 'number' && r > 0) current.requests[j]! += r;
      if (typeof e === 'number' && e > 0) current.errors[j]! += e;
    }
  }
  return { width, buckets };
}

/** The configured split over [xMin, xMax] as steps (percent), from the weight history. */
export function configuredSteps(
  changes: readonly WeightChange[],
  variants: readonly string[],
  current: Record<string, number>,
  xMin: number,
  xMax: number,
): { steps: Record<string, XY[]>; changes: number[] } {
  const sorted = [...changes].filter((c) => Number.isFinite(c.ts)).sort((a, b) => a.ts - b.ts);
  const steps: Record<string, XY[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const push = (x: number, weights: Record<string, unknown>): void => {
    const s = shares(weights);
    for (const v of variants) steps[v]!.push({ x, y: (s[v] ?? 0) * 100 });
  };
  // The split in force at xMin: the last change at or before it, else the first one we know.
  const start = sorted.filter((c) => c.ts <= xMin).pop()?.weights ?? sorted[0]?.weights ?? current;
  push(xMin, start);
  const inRange: number[] = [];
  for (const c of sorted) {
    if (c.ts <= xMin || c.ts > xMax) continue;
    push(c.ts, c.weights);
    inRange.push(c.ts);
  }
  const lastWeights = sorted.filter((c) => c.ts <= xMax).pop()?.weights ?? start;
  push(xMax, lastWeights);
  return { steps, changes: inRange };
}

/**
 * Series for the three charts. `variants` are the A/B variants (baseline first; no shadow);
 * `weights` the current configured weights (used when the timeline has no weight history).
 */
export function chartSeries(
  timeline: Timeline,
  variants: readonly string[],
  weights: Record<string, number>,
  maxBuckets = 150,
  maxLatencyPoints = 2000,
): ChartSeries {
  const sorted = timeline.points.every((p, i, a) => i === 0 || a[i - 1]!.ts <= p.ts);
  const points = sorted ? timeline.points : [...timeline.points].sort((a, b) => a.ts - b.ts);
  const bucketMs = Math.max(1, num(timeline.bucketMs) || 1000);
  const xMin = points[0]?.ts ?? Date.now();
  const xMax = Math.max(xMin + bucketMs, (points[points.length - 1]?.ts ?? xMin) + bucketMs);
  const { width, buckets } = mergeBuckets(points, variants, bucketMs, maxBuckets);

  const nv = variants.length;
  const requests: Record<string, number> = Object.fromEntries(variants.map((v) => [v, 0]));
  const traffic: TrafficSeries[] = variants.map((v) => ({ variant: v, observed: [], configured: [] }));
  const errorRate: RateSeries[] = variants.map((v) => ({ variant: v, points: [] }));
  for (const b of buckets) {
    let total = 0;
    for (let j = 0; j < nv; j++) total += b.requests[j]!;
    for (let j = 0; j < nv; j++) {
      const n = b.requests[j]!;
      requests[variants[j]!]! += n;
      traffic[j]!.observed.push({ x: b.ts, y: total > 0 ? (100 * n) / total : NaN });
      if (n > 0) errorRate[j]!.points.push({ x: b.ts, y: (100 * b.errors[j]!) / n });
    }
  }
  // A last point at the end of the range, so the area reaches the right edge like the steps.
  if (buckets.length > 0)
    for (const t of traffic) t.observed.push({ x: xMax, y: t.observed[t.observed.length - 1]!.y });

  const { steps, changes } = configuredSteps(timeline.weights, variants, weights, xMin, xMax);
  for (const t of traffic) t.configured = steps[t.variant] ?? [];

  // Latency: consecutive points are grouped down to at most `maxLatencyPoints` per line (p50
  // averaged, p95 and p99 the group's worst, so spikes survive), and the decimation plugin
  // (LTTB) thins that to what the canvas can show. Percentiles do not merge exactly; the
  // worst of a few seconds' p95 is the conservative reading a guardrail wants.
  const latency: LatencySeries[] = variants.map((v) => ({ variant: v, p50: [], p95: [], p99: [] }));
  const group = Math.max(1, Math.ceil(points.length / Math.max(1, maxLatencyPoints)));
  const sum50 = new Array<number>(nv).fill(0);
  const n50 = new Array<number>(nv).fill(0);
  const max95 = new Array<number>(nv).fill(-Infinity);
  const max99 = new Array<number>(nv).fill(-Infinity);
  for (let g = 0; g < points.length; g += group) {
    const x = points[g]!.ts;
    sum50.fill(0);
    n50.fill(0);
    max95.fill(-Infinity);
    max99.fill(-Infinity);
    const end = Math.min(points.length, g + group);
    for (let i = g; i < end; i++) {
      const p = points[i]!;
      for (let j = 0; j < nv; j++) {
        const s = p.variants[variants[j]!];
        if (!s || !(typeof s.requests === 'number' && s.requests > 0)) continue;
        const l = s.latencyMs;
        if (typeof l.p50 === 'number' && Number.isFinite(l.p50)) {
          sum50[j]! += l.p50;
          n50[j]!++;
        }
        if (typeof l.p95 === 'number' && l.p95 > max95[j]!) max95[j] = l.p95;
        if (typeof l.p99 === 'number' && l.p99 > max99[j]!) max99[j] = l.p99;
      }
    }
    for (let j = 0; j < nv; j++) {
      const row = latency[j]!;
      if (n50[j]! > 0) row.p50.push({ x, y: sum50[j]! / n50[j]! });
      if (Number.isFinite(max95[j]!)) row.p95.push({ x, y: max95[j]! });
      if (Number.isFinite(max99[j]!)) row.p99.push({ x, y: max99[j]! });
    }
  }
  return { xMin, xMax, bucketMs: width, traffic, latency, errorRate, weightChanges: changes, requests };
}

/** What the dashboard remembers of one report when the report has no timeline. */
export interface Snapshot {
  ts: number;
  variants: Record<string, { requests: number; errors: number; latencyMs: LatencySummary; weight: number }>;
}

/** When a report was made (its generatedAt), or `fallback`. */
export function reportTime(report: Report, fallback: number): number {
  const t = Date.parse(report.generatedAt);
  return Number.isFinite(t) ? t : fallback;
}

/** Appends the report to the snapshots (once per generatedAt), keeping the last `limit`. */
export function pushSnapshot(
  snapshots: readonly Snapshot[],
  report: Report,
  now: number,
  limit = 1800,
): Snapshot[] {
  const ts = reportTime(report, now);
  const last = snapshots[snapshots.length - 1];
  if (last && last.ts >= ts) return snapshots as Snapshot[];
  const snap: Snapshot = { ts, variants: {} };
  for (const v of report.variants) {
    snap.variants[v.name] = {
      requests: num(v.requests) || 0,
      errors: num(v.errors) || 0,
      latencyMs: { p50: num(v.latencyMs?.p50), p95: num(v.latencyMs?.p95), p99: num(v.latencyMs?.p99) },
      weight: num(v.weight) || 0,
    };
  }
  const next = [...snapshots, snap];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/**
 * A timeline from successive snapshots: requests and errors are the deltas between two
 * reports (a counter that went down means the router restarted: the new count is the
 * delta); latency is the report's cumulative percentile at that time.
 */
export function timelineFromSnapshots(snapshots: readonly Snapshot[]): Timeline {
  const points: TimelinePoint[] = [];
  const weights: WeightChange[] = [];
  const gaps: number[] = [];
  let prevWeights: string | undefined;
  snapshots.forEach((s, i) => {
    const w: Record<string, number> = {};
    for (const [name, v] of Object.entries(s.variants)) w[name] = v.weight;
    const key = JSON.stringify(w);
    if (key !== prevWeights) {
      weights.push({ ts: s.ts, weights: w, source: i === 0 ? 'first report' : 'observed' });
      prevWeights = key;
    }
    const prev = snapshots[i - 1];
    if (!prev) return;
    gaps.push(s.ts - prev.ts);
    const variants: TimelinePoint['variants'] = {};
    for (const [name, v] of Object.entries(s.variants)) {
      const before = prev.variants[name];
      const dr = before && v.requests >= before.requests ? v.requests - before.requests : v.requests;
      const de = before && v.errors >= before.errors ? v.errors - before.errors : v.errors;
      variants[name] = { requests: dr, errors: Math.min(de, dr), latencyMs: v.latencyMs };
    }
    points.push({ ts: prev.ts, variants });
  });
  gaps.sort((a, b) => a - b);
  const bucketMs = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 2000;
  return { bucketMs, points, weights };
}

/**
 * Lines draw no points (radius 0), so a series with a single value — a run inside one bucket —
 * would be invisible: give such a series a visible point. Counting is one pass over the data,
 * far cheaper than a scriptable radius evaluated per point on every draw.
 */
export function pointRadius(points: readonly XY[]): number {
  let finite = 0;
  for (const p of points) if (Number.isFinite(p.y) && ++finite > 1) return 0;
  return finite === 1 ? 3 : 0;
}
