/**
 * Prometheus metrics (prom-client): counters and histograms updated on the hot path, the weights,
 * the process's default metrics, and gauges read from the live report on scrape
 * (./reportGauges). Names are in src/shared/metricNames.ts; what each means and how many series
 * an experiment makes are in docs/monitoring.md. The exposition passes `promtool check metrics`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, METRICS } from '../shared/metricNames';
import type { Report } from '../shared/report';
import { registerDetectorGauges } from './detectorGauges';
import { registerReportGauges } from './reportGauges';
import { RoutedMetrics } from './routedMetrics';

/**
 * prom-client's default gauges that end in `_total` (which promtool reserves for counters). Each
 * is the sum over the `type` label of the gauge of the same name without `_total`, which stays.
 */
const TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];
const PREFIX = 'model_canary_';

type Pair = 'experiment' | 'variant';

export class RouterMetrics {
  readonly registry = new Registry();
  private readonly routed: RoutedMetrics;
  private readonly rejected: Counter<'code'>;
  private readonly feedback: Counter<Pair | 'metric'>;
  private readonly labels: Counter<Pair>;
  private readonly shadowDuration: Histogram<Pair>;
  private readonly shadowRequests: Counter<Pair | 'outcome'>;
  private readonly shadowDropped: Counter<'experiment'>;
  private readonly weightByExperiment = new Map<string, Record<string, number>>();

  /**
   * @param reports the live reports (cached by the caller), read on each scrape
   * @param declaredMetrics the metrics an experiment declares: feedback for any other metric name
   *   is recorded but makes no series, so a client cannot grow the label set
   */
  constructor(
    reports: () => Report[],
    private readonly declaredMetrics: (experiment: string) => readonly string[] = () => [],
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const name of TOTAL_GAUGES) this.registry.removeSingleMetric(PREFIX + name);
    this.routed = new RoutedMetrics(this.registry, {
      duration: {
        name: METRICS.requestDuration,
        help: 'Time from a request arriving to the upstream answer, by experiment, variant and protocol.',
        buckets: LATENCY_BUCKETS_SECONDS,
      },
      requests: {
        name: METRICS.requests,
        help: 'Routed inference requests by experiment, variant, protocol and the HTTP status code (a gRPC call: the status its code maps from).',
      },
      errors: {
        name: METRICS.requestErrors,
        help: 'Routed requests the variant failed (upstream 5xx, unreachable or timed out), by protocol.',
      },
    });
    this.rejected = new Counter({
      name: METRICS.rejectedRequests,
      help: 'Requests refused before reaching a variant (malformed, unknown, too large), by status code.',
      labelNames: ['code'],
      registers,
    });
    this.feedback = new Counter({
      name: METRICS.feedback,
      help: 'Feedback events accepted (durable), by experiment, variant and metric (only the metrics the experiment declares).',
      labelNames: ['experiment', 'variant', 'metric'],
      registers,
    });
    this.labels = new Counter({
      name: METRICS.labels,
      help: 'Labels (delayed ground truth) accepted (durable), by experiment and variant.',
      labelNames: ['experiment', 'variant'],
      registers,
    });
    this.shadowDuration = new Histogram({
      name: METRICS.shadowDuration,
      help: 'Latency of mirrored calls to the shadow variant.',
      labelNames: ['experiment', 'variant'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.shadowRequests = new Counter({
      name: METRICS.shadowRequests,
      help: 'Mirrored calls completed, by outcome (ok or error).',
      labelNames: ['experiment', 'variant', 'outcome'],
      registers,
    });
    this.shadowDropped = new Counter({
      name: METRICS.shadowDropped,
      help: 'Mirrors dropped because the shadow already had its maximum of calls in flight.',
      labelNames: ['experiment'],
      registers,
    });
    const weightByExperiment = this.weightByExperiment;
    new Gauge({
      name: METRICS.weight,
      help: 'Configured weight of each variant.',
      labelNames: ['experiment', 'variant'],
      registers,
      collect() {
        this.reset();
        for (const [experiment, weights] of weightByExperiment)
          for (const [variant, w] of Object.entries(weights)) this.set({ experiment, variant }, w);
      },
    });
    registerReportGauges(this.registry, reports);
    registerDetectorGauges(this.registry, reports);
  }

  /** One routed request answered with `code`. */
  request(
    experiment: string,
    variant: string,
    code: number,
    seconds: number,
    error: boolean,
    protocol: 'http' | 'grpc' = 'http',
  ): void {
    this.routed.record(experiment, variant, protocol, code, seconds, error);
  }

  /** A request refused before routing. */
  rejectedRequest(code: number): void {
    this.rejected.inc({ code: String(code) });
  }

  /** Feedback made durable; counted only for a metric the experiment declares. */
  feedbackAccepted(experiment: string, variant: string, metric: string): void {
    if (this.declaredMetrics(experiment).includes(metric)) this.feedback.inc({ experiment, variant, metric });
  }

  labelsAccepted(experiment: string, variant: string, n: number): void {
    this.labels.inc({ experiment, variant }, n);
  }

  shadow(experiment: string, variant: string, seconds: number, ok: boolean): void {
    this.shadowDuration.observe({ experiment, variant }, seconds);
    this.shadowRequests.inc({ experiment, variant, outcome: ok ? 'ok' : 'error' });
  }

  shadowDrop(experiment: string): void {
    this.shadowDropped.inc({ experiment });
  }

  /** Replaces the weights shown for an experiment (undefined: it is gone). */
  weights(experiment: string, weights: Record<string, number> | undefined): void {
    if (weights) this.weightByExperiment.set(experiment, weights);
    else this.weightByExperiment.delete(experiment);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
