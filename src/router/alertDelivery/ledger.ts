/**
 * Which alert each webhook has been told about, and so what to send next: an alert that starts
 * firing is one message, and one more when it has been gone for `resolveAfterMs`; nothing while
 * it keeps firing. The ledger is rebuilt from the `alert` events of the log (only `delivered`
 * outcomes count), so a restarted router sends neither again. A message that failed is tried
 * again once `cooldownMs` has passed, as long as it is still wanted. Pure: time is passed in.
 */
import type { Alert } from '../../core/analysis/alerts';
import type { WebhookRef } from '../../core/spec/alertsSpec';
import type { AlertEvent } from '../../shared/events';
import type { AlertMessage } from './payloads';

type Status = 'firing' | 'resolved';

interface Track {
  alert: Alert;
  /** The last status the webhook acknowledged. */
  delivered?: Status;
  /** The status of a message queued or in flight. */
  pending?: Status;
  /** When a message about it last failed or was dropped. */
  failedAt?: number;
  /** When it started firing (as far as this router knows). */
  since: number;
  /** When it was first seen gone after firing. */
  goneSince?: number;
}

export interface LedgerSettings {
  resolveAfterMs: number;
  rolloutMaxAgeMs: number;
  /** How long after a failed message the same alert is tried again. */
  cooldownMs: number;
}

const SEVERITY_RANK: Record<Alert['severity'], number> = { info: 0, warning: 1, error: 2 };

/** True when a webhook wants this alert (its kinds and least severity). */
export function wants(webhook: WebhookRef, alert: Alert): boolean {
  if (webhook.kinds && !webhook.kinds.includes(alert.kind)) return false;
  return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[webhook.severity];
}

/**
 * An alert rebuilt from its key alone, for a resolve after a restart (the report no longer
 * has it). Keys are `guardrail:<name>:<variant>`, `srm`, `drift:<feature>:<variant>`,
 * `rollout:<ts>:<to>:<step>` (src/core/analysis/alerts.ts).
 */
export function alertFromKey(key: string): Alert {
  const first = key.indexOf(':');
  const kind = (first < 0 ? key : key.slice(0, first)) as Alert['kind'];
  const rest = first < 0 ? '' : key.slice(first + 1);
  const last = rest.lastIndexOf(':');
  const [subject, variant] =
    last < 0 ? [rest || undefined, undefined] : [rest.slice(0, last), rest.slice(last + 1)];
  const known = kind === 'guardrail' || kind === 'srm' || kind === 'drift' || kind === 'rollout';
  return {
    key,
    kind: known ? kind : 'guardrail',
    severity: kind === 'drift' ? 'warning' : 'error',
    message: `${key} is no longer firing`,
    ...(kind === 'rollout' ? {} : { ...(subject ? { subject } : {}), ...(variant ? { variant } : {}) }),
  };
}

export class DeliveryLedger {
  // experiment → webhook → alert key → track
  private readonly tracks = new Map<string, Map<string, Map<string, Track>>>();

  constructor(private settings: LedgerSettings) {}

  update(settings: LedgerSettings): void {
    this.settings = settings;
  }

  private of(experiment: string, webhook: string): Map<string, Track> {
    let byWebhook = this.tracks.get(experiment);
    if (!byWebhook) this.tracks.set(experiment, (byWebhook = new Map()));
    let byKey = byWebhook.get(webhook);
    if (!byKey) byWebhook.set(webhook, (byKey = new Map()));
    return byKey;
  }

  /** Folds a replayed (or just written) outcome in; only a delivery changes what a webhook knows. */
  replay(event: AlertEvent): void {
    if (event.outcome !== 'delivered') return;
    const tracks = this.of(event.experiment, event.webhook);
    for (const key of event.keys) {
      if (event.status === 'resolved') {
        tracks.delete(key);
        continue;
      }
      const t = tracks.get(key);
      if (t) t.delivered = 'firing';
      else tracks.set(key, { alert: alertFromKey(key), delivered: 'firing', since: event.ts });
    }
  }

  /** A queued message's outcome. */
  settle(message: AlertMessage, outcome: AlertEvent['outcome'], now: number): void {
    const tracks = this.of(message.experiment, message.webhook);
    for (const a of message.alerts) {
      const t = tracks.get(a.alert.key);
      if (!t) continue;
      t.pending = undefined;
      if (outcome !== 'delivered') {
        t.failedAt = now;
        continue;
      }
      t.failedAt = undefined;
      t.delivered = message.status;
      if (message.status === 'resolved') tracks.delete(a.alert.key);
    }
  }

  /**
   * The messages to send now for one experiment: for each webhook, the alerts that started
   * firing (one message) and those gone long enough (another). Marks them pending.
   */
  reconcile(
    now: number,
    experiment: string,
    run: string | undefined,
    webhooks: readonly (WebhookRef & { name: string })[],
    alerts: readonly Alert[],
  ): AlertMessage[] {
    const out: AlertMessage[] = [];
    const names = new Set(webhooks.map((w) => w.name));
    const byWebhook = this.tracks.get(experiment);
    // A webhook taken out of the config is forgotten, not told anything more.
    for (const name of byWebhook?.keys() ?? []) if (!names.has(name)) byWebhook!.delete(name);
    for (const w of webhooks) {
      const tracks = this.of(experiment, w.name);
      const firing: Track[] = [];
      const resolved: Track[] = [];
      const active = new Set<string>();
      for (const alert of alerts) {
        if (!wants(w, alert)) continue;
        let t = tracks.get(alert.key);
        if (!t) {
          // History from before the webhook knew of it is not news.
          if (alert.kind === 'rollout' && now - (alert.at ?? now) > this.settings.rolloutMaxAgeMs) continue;
          tracks.set(alert.key, (t = { alert, since: now }));
        }
        active.add(alert.key);
        t.alert = alert;
        t.goneSince = undefined;
        if (t.delivered !== 'firing' && !t.pending && this.cooledDown(t, now)) firing.push(t);
      }
      for (const [key, t] of tracks) {
        if (active.has(key)) continue;
        // A rollout transition is an event: it never resolves, and its key never comes back.
        if (t.alert.kind === 'rollout' || t.delivered !== 'firing') {
          if (!t.pending) tracks.delete(key);
          continue;
        }
        t.goneSince ??= now;
        if (now - t.goneSince >= this.settings.resolveAfterMs && !t.pending && this.cooledDown(t, now))
          resolved.push(t);
      }
      for (const [status, list] of [
        ['firing', firing],
        ['resolved', resolved],
      ] as const) {
        if (list.length === 0) continue;
        for (const t of list) t.pending = status;
        out.push({
          experiment,
          ...(run ? { run } : {}),
          webhook: w.name,
          status,
          alerts: list.map((t) => ({
            alert: t.alert,
            startsAt: t.since,
            ...(status === 'resolved' ? { endsAt: t.goneSince ?? now } : {}),
          })),
        });
      }
    }
    return out;
  }

  /** Forgets experiments that are no longer served. */
  retain(experiments: ReadonlySet<string>): void {
    for (const name of this.tracks.keys()) if (!experiments.has(name)) this.tracks.delete(name);
  }

  private cooledDown(t: Track, now: number): boolean {
    return t.failedAt === undefined || now - t.failedAt >= this.settings.cooldownMs;
  }
}
