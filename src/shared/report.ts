/**
 * The report (contract: docs/contracts.md, "Report"): what the router serves at
 * /api/v1/experiments/{name}/report, what `model-canary analyze` prints, and what the
 * dashboard draws. Field names here are relied on by checks; add, don't rename.
 */
import type { DetectorsReport } from './detectors';
import type { ModelMetricsReport } from './modelMetrics';

export type { ModelMetricsReport } from './modelMetrics';

import type { PlanDurations, TestPlan } from './plan';

export type Decision = 'promote' | 'rollback' | 'continue' | 'inconclusive';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
}

export interface MetricSummary {
  /** Requests with feedback for this metric. */
  count: number;
  sum: number;
  /** For proportions: requests whose latest value is 1, over all non-shadow requests of the variant. */
  rate: number;
}

export interface VariantReport {
  name: string;
  role: 'baseline' | 'candidate';
  /** Configured weight. */
  weight: number;
  /** Share of the experiment's non-shadow requests this variant received. */
  observedShare: number;
  requests: number;
  errors: number;
  errorRate: number;
  latencyMs: LatencySummary;
  feedback: Record<string, MetricSummary>;
  /**
   * With a sticky key: the users first assigned to this variant (the unit the A/B and the SRM
   * count). Absent when the unit is the request.
   */
  users?: number;
  /** Of `requests`, those that came over gRPC (the rest over HTTP); absent in older reports. */
  grpcRequests?: number;
  /**
   * A graph variant's steps (docs/graphs.md), in the graph's order: the requests that reached
   * each, its errors and its own latency, and `after`, the steps it reads from (none: the
   * request). Absent for a single model and in older reports (which have no `after`, in the order
   * first seen).
   */
  steps?: {
    name: string;
    requests: number;
    errors: number;
    errorRate: number;
    latencyMs: LatencySummary;
    after?: string[];
  }[];
  /** Requests per second per model-server replica over the run (its load beside its latency); absent in older reports. */
  loadPerReplica?: number;
}

export interface SrmReport {
  chi2: number;
  pValue: number;
  mismatch: boolean;
  /** What was counted: users (distinct, by the arm of their first request) or requests. Absent in older reports (requests). */
  unit?: 'user' | 'request';
  /** Units counted over the arms tested (users or requests). */
  total?: number;
  /**
   * With users as the unit: the request-level chi-square, shown for comparison only. It treats
   * each request as independent, so repeated users make it fire without a broken assignment.
   */
  requestLevel?: { chi2: number; pValue: number };
}

export interface Comparison {
  variant: string;
  baseline: string;
  metric: string;
  baselineRate: number;
  variantRate: number;
  absoluteLift: number;
  relativeLift: number;
  /** 95% CI of the absolute lift (Newcombe hybrid score). */
  ci95: [number, number];
  /** 95% CI of the relative lift (log risk ratio). */
  relativeCi95: [number, number];
  /** Fixed-horizon p-value (z-test or Welch); shown, never used for a decision. */
  pValue: number;
  /** Always-valid p-value of the mixture SPRT (running minimum over looks); decisions use it. */
  sequentialPValue: number;
  /**
   * Always-valid (1 − sequentialAlpha) confidence sequence of the absolute lift: the running
   * intersection of the mSPRT's intervals, valid however often it is looked at. [NaN, NaN]
   * (null in JSON) before the test has started. Absent in reports of older versions.
   */
  sequentialCi?: [number, number];
  /** The α of sequentialCi and of the decisions (rollout.alpha, default 0.05). */
  sequentialAlpha?: number;
  chanceToBeatBaseline: number;
  decision: Decision;
  reason: string;
  /** What the rates are per: user (the experiment has a sticky key) or request. Absent in older reports (request). */
  unit?: 'user' | 'request';
  /**
   * The primary metric's test planned at the current split and the observed baseline: the MDE,
   * the fixed-horizon sample size and the always-valid test's expected stopping time at the MDE
   * (docs/planning.md). Absent before the baseline has a rate, and in older reports.
   */
  plan?: TestPlan;
  /**
   * Seconds still needed at the current rate until the always-valid test's expected, 10th and
   * 90th percentile stopping times, its planned-power point and the fixed horizon (0 once past).
   */
  timeToDecision?: PlanDurations;
  /**
   * With users as the unit: the primary metric per request (Σ values / Σ requests per arm) with
   * a delta-method (cluster-robust) 95% interval and p-value that account for a user's requests
   * not being independent.
   */
  perRequest?: {
    baselineRate: number;
    variantRate: number;
    absoluteLift: number;
    ci95: [number, number];
    pValue: number;
  };
}

export interface FeatureDrift {
  name: string;
  variant: string;
  test: string;
  statistic: number;
  pValue: number;
  drift: boolean;
}

export interface PredictionDrift {
  variant: string;
  test: string;
  statistic: number;
  pValue: number;
  drift: boolean;
}

export interface DriftReport {
  reference: string;
  window: number;
  correction: 'bonferroni' | 'fdr';
  threshold: number;
  features: FeatureDrift[];
  prediction: PredictionDrift[];
  /** Per variant: does any of its features drift (under the one correction across features × variants)? */
  variants?: { variant: string; drift: boolean }[];
  /** Any feature of any variant drifts; holds the nominal level across features × variants. */
  datasetDrift: boolean;
  /** Bring-your-own Alibi Detect detectors and their verdicts; absent when the experiment names none. */
  detectors?: DetectorsReport;
  /**
   * Drift on the model's input in graph variants (`drift.modelInput`): the tensor a transformer
   * produced, against its own reference, one correction across its columns × variants. Absent
   * without `drift.modelInput` (and in reports of older versions).
   */
  modelInput?: ModelInputDrift;
}

/** Feature drift of the tensor a graph's model receives (DriftReport.modelInput). */
export interface ModelInputDrift extends Omit<DriftReport, 'modelInput' | 'detectors' | 'prediction'> {
  /** The graph reference recorded, e.g. `propensity-features.outputs.features`. */
  tensor: string;
}

/**
 * Traffic left out of the experiment: requests whose variant was not chosen at random, and the
 * feedback for them. They are reported here and never counted in the split, the SRM, the A/B,
 * the guardrails or the drift windows.
 */
export interface ExcludedTraffic {
  /** Requests that forced their variant with the `x-model-canary-variant` header. */
  forced: number;
  /** Requests that carried a debug header named in the experiment's `spec.routing.debugHeaders`. */
  debug: number;
  /** Mirrored (shadow) requests; they feed the shadow's agreement only. */
  shadow: number;
  /** Requests with an assignment this version does not know (written by a newer router). */
  other: number;
  /** Feedback events for forced, debug or other excluded requests. */
  feedback: number;
  /** Debug requests per header. */
  headers: Record<string, number>;
  /** Excluded routed requests per variant. */
  variants: Record<string, { forced: number; debug: number; other: number }>;
}

/** The unit of analysis, and how well a user stayed in one arm (src/core/analysis/units.ts). */
export interface UnitsReport {
  /** `user` when the experiment has a sticky key, else `request`. */
  unit: 'user' | 'request';
  /** The header whose value identifies a user. */
  key?: string;
  /** Users counted (each in the arm of its first request). */
  users: number;
  /** Randomised requests without a user (no sticky header, or a log written before users were recorded): each is a unit of one. */
  requestsWithoutUser: number;
  /** Users later routed to another arm; their requests there are left out of the user-level A/B. */
  crossovers: number;
  /** Of those, users who changed arm while the weights stayed the same: stickiness is broken. */
  unexplainedCrossovers: number;
  /** Requests left out of the user-level A/B because their user had crossed over. */
  crossoverRequests: number;
  /** Users dropped from memory (the oldest idle ones); one that comes back counts again as a new user. */
  evicted: number;
  /** Users held in memory at most (two generations of this many / 2). */
  memory: number;
}

/** One arm under an attribution window (src/core/analysis/attribution.ts). */
export interface AttributionCounts {
  /** Units whose window has passed: the A/B counts these, with the feedback that came within the window. */
  matured: number;
  /** Units still inside their window: left out of the A/B until they mature. */
  pending: number;
  /** Units not admitted because too many were pending at once: in the split and SRM, never in the A/B. */
  overflow: number;
  /** Primary-metric feedback that came after its unit's window (or for a unit outside the A/B): recorded, not counted. */
  late: number;
}

/**
 * How feedback is attributed to the A/B. `immediate`: every unit counts from its first request,
 * and feedback not yet arrived counts as none (biased down for young units when feedback is
 * delayed). `window`: units count once their attribution window has passed, on the log's clock.
 */
export interface AttributionReport {
  rule: 'immediate' | 'window';
  /** What a unit is: the user (sticky key) or the request. */
  unit: 'user' | 'request';
  /** The window as the experiment file says it (`24h`), and in ms. */
  window?: string;
  windowMs?: number;
  /** Units that can wait at once; beyond, new ones are not admitted (overflow). */
  capacity?: number;
  /** Per variant, with a window. */
  variants?: Record<string, AttributionCounts>;
}

export interface ShadowReport {
  variant: string;
  requests: number;
  /** Share of mirrored requests whose predicted class matched the primary's. */
  agreement: number;
}

export interface GuardrailResult {
  name: string;
  variant: string;
  value: number;
  limit: number;
  ok: boolean;
  /** A model guardrail still short of labels: not judged yet (it holds a promotion). */
  pending?: boolean;
  /** What the result means, when `value > limit` does not say it (model guardrails). */
  detail?: string;
  /**
   * A latency limit exceeded by the baseline while it carries several times the load per
   * replica of an arm within it: reported `ok`, with why (src/core/analysis/guardrails.ts).
   */
  confounded?: string;
}

/** One time bucket of the timeline: what each variant served in it. */
export interface TimelinePoint {
  /** Start of the bucket, epoch ms. */
  ts: number;
  variants: Record<string, { requests: number; errors: number; latencyMs: LatencySummary }>;
}

/** A change of the configured split. */
export interface WeightChange {
  ts: number;
  weights: Record<string, number>;
  source?: string;
  reason?: string;
}

/** History for charts over time (bounded: the most recent buckets only). */
export interface Timeline {
  bucketMs: number;
  points: TimelinePoint[];
  weights: WeightChange[];
}

/** A progressive rollout, as the report shows it (see src/core/rollout). */
export interface RolloutStatus {
  /** Initialized | Progressing | Paused | Promoting | Succeeded | RolledBack | Failed */
  state: string;
  baseline: string;
  candidate: string;
  /** Index into steps of the current step; -1 before the first. */
  stepIndex: number;
  steps: number[];
  stepStartedAt: number;
  stepStartRequests: number;
  /** With an attribution window: the candidate's matured units when the step started (absent in older logs). */
  stepStartMatured?: number;
  awaitingApproval: boolean;
  approved: boolean;
  reason: string;
  gates: { name: string; ok: boolean; detail: string }[];
  history: { ts: number; from: string; to: string; step: number; weight: number; reason: string }[];
}

/** A run of the experiment: a deploy starts one (src/shared/events.ts, RunEvent). */
export interface RunInfo {
  id: string;
  /** Epoch ms. */
  startedAt: number;
  reason?: string;
}

/** One replica of the router as the merged report saw it (docs/kubernetes.md, "Replicas: one report"). */
export interface ReplicaStatus {
  /** The replica's identity (its Pod name). */
  name: string;
  /** Whether the leader read its events at the last try; while false its newer events are missing. */
  reachable: boolean;
  /** Epoch ms of the newest event of this replica in the report; absent before its first. */
  lastEventAt?: number;
  /** Milliseconds since the report last held everything this replica had logged. */
  lag: number;
  /** Why its events could not be read, when they could not. */
  error?: string;
}

export interface Report {
  experiment: string;
  generatedAt: string;
  /** The run the report covers; absent for the events before the first run (and in older reports). */
  run?: RunInfo;
  variants: VariantReport[];
  srm: SrmReport;
  comparisons: Comparison[];
  drift?: DriftReport;
  shadow?: ShadowReport;
  guardrails: GuardrailResult[];
  /** The unit of analysis and the users' stickiness; absent in reports of older versions (requests). */
  units?: UnitsReport;
  /** The attribution rule in force, and matured against pending units per arm; absent in reports of older versions (immediate). */
  attribution?: AttributionReport;
  /** Traffic left out of the experiment (forced, debug, shadow); absent in reports of older versions. */
  excluded?: ExcludedTraffic;
  /** Per-bucket traffic, errors and latency, and the weight history. */
  timeline?: Timeline;
  /** The progressive rollout, when one was started. */
  rollout?: RolloutStatus;
  /**
   * Lines of the router's event log that replay quarantined (not events: see
   * docs/troubleshooting.md, "Quarantined log lines"); absent when there are none.
   */
  eventLog?: { quarantined: number; quarantineFile: string };
  /**
   * An earlier run's report is rebuilt from the segments: when retention removed some, this says
   * which (src/core/log/compacted.ts) and the report misses their events. Absent otherwise.
   */
  compacted?: { segments: number; bytes: number; note: string };
  /** Model quality from delayed ground truth, when the experiment declares `spec.metrics.model`. */
  modelMetrics?: ModelMetricsReport;
  /** The replicas merged into this report (absent from a single router's report). */
  replicas?: ReplicaStatus[];
}
