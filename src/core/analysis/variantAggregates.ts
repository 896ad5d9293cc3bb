/** What the report builder counts per variant, and one variant's section of the report from it. */
import type { RequestEvent } from '../../shared/events';
import type { VariantReport } from '../../shared/report';
import type { Experiment } from '../spec/experiment';
import { dependencies } from '../spec/graph';
import { LatencyRecorder } from '../metrics/latency';

/** Per metric: requests with feedback, sum and sum of squares of their latest values, and successes (value 1). */
export interface MetricAggregates {
  count: number;
  sum: number;
  sumSq: number;
  successes: number;
}

/** The running counts of one routed variant. */
export interface VariantAggregates {
  name: string;
  role: 'baseline' | 'candidate';
  index: number;
  requests: number;
  /** Of `requests`, those that came over gRPC. */
  grpcRequests: number;
  errors: number;
  latency: LatencyRecorder;
  /** Expected requests under the weights in force when each request arrived (for SRM). */
  expected: number;
  metrics: Map<string, MetricAggregates>;
  /** Timeline bucket start → requests and errors in it. */
  buckets: Map<number, { requests: number; errors: number }>;
  /** Counts what a randomised request says beside its variant (recordRequestDetails). */
  recordDetails(e: RequestEvent): void;
  /** A graph variant's steps, by name: the requests that reached each, its errors and latency. */
  steps?: Map<string, { requests: number; errors: number; latency: LatencyRecorder }>;
  /** A graph variant's steps in the graph's order → the steps each reads from. */
  graph?: ReadonlyMap<string, string[]>;
}

/** Empty aggregates for every variant of the experiment, in the file's order. */
export function emptyVariantAggregates(
  experiment: Experiment,
  timeline: { bucketMs?: number; maxBuckets?: number },
): VariantAggregates[] {
  return experiment.spec.variants.map((v, index) => ({
    recordDetails(this: VariantAggregates, e: RequestEvent): void {
      recordRequestDetails(this, e);
    },
    name: v.name,
    role: v.role,
    index,
    requests: 0,
    grpcRequests: 0,
    errors: 0,
    latency: new LatencyRecorder({ bucketMs: timeline.bucketMs, maxBuckets: timeline.maxBuckets }),
    expected: 0,
    metrics: new Map(),
    buckets: new Map(),
    ...(v.graph ? { graph: new Map(v.graph.steps.map((s) => [s.name, dependencies(s)])) } : {}),
  }));
}

/** Counts what a randomised request says beside its variant: its protocol and its graph's steps. */
export function recordRequestDetails(v: VariantAggregates, e: RequestEvent): void {
  if (e.protocol === 'grpc') v.grpcRequests++;
  for (const step of e.steps ?? []) {
    v.steps ??= new Map();
    let s = v.steps.get(step.name);
    if (!s) v.steps.set(step.name, (s = { requests: 0, errors: 0, latency: new LatencyRecorder() }));
    s.requests++;
    if (step.error !== undefined || step.status >= 500) s.errors++;
    else s.latency.record(e.ts, step.latencyMs);
  }
}

/** A request the client got no good answer to: no answer, a 5xx, or a router error. */
export function isError(e: RequestEvent): boolean {
  return e.status === 0 || e.status >= 500 || e.error !== undefined;
}

/** Folds a feedback value into a metric's aggregates; `previous` is the request's earlier value, which the new one replaces. */
export function recordFeedbackValue(
  v: VariantAggregates,
  metric: string,
  value: number,
  previous: number | undefined,
): void {
  let m = v.metrics.get(metric);
  if (!m) v.metrics.set(metric, (m = { count: 0, sum: 0, sumSq: 0, successes: 0 }));
  if (previous === undefined) m.count++;
  else {
    m.sum -= previous;
    m.sumSq -= previous * previous;
    if (previous === 1) m.successes--;
  }
  m.sum += value;
  m.sumSq += value * value;
  if (value === 1) m.successes++;
}

/** One variant's section of the report. */
export function variantReport(
  v: VariantAggregates,
  weight: number,
  totalRequests: number,
  primary: Experiment['spec']['metrics']['primary'],
): VariantReport {
  return {
    name: v.name,
    role: v.role,
    weight,
    observedShare: totalRequests > 0 ? v.requests / totalRequests : 0,
    requests: v.requests,
    grpcRequests: v.grpcRequests,
    errors: v.errors,
    errorRate: v.requests > 0 ? v.errors / v.requests : 0,
    latencyMs: v.latency.quantiles(),
    ...(v.steps ? { steps: stepsReport(v) } : {}),
    feedback: Object.fromEntries(
      [...v.metrics].map(([name, m]) => [
        name,
        {
          count: m.count,
          sum: m.sum,
          rate:
            v.requests > 0
              ? (primary.kind === 'proportion' && name === primary.name ? m.successes : m.sum) / v.requests
              : 0,
        },
      ]),
    ),
  };
}

/** A graph variant's steps that ran, in the graph's order (then any it does not name), with what each reads. */
function stepsReport(v: VariantAggregates): NonNullable<VariantReport['steps']> {
  const order = [...(v.graph?.keys() ?? [])];
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  return [...v.steps!]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([name, s]) => {
      const after = v.graph?.get(name);
      return {
        name,
        requests: s.requests,
        errors: s.errors,
        errorRate: s.requests > 0 ? s.errors / s.requests : 0,
        latencyMs: s.latency.quantiles(),
        ...(after ? { after } : {}),
      };
    });
}
