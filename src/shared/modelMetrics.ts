/**
 * The report's model metrics (contract: docs/model-metrics.md): per variant, the quality of
 * its predictions scored against delayed ground truth (labels posted by request id), and each
 * candidate's difference to the baseline. Numbers that cannot be computed yet are NaN (null
 * in JSON). No DOM and no Node: the webview imports this file.
 */

/** An estimate with its 95% interval. */
export interface ModelEstimate {
  value: number;
  ci95: [number, number];
}

/** One variant's model metrics. Classification fills accuracy … auc; regression mae and rmse. */
export interface VariantModelMetrics {
  variant: string;
  /** Requests of the variant with a label (the latest counts). */
  labels: number;
  /** Of those, the ones whose request recorded a prediction: the ones scored. */
  scored: number;
  /** Share of scored labels whose class the model predicted (Wilson interval). */
  accuracy?: ModelEstimate;
  /** Scored labels with a score, by class (log-loss, Brier and AUC use these). */
  positives?: number;
  negatives?: number;
  /** Mean binary cross-entropy of the score against the label (lower is better). */
  logLoss?: ModelEstimate;
  /** Mean squared difference of the score and the label (0 or 1; lower is better). */
  brier?: ModelEstimate;
  /** ROC AUC of the score with DeLong's interval. */
  auc?: ModelEstimate;
  /** Mean absolute error (regression). */
  mae?: ModelEstimate;
  /** Root mean squared error (regression). */
  rmse?: ModelEstimate;
}

/** A candidate's metric minus the baseline's, with the 95% interval of the difference. */
export interface ModelMetricDifference {
  variant: string;
  baseline: string;
  metric: 'accuracy' | 'auc' | 'logLoss' | 'brier' | 'mae' | 'rmse';
  difference: number;
  ci95: [number, number];
}

export interface ModelMetricsReport {
  task: 'classification' | 'regression';
  positiveClass?: number | string;
  variants: VariantModelMetrics[];
  differences: ModelMetricDifference[];
  /** Labels for excluded requests (forced, debug, shadow): counted here, never in the metrics. */
  excludedLabels: number;
  /** Labels whose request this report cannot attribute to a variant of its run. */
  unattributedLabels: number;
}
