/**
 * Bring-your-own Alibi Detect detectors: the event the router logs for each batch a detector
 * judged, and the verdicts the report shows beside the built-in drift tests
 * (docs/drift.md#bring-your-own-detectors, docs/contracts.md).
 */

/** What a detector said about one batch, in Alibi Detect's own terms (absent: it did not say). */
export interface DetectorResult {
  /** Drift detectors: 1 when the batch drifts (Alibi Detect's `is_drift`). */
  isDrift?: number;
  /** Drift detectors: p-values, one per feature for feature-wise tests (KSDrift) or one overall. */
  pValues?: number[];
  /** Drift detectors: the test statistics or distances, in the same order. */
  distances?: number[];
  /** The threshold the detector compared with (after its own correction, for KSDrift). */
  threshold?: number;
  /** Outlier detectors: how many rows of the batch were outliers (`is_outlier`). */
  outliers?: number;
  /** Outlier detectors: the largest and the mean instance score of the batch. */
  maxScore?: number;
  meanScore?: number;
  /** The detector's module, from MLServer's `x-seldon-alibi-method` header (`ks` for KSDrift, …). */
  method?: string;
}

/** One batch of a variant's recorded features, judged by a detector (or the reason it was not). */
export interface DetectorEvent {
  type: 'detector';
  ts: number;
  experiment: string;
  /** The detector's name in `spec.drift.detectors`. */
  detector: string;
  variant: string;
  /** The run the batch's requests belong to. */
  run?: string;
  /** Requests in the batch, and the timestamps of its first and last. */
  rows: number;
  from: number;
  to: number;
  result?: DetectorResult;
  /** Why there is no result: the detector's error, a timeout, an unreachable server. */
  error?: string;
}

/** A detector's latest verdict on one variant, with counts over the run. */
export interface DetectorVerdict {
  detector: string;
  kind: 'drift' | 'outlier';
  variant: string;
  /** True when the detector's verdicts can pause a rollout (`gate: true`). */
  gate: boolean;
  /** The latest batch was flagged: drift, or at least one outlier. */
  flagged: boolean;
  /** Batches judged, and how many were flagged. */
  batches: number;
  flaggedBatches: number;
  /** Batches the detector could not judge (errors). */
  failedBatches: number;
  /** The latest batch: when it was judged, its size, the result or the error. */
  ts: number;
  rows: number;
  result?: DetectorResult;
  error?: string;
}

/** A detector as the experiment file names it (`spec.drift.detectors`). */
export interface DetectorSetting {
  detector: string;
  kind: 'drift' | 'outlier';
  gate: boolean;
  batchSize: number;
  features: string[];
}

/** The report's `drift.detectors`: the detectors named, and their latest verdict per variant. */
export interface DetectorsReport {
  settings: DetectorSetting[];
  verdicts: DetectorVerdict[];
}

/** True when a result flags its batch. */
export function isFlagged(kind: 'drift' | 'outlier', result: DetectorResult | undefined): boolean {
  if (!result) return false;
  return kind === 'drift' ? result.isDrift === 1 : (result.outliers ?? 0) > 0;
}
