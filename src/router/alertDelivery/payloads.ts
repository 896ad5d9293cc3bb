/**
 * The bodies of alert messages: Alertmanager's webhook payload (version 4, what an Alertmanager
 * `webhook_config` receiver gets, so tools written for it read ours) and Slack-compatible JSON
 * (`text` plus Block Kit blocks, what Slack's and Mattermost's incoming webhooks take).
 * Pure functions: the same message always gives the same body.
 */
import { createHash } from 'node:crypto';
import type { Alert } from '../../core/analysis/alerts';
import type { AlertFormat } from '../../core/spec/alertsSpec';

/** One alert in a message, with when it started and (resolved) ended. */
export interface MessageAlert {
  alert: Alert;
  startsAt: number;
  /** Set for a resolved alert. */
  endsAt?: number;
}

/** What one webhook call says: alerts of one experiment that share a status. */
export interface AlertMessage {
  experiment: string;
  run?: string;
  /** The webhook's name (Alertmanager's `receiver`). */
  webhook: string;
  status: 'firing' | 'resolved';
  alerts: MessageAlert[];
}

/** Where each alert's explanation is (the runbook annotation). */
export const RUNBOOK_URL = 'https://github.com/model-canary/model-canary/blob/main/docs/alerts.md';

// Alertmanager's zero time: what it sends as endsAt of an alert that has not ended.
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager's severities: ours are error, warning, info. */
const SEVERITY: Record<Alert['severity'], string> = { error: 'critical', warning: 'warning', info: 'info' };

/** The alert's name as Prometheus would write it, e.g. `ModelCanaryErrorRateHigh` (the names of the exported Prometheus rules). */
export function alertName(alert: Alert): string {
  switch (alert.kind) {
    case 'guardrail':
      return alert.subject === 'latencyP95Ms'
        ? 'ModelCanaryLatencyP95High'
        : alert.subject === 'errorRate'
          ? 'ModelCanaryErrorRateHigh'
          : 'ModelCanaryModelGuardrail';
    case 'srm':
      return 'ModelCanarySampleRatioMismatch';
    case 'drift':
      return alert.subject === 'prediction' ? 'ModelCanaryPredictionDrift' : 'ModelCanaryFeatureDrift';
    case 'rollout':
      return `ModelCanaryRollout${alert.subject ?? ''}`;
  }
}

/** The labels that identify an alert (its fingerprint is theirs). */
export function alertLabels(experiment: string, alert: Alert): Record<string, string> {
  const labels: Record<string, string> = {
    alertname: alertName(alert),
    experiment,
    kind: alert.kind,
    severity: SEVERITY[alert.severity],
    source: 'model-canary-router',
  };
  if (alert.variant) labels.variant = alert.variant;
  if (alert.kind === 'guardrail' && alert.subject) labels.guardrail = alert.subject;
  if (alert.kind === 'drift' && alert.subject && alert.subject !== 'prediction')
    labels.feature = alert.subject;
  // A rollout transition is an event: its time tells two of the same kind apart.
  if (alert.kind === 'rollout' && alert.at !== undefined) labels.transition_at = String(alert.at);
  return labels;
}

/** Alertmanager's fingerprint: a hash of the sorted labels, 16 hex digits. */
export function fingerprint(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The dashboard page of an experiment, when the router's external URL is known. */
export function dashboardUrl(externalURL: string | undefined, experiment: string): string | undefined {
  if (!externalURL) return undefined;
  return `${externalURL.replace(/\/+$/, '')}/dashboard/?experiment=${encodeURIComponent(experiment)}`;
}

function annotations(m: AlertMessage, a: MessageAlert, externalURL?: string): Record<string, string> {
  const out: Record<string, string> = {
    summary: a.alert.message,
    description: `${m.experiment}: ${a.alert.message}`,
    runbook_url: `${RUNBOOK_URL}#${a.alert.kind}`,
  };
  const dashboard = dashboardUrl(externalURL, m.experiment);
  if (dashboard) out.dashboard = dashboard;
  if (m.run) out.run = m.run;
  return out;
}

/** The key-value pairs every map in `maps` has with the same value. */
function common(maps: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Alertmanager's webhook payload, version 4. */
export function alertmanagerPayload(m: AlertMessage, externalURL?: string): Record<string, unknown> {
  const alerts = m.alerts.map((a) => {
    const labels = alertLabels(m.experiment, a.alert);
    return {
      status: m.status,
      labels,
      annotations: annotations(m, a, externalURL),
      startsAt: iso(a.startsAt),
      endsAt: a.endsAt !== undefined ? iso(a.endsAt) : ZERO_TIME,
      generatorURL: dashboardUrl(externalURL, m.experiment) ?? '',
      fingerprint: fingerprint(labels),
    };
  });
  const groupLabels = { experiment: m.experiment };
  return {
    version: '4',
    groupKey: `{}:{experiment=${JSON.stringify(m.experiment)}}`,
    truncatedAlerts: 0,
    status: m.status,
    receiver: m.webhook,
    groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: externalURL ?? '',
    alerts,
  };
}

/** Slack's mrkdwn treats &, < and > as markup. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack-compatible JSON: `text` (notifications, clients without blocks) and blocks. */
export function slackPayload(m: AlertMessage, externalURL?: string): Record<string, unknown> {
  const resolved = m.status === 'resolved';
  const n = m.alerts.length;
  const head = `${resolved ? 'Resolved' : 'Firing'}: ${n === 1 ? '1 alert' : `${n} alerts`} on ${m.experiment}`;
  const lines = m.alerts.map((a) => `${a.alert.severity}: ${a.alert.message}`);
  const text = `[${resolved ? 'RESOLVED' : 'FIRING'}] ${m.experiment}: ${m.alerts.map((a) => a.alert.message).join('; ')}`;
  const dashboard = dashboardUrl(externalURL, m.experiment);
  const since = Math.min(...m.alerts.map((a) => a.startsAt));
  const context = [
    `since ${iso(since)}`,
    ...(resolved ? [`resolved ${iso(Math.max(...m.alerts.map((a) => a.endsAt ?? since)))}`] : []),
    ...(m.run ? [`run ${m.run}`] : []),
    `<${RUNBOOK_URL}#${m.alerts[0]?.alert.kind ?? ''}|runbook>`,
  ];
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: head } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: lines.map((l) => `• ${escapeSlack(l)}`).join('\n') },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
  ];
  if (dashboard)
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open Dashboard' }, url: dashboard }],
    });
  return { text, blocks };
}

/** The body for a webhook's format. */
export function payloadFor(
  format: AlertFormat,
  m: AlertMessage,
  externalURL?: string,
): Record<string, unknown> {
  return format === 'slack' ? slackPayload(m, externalURL) : alertmanagerPayload(m, externalURL);
}
