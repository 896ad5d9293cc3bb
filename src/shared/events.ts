import type { DetectorEvent } from './detectors';
import type { RolloutStatus } from './report';

/**
 * The router's event log, one JSON object per line (contract: docs/contracts.md,
 * "Event log"). `model-canary analyze` reads the same lines offline.
 */

/**
 * How a request's variant was chosen. Only `weighted` and `sticky` are randomised assignment,
 * the traffic an experiment is judged on; `forced` (the `x-model-canary-variant` header),
 * `debug` (a header the experiment names in `spec.routing.debugHeaders`) and `shadow` (a
 * mirrored call) are reported beside it.
 */
export type Assignment = 'weighted' | 'sticky' | 'forced' | 'debug' | 'shadow';

/** A routed (or mirrored, `shadow: true`) inference request. */
export interface RequestEvent {
  type: 'request';
  /** Request id (the client's `x-request-id` when it sent one). */
  id: string;
  /** Epoch milliseconds when the request arrived. */
  ts: number;
  experiment: string;
  variant: string;
  latencyMs: number;
  /** HTTP status returned to the client (or by the shadow); 5xx and 0 (no answer) are errors. */
  status: number;
  shadow?: boolean;
  /**
   * How the variant was chosen. Absent in logs written before it was added: such a request
   * counts as randomised unless it is a shadow call.
   */
  assignment?: Assignment;
  /**
   * For `assignment: 'sticky'`: the user, as a hash of the experiment and the sticky header's
   * value (16 hex digits of SHA-256), never the value itself. The unit of analysis.
   */
  user?: string;
  /** For `assignment: 'debug'`: the header that marked the request. */
  debugHeader?: string;
  /** The run of the experiment the request belongs to (absent before the first run, and in older logs). */
  run?: string;
  /** Sampled named features, for drift. */
  inputs?: Record<string, number | string>;
  /** The first row of the model's input in a graph variant (`drift.modelInput.tensor`), by the reference's columns. */
  modelInputs?: Record<string, number | string>;
  /** The model's output: class and score of the positive class. */
  outputs?: { predict?: number | string; proba?: number };
  /** Why the request failed, when it did. */
  error?: string;
  /** The protocol the client used: absent for HTTP (and in logs written before gRPC was added). */
  protocol?: 'grpc';
  /**
   * A graph variant's steps in the order they finished: each one's latency, HTTP status and
   * error. Absent for a single-model variant (and in logs written before graphs).
   */
  steps?: { name: string; latencyMs: number; status: number; error?: string }[];
}

/** An outcome for a request, attributed to its variant through the request id. */
export interface FeedbackEvent {
  type: 'feedback';
  id: string;
  ts: number;
  experiment: string;
  metric: string;
  value: number;
  /**
   * The variant the request was routed to, as the router resolved it when it accepted the
   * feedback. Lets a report attribute feedback for requests older than its own memory of ids.
   * Absent in logs written before it was added.
   */
  variant?: string;
  /** The run of the request the feedback is for (absent when the request had none). */
  run?: string;
}

/**
 * Delayed ground truth for a request: the true class (a classifier) or the true value (a
 * regressor), attributed to its variant and run through the request id as feedback is. The
 * latest label of a request wins. Older logs have none.
 */
export interface LabelEvent {
  type: 'label';
  id: string;
  ts: number;
  experiment: string;
  label: number | string;
  /** The variant the request was routed to, as the router resolved it. */
  variant?: string;
  /** The run of the request the label is for (absent when the request had none). */
  run?: string;
}

/** A change of the configured split (by hand, by a rollout, or by a config reload). */
export interface WeightsEvent {
  type: 'weights';
  ts: number;
  experiment: string;
  weights: Record<string, number>;
  /** Who or what changed it: "api", "config", "rollout", … */
  source?: string;
  reason?: string;
}

/** A progressive-rollout action or transition, with the rollout's state after it (so replay restores it). */
export interface RolloutEvent {
  type: 'rollout';
  ts: number;
  experiment: string;
  /** What happened: a user action, or "evaluate" for a transition the gates made. */
  action: 'start' | 'pause' | 'resume' | 'approve' | 'abort' | 'evaluate';
  state: RolloutStatus;
}

/**
 * A new run of an experiment: a deploy (or a demo's reset) starts one. The report, the SRM, drift
 * and the rollout gates cover the current run; a line without `run` belongs to the run started
 * last before it (none before the first run event).
 */
export interface RunEvent {
  type: 'run';
  ts: number;
  experiment: string;
  /** The run's id, unique in the log. */
  run: string;
  /** Why it started: "deploy", "demo", "api", … */
  reason?: string;
  /** The weights in force when it started. */
  weights: Record<string, number>;
}

/**
 * The outcome of one alert message to a webhook (docs/alerts.md): what the router's own alert
 * evaluator sent, to which webhook (by name, never its URL), and how it went. Replay rebuilds
 * from these which alerts each webhook was told about, so a restart does not send them again.
 * Older logs have none.
 */
export interface AlertEvent {
  type: 'alert';
  ts: number;
  experiment: string;
  /** The webhook's name: its key in the alert secrets file. */
  webhook: string;
  format: 'alertmanager' | 'slack';
  status: 'firing' | 'resolved';
  /** The alerts in the message (their stable keys, `src/core/analysis/alerts.ts`). */
  keys: string[];
  /** `delivered` (a 2xx answer), `failed` (every attempt failed) or `dropped` (the queue was full). */
  outcome: 'delivered' | 'failed' | 'dropped';
  /** HTTP calls made (0 when dropped). */
  attempts: number;
  /** The last answer's HTTP status, when there was one. */
  httpStatus?: number;
  /** Why the last attempt failed, with secrets removed. */
  error?: string;
  /** The run of the experiment the alerts were about. */
  run?: string;
}

export type ExperimentEvent =
  | RequestEvent
  | FeedbackEvent
  | LabelEvent
  | WeightsEvent
  | RolloutEvent
  | RunEvent
  | AlertEvent
  | DetectorEvent;

export type { DetectorEvent } from './detectors';
