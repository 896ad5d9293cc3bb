import assert from 'node:assert/strict';
import type { Alert } from '../../src/core/analysis/alerts';
import { parseExperiment } from '../../src/core/spec/experiment';
import { parseRouterConfig } from '../../src/core/spec/routerConfig';
import type { AlertEvent } from '../../src/shared/events';
import { backoffSchedule, retryable } from '../../src/router/alertDelivery/backoff';
import { DeliveryLedger, alertFromKey } from '../../src/router/alertDelivery/ledger';
import {
  alertmanagerPayload,
  fingerprint,
  slackPayload,
  type AlertMessage,
} from '../../src/router/alertDelivery/payloads';
import { parseSecrets, redact } from '../../src/router/alertDelivery/secrets';
import { parseEventLine } from '../../src/core/analysis/events';

const errorRate: Alert = {
  key: 'guardrail:errorRate:v2',
  kind: 'guardrail',
  severity: 'error',
  message: 'v2: errorRate 0.31 over its limit 0.05',
  variant: 'v2',
  subject: 'errorRate',
};
const drift: Alert = {
  key: 'drift:age:v2',
  kind: 'drift',
  severity: 'warning',
  message: 'v2: feature age drifts (ks, p = 1.0e-6)',
  variant: 'v2',
  subject: 'age',
};
const webhook = {
  name: 'oncall',
  secret: 'oncall',
  format: 'alertmanager' as const,
  severity: 'warning' as const,
};
const settings = { resolveAfterMs: 60_000, rolloutMaxAgeMs: 600_000, cooldownMs: 60_000 };

/** Runs the ledger every 2 s from `from` to `to` with `alertsAt(t)`, delivering every message at once. */
function drive(
  ledger: DeliveryLedger,
  from: number,
  to: number,
  alertsAt: (t: number) => Alert[],
  outcome: AlertEvent['outcome'] = 'delivered',
): (AlertMessage & { at: number })[] {
  const sent: (AlertMessage & { at: number })[] = [];
  for (let t = from; t <= to; t += 2_000) {
    for (const m of ledger.reconcile(t, 'checkout', 'run-1', [webhook], alertsAt(t))) {
      sent.push({ ...m, at: t });
      ledger.settle(m, outcome, t);
    }
  }
  return sent;
}

describe('alert delivery: dedup ledger', () => {
  it('an alert firing for an hour is one message, and one resolve a minute after it stops', () => {
    const ledger = new DeliveryLedger(settings);
    const hour = 3_600_000;
    const sent = drive(ledger, 0, hour + 180_000, (t) =>
      t >= 10_000 && t < 10_000 + hour ? [errorRate] : [],
    );
    assert.deepEqual(
      sent.map((m) => [m.status, m.at, m.alerts.map((a) => [a.alert.key, a.startsAt, a.endsAt])]),
      [
        ['firing', 10_000, [['guardrail:errorRate:v2', 10_000, undefined]]],
        ['resolved', 10_000 + hour + 60_000, [['guardrail:errorRate:v2', 10_000, 10_000 + hour]]],
      ],
    );
  });

  it('an alert that flaps within resolveAfterMs stays one firing message', () => {
    const ledger = new DeliveryLedger(settings);
    // Absent for 20 s out of every 60 s.
    const sent = drive(ledger, 0, 600_000, (t) => (t % 60_000 < 40_000 ? [errorRate] : []));
    assert.deepEqual(
      sent.map((m) => m.status),
      ['firing'],
    );
  });

  it('alerts that start together go in one message; kinds and severity filter what a webhook gets', () => {
    const ledger = new DeliveryLedger(settings);
    const both = ledger.reconcile(0, 'checkout', undefined, [webhook], [errorRate, drift]);
    assert.deepEqual(
      both.map((m) => m.alerts.map((a) => a.alert.key)),
      [['guardrail:errorRate:v2', 'drift:age:v2']],
    );
    const picky = [
      { ...webhook, name: 'errors', secret: 'errors', severity: 'error' as const },
      { ...webhook, name: 'drift', secret: 'drift', kinds: ['drift' as const] },
    ];
    const split = new DeliveryLedger(settings).reconcile(0, 'checkout', undefined, picky, [errorRate, drift]);
    assert.deepEqual(
      split.map((m) => [m.webhook, m.alerts.map((a) => a.alert.key)]),
      [
        ['errors', ['guardrail:errorRate:v2']],
        ['drift', ['drift:age:v2']],
      ],
    );
  });

  it('a restart rebuilt from the delivered events resends nothing, and still resolves', () => {
    const first = new DeliveryLedger(settings);
    const events: AlertEvent[] = drive(first, 0, 20_000, () => [errorRate]).map((m) => ({
      type: 'alert',
      ts: m.at,
      experiment: m.experiment,
      webhook: m.webhook,
      format: 'alertmanager',
      status: m.status,
      keys: m.alerts.map((a) => a.alert.key),
      outcome: 'delivered',
      attempts: 1,
    }));
    assert.equal(events.length, 1);
    const restarted = new DeliveryLedger(settings);
    // A failed outcome in the log does not count as told.
    restarted.replay({ ...events[0]!, keys: ['drift:age:v2'], outcome: 'failed' });
    for (const e of events) restarted.replay(e);
    assert.deepEqual(
      drive(restarted, 30_000, 120_000, () => [errorRate]),
      [],
    );
    const afterwards = drive(restarted, 122_000, 300_000, () => []);
    assert.deepEqual(
      afterwards.map((m) => [m.status, m.at, m.alerts[0]!.alert.key]),
      [['resolved', 182_000, 'guardrail:errorRate:v2']],
    );
    // Rebuilt from its key alone, it keeps the labels that identify it.
    assert.deepEqual(
      [afterwards[0]!.alerts[0]!.alert.variant, afterwards[0]!.alerts[0]!.alert.subject],
      ['v2', 'errorRate'],
    );
  });

  it('a failed message is tried again after the cooldown, not at every evaluation', () => {
    const ledger = new DeliveryLedger(settings);
    const failed = drive(ledger, 0, 100_000, () => [errorRate], 'failed');
    assert.deepEqual(
      failed.map((m) => m.at),
      [0, 60_000],
    );
  });

  it('a rollout transition is sent once and never resolved; history older than rolloutMaxAgeMs is not sent', () => {
    const ledger = new DeliveryLedger(settings);
    const old: Alert = {
      key: 'rollout:1000:RolledBack:1',
      kind: 'rollout',
      severity: 'error',
      message: 'old',
      subject: 'RolledBack',
      at: 1_000,
    };
    const now = 2_000_000;
    const fresh: Alert = {
      ...old,
      key: `rollout:${now - 5_000}:RolledBack:2`,
      at: now - 5_000,
      message: 'new',
    };
    const step: Alert = {
      ...fresh,
      key: `rollout:${now}:Progressing:3`,
      severity: 'info',
      subject: 'Progressing',
    };
    const sent = drive(ledger, now, now + 120_000, (t) => (t < now + 10_000 ? [old, fresh, step] : []));
    assert.deepEqual(
      sent.map((m) => [m.status, m.alerts.map((a) => a.alert.message)]),
      [['firing', ['new']]],
    );
  });

  it('alertFromKey reads back every key alertsOf makes', () => {
    assert.deepEqual(alertFromKey('srm'), {
      key: 'srm',
      kind: 'srm',
      severity: 'error',
      message: 'srm is no longer firing',
    });
    const d = alertFromKey('drift:prediction:v3');
    assert.deepEqual([d.kind, d.subject, d.variant, d.severity], ['drift', 'prediction', 'v3', 'warning']);
  });
});

describe('alert delivery: payloads', () => {
  const message: AlertMessage = {
    experiment: 'checkout',
    run: 'run-1',
    webhook: 'oncall',
    status: 'firing',
    alerts: [
      { alert: errorRate, startsAt: Date.UTC(2026, 11, 6, 10) },
      { alert: drift, startsAt: Date.UTC(2026, 11, 6, 10, 5) },
    ],
  };

  it("Alertmanager's version 4 payload: labels, common labels, zero endsAt, fingerprints of the labels", () => {
    const body = alertmanagerPayload(message, 'https://canary.example/') as {
      alerts: { labels: Record<string, string>; fingerprint: string; endsAt: string; startsAt: string }[];
    } & Record<string, unknown>;
    assert.equal(body.version, '4');
    assert.equal(body.receiver, 'oncall');
    assert.equal(body.status, 'firing');
    assert.equal(body.externalURL, 'https://canary.example/');
    assert.deepEqual(body.commonLabels, {
      experiment: 'checkout',
      source: 'model-canary-router',
      variant: 'v2',
    });
    assert.deepEqual((body.commonAnnotations as Record<string, string>).run, 'run-1');
    assert.deepEqual(
      body.alerts.map((a) => [a.labels.alertname, a.labels.severity, a.startsAt, a.endsAt]),
      [
        ['ModelCanaryErrorRateHigh', 'critical', '2026-12-06T10:00:00.000Z', '0001-01-01T00:00:00Z'],
        ['ModelCanaryFeatureDrift', 'warning', '2026-12-06T10:05:00.000Z', '0001-01-01T00:00:00Z'],
      ],
    );
    assert.equal(body.alerts[1]!.labels.feature, 'age');
    // The fingerprint depends on the labels only, not their order nor the status.
    const resolved = alertmanagerPayload(
      {
        ...message,
        status: 'resolved',
        alerts: [{ ...message.alerts[0]!, endsAt: Date.UTC(2026, 11, 6, 11) }],
      },
      undefined,
    ) as typeof body;
    assert.equal(resolved.alerts[0]!.fingerprint, body.alerts[0]!.fingerprint);
    assert.equal(resolved.alerts[0]!.endsAt, '2026-12-06T11:00:00.000Z');
    const reversed = Object.fromEntries(Object.entries(body.alerts[0]!.labels).reverse());
    assert.equal(fingerprint(reversed), body.alerts[0]!.fingerprint);
    assert.notEqual(body.alerts[0]!.fingerprint, body.alerts[1]!.fingerprint);
  });

  it('Slack-compatible JSON: text for notifications, blocks, escaped mrkdwn, a dashboard button', () => {
    const body = slackPayload(
      { ...message, alerts: [{ alert: { ...drift, message: 'v2: feature <b>&co drifts' }, startsAt: 0 }] },
      'https://canary.example',
    ) as { text: string; blocks: { type: string; text?: { text: string }; elements?: { url?: string }[] }[] };
    assert.equal(body.text, '[FIRING] checkout: v2: feature <b>&co drifts');
    assert.equal(body.blocks[1]!.text!.text, '• warning: v2: feature &lt;b&gt;&amp;co drifts');
    assert.equal(body.blocks[3]!.elements![0]!.url, 'https://canary.example/dashboard/?experiment=checkout');
    const noLink = slackPayload(message) as { blocks: { type: string }[] };
    assert.ok(!noLink.blocks.some((b) => b.type === 'actions'));
  });
});

describe('alert delivery: backoff, secrets and the new event kind', () => {
  it('backs off exponentially up to the cap and retries only what may change', () => {
    assert.deepEqual(
      backoffSchedule({ attempts: 6, initialDelayMs: 1_000, maxDelayMs: 60_000, timeoutMs: 1 }),
      [1_000, 2_000, 4_000, 8_000, 16_000],
    );
    assert.deepEqual(
      backoffSchedule({ attempts: 8, initialDelayMs: 500, maxDelayMs: 5_000, timeoutMs: 1 }),
      [500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000],
    );
    assert.deepEqual([undefined, 200, 400, 404, 408, 429, 500, 503].map(retryable), [
      true,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  it('redacts URLs, their paths and tokens; a bad secrets file is reported without its values', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    assert.equal(
      redact(`POST ${url} failed; path /services/T000/B000/XXXXSECRET; Bearer tok-123456`, [
        { url, token: 'tok-123456' },
      ]),
      'POST [redacted] failed; path [redacted]; Bearer [redacted]',
    );
    const bad = parseSecrets('webhooks:\n  chat: { url: "ftp://SECRETHOST/x", token: "" }\n');
    assert.ok('error' in bad);
    assert.ok(!bad.error.includes('SECRET'), bad.error);
    assert.match(bad.error, /webhooks\.chat\.url: must be an http\(s\) URL/);
    const yaml = parseSecrets('webhooks: {chat: {url: "SECRET');
    assert.ok('error' in yaml && !yaml.error.includes('SECRET'), JSON.stringify(yaml));
  });

  it('refuses a webhook URL in the experiment file, naming the line and where it goes', () => {
    const text = [
      'apiVersion: modelcanary.dev/v1alpha1',
      'kind: Experiment',
      'metadata: { name: checkout }',
      'spec:',
      '  endpoint: checkout',
      '  variants: [{ name: v1, model: m1, weight: 1 }]',
      '  metrics: { primary: { name: conversion, kind: proportion } }',
      '  alerts:',
      '    webhooks:',
      '      - format: slack',
      '        url: https://hooks.slack.com/services/T/B/SECRET',
    ].join('\n');
    assert.throws(
      () => parseExperiment(text, 'checkout.yaml'),
      (err: Error) =>
        /checkout\.yaml:11:\d+: spec\.alerts\.webhooks\[0\]\.url: webhook URLs and tokens are secrets .* secrets file/.test(
          err.message,
        ) && !err.message.includes('SECRET'),
    );
    const ok = parseExperiment(text.replace(/url: .*/, 'secret: team-chat'), 'checkout.yaml');
    assert.deepEqual(ok.spec.alerts, {
      webhooks: [{ secret: 'team-chat', format: 'slack', severity: 'warning' }],
    });
    assert.deepEqual(parseRouterConfig('experiments: []', 'router.yaml').alerts.retry.attempts, 6);
  });

  it('reads alert events from a log, and older logs without them load as before', () => {
    const line = JSON.stringify({
      type: 'alert',
      ts: 1,
      experiment: 'checkout',
      webhook: 'oncall',
      format: 'slack',
      status: 'firing',
      keys: ['srm'],
      outcome: 'delivered',
      attempts: 1,
    });
    assert.equal(parseEventLine(line).ok, true);
    const old =
      '{"type":"request","id":"a","ts":1,"experiment":"checkout","variant":"v1","latencyMs":3,"status":200}';
    assert.equal(parseEventLine(old).ok, true);
    assert.deepEqual(parseEventLine(line.replace('"delivered"', '"maybe"')), {
      ok: false,
      error: 'alert "outcome" must be delivered, failed or dropped',
    });
  });
});
