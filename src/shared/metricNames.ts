/**
 * The names of the router's Prometheus metrics (docs/monitoring.md), shared by the router that
 * exposes them (src/router/metrics.ts) and the rules and dashboards exported for them
 * (src/manifests/prometheusRules.ts, src/manifests/grafanaDashboard.ts), so the two cannot drift.
 */

export const METRICS = {
  requests: 'model_canary_requests_total',
  requestErrors: 'model_canary_request_errors_total',
  requestDuration: 'model_canary_request_duration_seconds',
  rejectedRequests: 'model_canary_rejected_requests_total',
  feedback: 'model_canary_feedback_total',
  labels: 'model_canary_labels_total',
  shadowDuration: 'model_canary_shadow_duration_seconds',
  shadowRequests: 'model_canary_shadow_requests_total',
  shadowDropped: 'model_canary_shadow_dropped_total',
  weight: 'model_canary_weight',
  driftPValue: 'model_canary_drift_p_value',
  driftStatistic: 'model_canary_drift_statistic',
  featureDrift: 'model_canary_feature_drift_detected',
  driftDetected: 'model_canary_drift_detected',
  detectorFlagged: 'model_canary_detector_flagged',
  srmPValue: 'model_canary_srm_p_value',
  srmMismatch: 'model_canary_srm_mismatch',
  guardrailBreached: 'model_canary_guardrail_breached',
  primaryMetricRate: 'model_canary_primary_metric_rate',
  primaryMetricPValue: 'model_canary_primary_metric_always_valid_p_value',
  rolloutState: 'model_canary_rollout_state',
  rolloutStep: 'model_canary_rollout_step_percent',
  shadowAgreement: 'model_canary_shadow_agreement_ratio',
} as const;

/**
 * Upper bounds (seconds) of the latency histograms: dense from 1 ms to 1 s, where model servers
 * answer and latency guardrails sit (a guardrail on a bound is judged exactly by
 * histogram_quantile), then sparse up to the upstream timeout range.
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4,
  0.5, 0.75, 1, 2.5, 5, 10, 30,
];

/** Every state a rollout can be in; `model_canary_rollout_state` has one series per state (1 for the current one). */
export const ROLLOUT_STATES = [
  'Initialized',
  'Progressing',
  'Paused',
  'Promoting',
  'Succeeded',
  'RolledBack',
  'Failed',
] as const;
