/**
 * Alert delivery, inside the router: every `evaluateEveryMs` it takes each experiment's current
 * report (the cached one `/metrics` shares), finds its alerts with the evaluator the editor and
 * `watch` use (`alertsOf`), asks the ledger what each webhook has not been told yet, and queues
 * those messages. Every outcome is an `alert` event in the log, so a restart knows what was sent.
 * It runs on timers off the request path: serving never waits for it.
 */
import { alertsOf } from '../../core/analysis/alerts';
import type { AlertSecrets, RouterAlertsConfig, WebhookRef } from '../../core/spec/alertsSpec';
import type { AlertEvent } from '../../shared/events';
import type { Report } from '../../shared/report';
import type { Logger, RouterCore } from '../core';
import { DeliveryLedger, type LedgerSettings } from './ledger';
import { WebhookQueue, type Outcome, type QueuedMessage } from './queue';
import { AlertSecretsFile } from './secrets';

export class AlertDelivery {
  private readonly ledger: DeliveryLedger;
  private readonly queues = new Map<string, WebhookQueue>();
  private secretsFile: AlertSecretsFile;
  private secrets: AlertSecrets = { webhooks: {}, defaults: [] };
  private timer: NodeJS.Timeout | undefined;
  private evaluating = false;
  private stopped = false;

  constructor(
    private readonly core: RouterCore,
    private readonly logger: Logger,
  ) {
    this.ledger = new DeliveryLedger(ledgerSettings(core.settings.alerts));
    for (const event of core.replayedAlerts) this.ledger.replay(event);
    this.secretsFile = new AlertSecretsFile(core.settings.alerts.secretsFile, (m) => logger.warn(m));
  }

  /** Evaluates now, then every `evaluateEveryMs` (re-read from the settings, which a reload may change). */
  run(): void {
    const next = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(
        () => void this.tick().finally(next),
        this.core.settings.alerts.evaluateEveryMs,
      );
      this.timer.unref();
    };
    void this.tick().finally(next);
  }

  /** Stops evaluating and sending; what was not delivered yet is sent by the next start. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const q of this.queues.values()) q.stop();
  }

  /** One evaluation of every experiment. */
  async tick(now = Date.now()): Promise<void> {
    if (this.evaluating || this.stopped) return;
    this.evaluating = true;
    try {
      const settings = this.core.settings.alerts;
      this.ledger.update(ledgerSettings(settings));
      if (this.secretsFile.file !== settings.secretsFile)
        this.secretsFile = new AlertSecretsFile(settings.secretsFile, (m) => this.logger.warn(m));
      this.secrets = await this.secretsFile.read();
      if (this.stopped) return;
      const experiments = this.core.experiments;
      this.ledger.retain(new Set(experiments.map((e) => e.name)));
      const wanted = experiments.map((exp) => {
        const refs: WebhookRef[] = exp.experiment.spec.alerts?.webhooks ?? this.secrets.defaults;
        return { exp, webhooks: refs.map((w) => ({ ...w, name: w.secret })) };
      });
      // With no webhook anywhere, no report is built: nobody is told, and a report costs CPU.
      const reports = wanted.some((w) => w.webhooks.length > 0)
        ? new Map(this.core.cachedReports().map((r) => [r.experiment, r]))
        : new Map<string, Report>();
      for (const { exp, webhooks } of wanted) {
        const report = reports.get(exp.name);
        const alerts = report ? alertsOf(report) : [];
        if (webhooks.length > 0 && !report) continue;
        const formats = new Map(webhooks.map((w) => [w.name, w.format]));
        const run = this.core.currentRun(exp.name)?.id;
        for (const message of this.ledger.reconcile(now, exp.name, run, webhooks, alerts))
          this.queue(message.webhook).push({ message, format: formats.get(message.webhook)! });
      }
    } catch (err) {
      this.logger.warn(`alert evaluation failed: ${(err as Error).message}`);
    } finally {
      this.evaluating = false;
    }
  }

  private queue(name: string): WebhookQueue {
    let q = this.queues.get(name);
    if (!q) {
      q = new WebhookQueue(
        name,
        () => this.core.settings.alerts,
        () => this.secrets.webhooks[name],
        (job, outcome) => this.settle(job, outcome),
      );
      this.queues.set(name, q);
    }
    return q;
  }

  private settle({ message, format }: QueuedMessage, o: Outcome): void {
    const event: AlertEvent = {
      type: 'alert',
      ts: Date.now(),
      experiment: message.experiment,
      webhook: message.webhook,
      format,
      status: message.status,
      keys: message.alerts.map((a) => a.alert.key),
      outcome: o.outcome,
      attempts: o.attempts,
      ...(o.httpStatus !== undefined ? { httpStatus: o.httpStatus } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(message.run ? { run: message.run } : {}),
    };
    this.core.record(event);
    this.ledger.settle(message, o.outcome, event.ts);
    const what = `${message.status} ${message.alerts.length} alert(s) of ${message.experiment} to webhook ${message.webhook}`;
    if (o.outcome === 'delivered') this.logger.info(`alerts: ${what} delivered (attempts: ${o.attempts})`);
    else this.logger.warn(`alerts: ${what} ${o.outcome} after ${o.attempts} attempt(s): ${o.error ?? ''}`);
  }
}

function ledgerSettings(s: RouterAlertsConfig): LedgerSettings {
  return {
    resolveAfterMs: s.resolveAfterMs,
    rolloutMaxAgeMs: s.rolloutMaxAgeMs,
    cooldownMs: s.retry.maxDelayMs,
  };
}
