/**
 * Prometheus metrics (prom-client): counters and histograms updated on the hot path, and gauges
 * read from the live report on scrape (drift p-values, SRM, shadow agreement), so Prometheus and
 * the dashboard show the same numbers.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Report } from '../shared/report';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Pair = 'experiment' | 'variant';
/** How a request reached the router: `http` or `grpc`. */
type Routed = Pair | 'protocol';

export class RouterMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<Routed>;
  private readonly requests: Counter<Routed | 'code'>;
  private readonly errors: Counter<Routed>;
  private readonly rejected: Counter<'code'>;
  private readonly feedback: Counter<Pair | 'metric'>;
  private readonly labels: Counter<Pair>;
  private readonly shadowDuration: Histogram<Pair>;
  private readonly shadowRequests: Counter<Pair | 'outcome'>;
  private readonly shadowDropped: Counter<'experiment'>;
  private readonly weightByExperiment = new Map<string, Record<string, number>>();
  // Label children are looked up once per (experiment, variant), not per request.
  private readonly children = new Map<
    string,
    { duration: Histogram.Internal<Routed>; errors: Counter.Internal; codes: Map<number, Counter.Internal> }
  >();

  constructor(reports: () => Report[]) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'model_canary_' });
    this.duration = new Histogram({
      name: 'model_canary_request_duration_seconds',
      help: 'Time from a request arriving to the upstream answer, by experiment, variant and protocol.',
      labelNames: ['experiment', 'variant', 'protocol'],
      buckets: BUCKETS,
      registers,
    });
    this.requests = new Counter({
      name: 'model_canary_requests_total',
      help: 'Routed inference requests by experiment, variant, protocol and the HTTP status code (a gRPC call: the status its code maps from).',
      labelNames: ['experiment', 'variant', 'protocol', 'code'],
      registers,
    });
    this.errors = new Counter({
      name: 'model_canary_request_errors_total',
      help: 'Routed requests the variant failed (upstream 5xx, unreachable or timed out), by protocol.',
      labelNames: ['experiment', 'variant', 'protocol'],
      registers,
    });
    this.rejected = new Counter({
      name: 'model_canary_rejected_requests_total',
      help: 'Requests refused before reaching a variant (malformed, unknown, too large), by status code.',
      labelNames: ['code'],
      registers,
    });
    this.feedback = new Counter({
      name: 'model_canary_feedback_total',
      help: 'Feedback events accepted (durable), by experiment, variant and metric.',
      labelNames: ['experiment', 'variant', 'metric'],
      registers,
    });
    this.labels = new Counter({
      name: 'model_canary_labels_total',
      help: 'Labels (delayed ground truth) accepted (durable), by experiment and variant.',
      labelNames: ['experiment', 'variant'],
      registers,
    });
    this.shadowDuration = new Histogram({
      name: 'model_canary_shadow_duration_seconds',
      help: 'Latency of mirrored calls to the shadow variant.',
      labelNames: ['experiment', 'variant'],
      buckets: BUCKETS,
      registers,
    });
    this.shadowRequests = new Counter({
      name: 'model_canary_shadow_requests_total',
      help: 'Mirrored calls completed, by outcome (ok or error).',
      labelNames: ['experiment', 'variant', 'outcome'],
      registers,
    });
    this.shadowDropped = new Counter({
      name: 'model_canary_shadow_dropped_total',
      help: 'Mirrors dropped because the shadow already had its maximum of calls in flight.',
      labelNames: ['experiment'],
      registers,
    });
    const weightByExperiment = this.weightByExperiment;
    new Gauge({
      name: 'model_canary_weight',
      help: 'Configured weight of each variant.',
      labelNames: ['experiment', 'variant'],
      registers,
      collect() {
        this.reset();
        for (const [experiment, weights] of weightByExperiment)
          for (const [variant, w] of Object.entries(weights)) this.set({ experiment, variant }, w);
      },
    });
    new Gauge({
      name: 'model_canary_drift_p_value',
      help: 'Drift test p-value per experiment, variant and feature ("prediction" for the model output).',
      labelNames: ['experiment', 'variant', 'feature', 'test'],
      registers,
      collect() {
        this.reset();
        for (const r of reports()) {
          for (const f of r.drift?.features ?? [])
            this.set(
              { experiment: r.experiment, variant: f.variant, feature: f.name, test: f.test },
              f.pValue,
            );
          for (const p of r.drift?.prediction ?? [])
            this.set(
              { experiment: r.experiment, variant: p.variant, feature: 'prediction', test: p.test },
              p.pValue,
            );
        }
      },
    });
    new Gauge({
      name: 'model_canary_srm_p_value',
      help: 'Sample-ratio-mismatch test p-value of the observed split against the weights.',
      labelNames: ['experiment'],
      registers,
      collect() {
        this.reset();
        for (const r of reports()) this.set({ experiment: r.experiment }, r.srm.pValue);
      },
    });
    // For alerting rules: 1 while a threshold of the experiment is breached, and the rollout's state.
    new Gauge({
      name: 'model_canary_guardrail_breached',
      help: 'Whether a guardrail of the experiment is breached (1) or not (0), per variant.',
      labelNames: ['experiment', 'variant', 'guardrail'],
      registers,
      collect() {
        this.reset();
        for (const r of reports())
          for (const g of r.guardrails)
            this.set({ experiment: r.experiment, variant: g.variant, guardrail: g.name }, g.ok ? 0 : 1);
      },
    });
    new Gauge({
      name: 'model_canary_srm_mismatch',
      help: 'Whether the observed split mismatches the weights (1: p < 0.001).',
      labelNames: ['experiment'],
      registers,
      collect() {
        this.reset();
        for (const r of reports()) this.set({ experiment: r.experiment }, r.srm.mismatch ? 1 : 0);
      },
    });
    new Gauge({
      name: 'model_canary_drift_detected',
      help: 'Whether input drift is detected on the experiment (dataset drift, 1) or not (0).',
      labelNames: ['experiment'],
      registers,
      collect() {
        this.reset();
        for (const r of reports())
          if (r.drift) this.set({ experiment: r.experiment }, r.drift.datasetDrift ? 1 : 0);
      },
    });
    new Gauge({
      name: 'model_canary_rollout_state',
      help: "1 for the progressive rollout's current state (Progressing, Paused, Succeeded, RolledBack, …).",
      labelNames: ['experiment', 'state'],
      registers,
      collect() {
        this.reset();
        for (const r of reports())
          if (r.rollout) this.set({ experiment: r.experiment, state: r.rollout.state }, 1);
      },
    });
    new Gauge({
      name: 'model_canary_shadow_agreement_ratio',
      help: "Share of mirrored requests whose predicted class matched the primary's.",
      labelNames: ['experiment', 'variant'],
      registers,
      collect() {
        this.reset();
        for (const r of reports())
          if (r.shadow) this.set({ experiment: r.experiment, variant: r.shadow.variant }, r.shadow.agreement);
      },
    });
  }

  private child(experiment: string, variant: string, protocol: string) {
    const key = `${experiment}\0${variant}\0${protocol}`;
    let c = this.children.get(key);
    if (!c) {
      const labels = { experiment, variant, protocol };
      c = { duration: this.duration.labels(labels), errors: this.errors.labels(labels), codes: new Map() };
      this.children.set(key, c);
    }
    return c;
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
    const c = this.child(experiment, variant, protocol);
    c.duration.observe(seconds);
    if (error) c.errors.inc();
    let counter = c.codes.get(code);
    if (!counter) {
      counter = this.requests.labels({ experiment, variant, protocol, code: String(code) });
      c.codes.set(code, counter);
    }
    counter.inc();
  }

  /** A request refused before routing. */
  rejectedRequest(code: number): void {
    this.rejected.inc({ code: String(code) });
  }

  feedbackAccepted(experiment: string, variant: string, metric: string): void {
    this.feedback.inc({ experiment, variant, metric });
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
