/**
 * `model-canary export --target prometheus`: recording and alerting rules for one experiment, from
 * its guardrails and drift settings, on the router's metrics (src/shared/metricNames.ts). Written
 * twice: as a plain rules file (`rule_files:` of a Prometheus) and as a prometheus-operator
 * `PrometheusRule` (monitoring.coreos.com/v1) with the same groups.
 *
 * Alerts (each only when the experiment has what it judges; each links its runbook in
 * docs/troubleshooting.md):
 * - ModelCanaryLatencyP95High: a variant's p95 latency over `rateWindow` (histogram_quantile over
 *   the request-duration buckets) above `guardrails.latencyP95Ms.max`;
 * - ModelCanaryErrorRateHigh: a variant's share of failed requests above `guardrails.errorRate.max`;
 * - ModelCanaryFeatureDrift: the router's verdict on a feature of a variant (its test, p-value and
 *   correction across features × variants, as in the report) is drift; needs `spec.drift`;
 * - ModelCanarySampleRatioMismatch: the SRM p-value below 0.001 (the report's mismatch threshold);
 * - ModelCanaryRolloutRolledBack: the rollout's state is RolledBack.
 */
import type { Experiment } from '../core/spec/experiment';
import { METRICS } from '../shared/metricNames';
import { stackLabels } from './labels';
import type { KubeObject } from './types';

/** The p-value below which the report calls a split a mismatch (src/core/stats/srm.ts). */
const SRM_P_VALUE = 0.001;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

/** Where the runbooks are unless --runbook-url says otherwise: this project's docs on GitHub. */
export const DEFAULT_RUNBOOK_URL =
  'https://github.com/model-canary/model-canary/blob/main/docs/troubleshooting.md';

export const ALERTS = [
  'ModelCanaryLatencyP95High',
  'ModelCanaryErrorRateHigh',
  'ModelCanaryFeatureDrift',
  'ModelCanarySampleRatioMismatch',
  'ModelCanaryRolloutRolledBack',
] as const;
export type AlertName = (typeof ALERTS)[number];

export interface RuleOptions {
  /** The range of rate() and of the p95: a Prometheus duration (default 5m). */
  rateWindow?: string;
  /** How long a condition must hold before its alert fires (default 5m; 0s fires at once). */
  alertFor?: string;
  /** The page the runbook annotations link to, without an anchor (default: docs/troubleshooting.md on GitHub). */
  runbookUrl?: string;
  /** How often the groups are evaluated (default: the Prometheus's global evaluation_interval). */
  interval?: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
}
export interface AlertingRule {
  alert: AlertName;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: (RecordingRule | AlertingRule)[];
}

/** The runbook anchor of an alert in docs/troubleshooting.md (GitHub's heading slug). */
export function runbookAnchor(alert: AlertName): string {
  return alert.toLowerCase();
}

/** `value` (or `fallback`) when it is a Prometheus duration; an error naming `flag` otherwise. */
export function duration(value: string | undefined, fallback: string, flag: string): string {
  const d = value ?? fallback;
  if (!DURATION.test(d))
    throw new Error(`${flag} must be a Prometheus duration such as 30s, 5m or 1h, got "${d}"`);
  return d;
}

/** The names of the recording rules for a window (`5m` → `experiment_variant:…:rate5m`). */
export function recordedSeries(window: string): { requests: string; errorRatio: string; p95: string } {
  return {
    requests: `experiment_variant:model_canary_requests:rate${window}`,
    errorRatio: `experiment_variant:model_canary_request_errors:ratio_rate${window}`,
    p95: `experiment_variant:model_canary_request_duration_seconds:p95_rate${window}`,
  };
}

/** The recording and alerting rule groups of one experiment. */
export function prometheusRuleGroups(exp: Experiment, opts: RuleOptions = {}): RuleGroup[] {
  const window = duration(opts.rateWindow, '5m', '--rate-window');
  const alertFor = duration(opts.alertFor, '5m', '--alert-for');
  const interval = opts.interval === undefined ? undefined : duration(opts.interval, '', 'the interval');
  const runbook = (opts.runbookUrl ?? DEFAULT_RUNBOOK_URL).replace(/#.*$/, '');
  const name = exp.metadata.name;
  const sel = `experiment="${name}"`;
  const series = recordedSeries(window);
  const rate = (metric: string): string =>
    `sum by (experiment, variant) (rate(${metric}{${sel}}[${window}]))`;
  const recording: RecordingRule[] = [
    { record: series.requests, expr: rate(METRICS.requests) },
    {
      record: series.errorRatio,
      expr: `${rate(METRICS.requestErrors)}\n/\n${rate(METRICS.requests)}`,
    },
    {
      record: series.p95,
      expr: `histogram_quantile(0.95, sum by (experiment, variant, le) (rate(${METRICS.requestDuration}_bucket{${sel}}[${window}])))`,
    },
  ];
  const alert = (
    a: AlertName,
    expr: string,
    severity: 'warning' | 'critical',
    summary: string,
    description: string,
  ): AlertingRule => ({
    alert: a,
    expr,
    for: a === 'ModelCanaryRolloutRolledBack' ? '0s' : alertFor,
    labels: { severity, experiment: name },
    annotations: { summary, description, runbook_url: `${runbook}#${runbookAnchor(a)}` },
  });
  const guardrails = exp.spec.metrics.guardrails;
  const alerts: AlertingRule[] = [];
  if (guardrails?.latencyP95Ms) {
    const max = guardrails.latencyP95Ms.max;
    alerts.push(
      alert(
        'ModelCanaryLatencyP95High',
        `${series.p95}{${sel}} > ${max / 1000}`,
        'warning',
        'Variant {{ $labels.variant }} of experiment {{ $labels.experiment }}: p95 latency over its guardrail',
        `p95 latency over the last ${window} is {{ $value | humanizeDuration }}; the guardrail (spec.metrics.guardrails.latencyP95Ms.max) is ${max} ms.`,
      ),
    );
  }
  if (guardrails?.errorRate) {
    const max = guardrails.errorRate.max;
    alerts.push(
      alert(
        'ModelCanaryErrorRateHigh',
        `${series.errorRatio}{${sel}} > ${max}`,
        'critical',
        'Variant {{ $labels.variant }} of experiment {{ $labels.experiment }}: error rate over its guardrail',
        `{{ $value | humanizePercentage }} of requests failed over the last ${window}; the guardrail (spec.metrics.guardrails.errorRate.max) is ${+(max * 100).toPrecision(6)}%.`,
      ),
    );
  }
  const drift = exp.spec.drift;
  if (drift) {
    alerts.push(
      alert(
        'ModelCanaryFeatureDrift',
        `${METRICS.featureDrift}{${sel}} == 1`,
        'warning',
        'Variant {{ $labels.variant }} of experiment {{ $labels.experiment }}: feature {{ $labels.feature }} drifts',
        `The recent ${drift.window} requests of the variant differ from the reference (${drift.reference}) on {{ $labels.feature }} ({{ $labels.test }} test, p < ${drift.pValue} with ${drift.correction} correction across features and variants).`,
      ),
    );
  }
  alerts.push(
    alert(
      'ModelCanarySampleRatioMismatch',
      `${METRICS.srmPValue}{${sel}} < ${SRM_P_VALUE}`,
      'warning',
      'Experiment {{ $labels.experiment }}: the observed split does not match the weights',
      `Sample-ratio-mismatch p-value {{ $value }} < ${SRM_P_VALUE}: the assignment is broken, so the A/B result cannot be trusted.`,
    ),
    alert(
      'ModelCanaryRolloutRolledBack',
      `${METRICS.rolloutState}{${sel},state="RolledBack"} == 1`,
      'critical',
      'Experiment {{ $labels.experiment }}: the progressive rollout rolled back',
      "The rollout moved all traffic back to the baseline; the reason is in the report's rollout section (model-canary report {{ $labels.experiment }}).",
    ),
  );
  const every = interval ? { interval } : {};
  return [
    { name: `model-canary-${name}-recording`, ...every, rules: recording },
    { name: `model-canary-${name}-alerts`, ...every, rules: alerts },
  ];
}

/** The same groups as a prometheus-operator PrometheusRule. */
export function prometheusRuleObject(exp: Experiment, groups: RuleGroup[], namespace?: string): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: `model-canary-${exp.metadata.name}`,
      ...(namespace ? { namespace } : {}),
      labels: stackLabels({
        name: 'model-canary-router',
        instance: exp.metadata.name,
        component: 'router',
        experiment: exp.metadata.name,
      }),
    },
    spec: { groups },
  };
}
