// The monitoring stack for real: a router under simulated traffic (the sample experiment over fake V2
// upstreams), Debian's Prometheus scraping it every second and evaluating the rules
// `export --target prometheus` writes, and Alertmanager (built from its Go module) routing the
// alerts to a webhook receiver in this test. A latency regression on the canary and drift on age
// must each arrive as an alert with its labels and runbook link, then resolve.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportManifests } from '../../src/operations/exportManifests';
import {
  referenceRows,
  rowRequest,
  startAlertmanager,
  startPrometheus,
  startWebhookReceiver,
  type Service,
  type WebhookAlert,
  type WebhookReceiver,
} from '../harness/monitoring';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client } from '../harness/routerClient';
import { TOKEN } from '../harness/routerSuites';
import { SAMPLE_MODELS } from '../harness/tools';
import { startUpstream, type Upstream } from '../harness/upstream';

const RUNBOOK = 'https://github.com/model-canary/model-canary/blob/main/docs/troubleshooting.md#';
// Short enough for a test: rates over 10 s, alerts after 2 s (the defaults are 5m and 5m).
const RATE_WINDOW = '10s';
const ALERT_FOR = '2s';

describe('monitoring stack: Prometheus fires the exported alerts through Alertmanager to a webhook (real processes)', function () {
  this.timeout(300_000);
  let upstreams: Upstream[] = [];
  let dir: string;
  let rulesDir: string;
  let router: RunningRouter;
  let client: Client;
  let webhook: WebhookReceiver;
  let alertmanager: Service | undefined;
  let prometheus: Service | undefined;
  // The simulated traffic: reference rows in order, ages shifted by `ageShift`.
  let ageShift = 0;
  let sent = 0;
  let stopTraffic = false;
  let traffic: Promise<void> | undefined;

  async function prometheusQuery(
    query: string,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(query)}`);
    return (
      (await res.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      }
    ).data.result;
  }

  async function debug(): Promise<string> {
    const alerts = await fetch(`${prometheus!.url}/api/v1/alerts`).then((r) => r.text(), String);
    return `sent ${sent} requests; Prometheus alerts: ${alerts}\nwebhook: ${JSON.stringify(webhook.alerts.map((a) => [a.status, a.labels]))}`;
  }

  /** Waits until the webhook has an alert `status` matching `labels`; returns it. */
  async function arrives(
    status: WebhookAlert['status'],
    labels: Record<string, string>,
    timeoutMs = 90_000,
  ): Promise<WebhookAlert> {
    const deadline = Date.now() + timeoutMs;
    const matches = (a: WebhookAlert): boolean =>
      a.status === status && Object.entries(labels).every(([k, v]) => a.labels[k] === v);
    for (;;) {
      const found = webhook.alerts.find(matches);
      if (found) return found;
      if (Date.now() > deadline)
        assert.fail(`no ${status} alert ${JSON.stringify(labels)} within ${timeoutMs} ms; ${await debug()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  before(async () => {
    webhook = await startWebhookReceiver();
    alertmanager = await startAlertmanager(webhook.url);
    upstreams = await Promise.all([startUpstream(), startUpstream()]);
    const [v1, v2] = upstreams as [Upstream, Upstream];
    dir = await routerDir();
    const experimentFile = join(SAMPLE_MODELS, 'experiments/propensity.yaml');
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        eventLog: { fsyncIntervalMs: 50 },
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            experimentFile,
            variants: [
              { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 50 },
              { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 50 },
            ],
          },
        ],
      }),
    );
    client = new Client(router.url, 8);
    rulesDir = await mkdtemp(join(tmpdir(), 'mc-alert-rules-'));
    const exported = await exportManifests({
      workspace: SAMPLE_MODELS,
      experiment: experimentFile,
      target: 'prometheus',
      out: rulesDir,
      monitoring: { rateWindow: RATE_WINDOW, alertFor: ALERT_FOR },
    });
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${router.port}`],
      rules: await readFile(exported.files[0]!, 'utf8'),
      alertmanager: `127.0.0.1:${alertmanager.port}`,
    });
    // About 200 requests a second from 4 clients, bounded in count and time.
    const rows = await referenceRows();
    const until = Date.now() + 240_000;
    traffic = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stopTraffic && Date.now() < until && sent < 100_000) {
          const row = rows[sent++ % rows.length]!;
          const answer = await client.infer('propensity', rowRequest(row, ageShift));
          if (answer.status !== 200) throw new Error(`the router answered ${answer.status}: ${answer.text}`);
          await new Promise((r) => setTimeout(r, 15));
        }
      }),
    ).then(() => undefined);
  });

  after(async () => {
    stopTraffic = true;
    await traffic?.catch(() => undefined);
    await prometheus?.stop();
    await alertmanager?.stop();
    await webhook?.close();
    await client?.close();
    await router?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
    if (rulesDir) await rm(rulesDir, { recursive: true, force: true });
  });

  it('evaluates the recording rules on the scraped router with no alert while traffic is healthy', async () => {
    const deadline = Date.now() + 60_000;
    let rates: Awaited<ReturnType<typeof prometheusQuery>> = [];
    while (rates.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      rates = (await prometheusQuery(`experiment_variant:model_canary_requests:rate${RATE_WINDOW}`)).filter(
        (r) => Number(r.value[1]) > 0,
      );
    }
    assert.deepEqual(rates.map((r) => r.metric.variant).sort(), ['v1', 'v2'], await debug());
    // A full rate window of healthy traffic, and the alerts' `for`, pass without a notification.
    await new Promise((r) => setTimeout(r, 12_000));
    assert.deepEqual(webhook.alerts, [], await debug());
  });

  it('sends ModelCanaryLatencyP95High for the canary when it slows down, and resolves it when it recovers', async () => {
    let t0 = Date.now();
    upstreams[1]!.set({ latencyMs: 150 });
    const firing = await arrives('firing', { alertname: 'ModelCanaryLatencyP95High', variant: 'v2' });
    assert.deepEqual(firing.labels, {
      alertname: 'ModelCanaryLatencyP95High',
      experiment: 'propensity',
      variant: 'v2',
      severity: 'warning',
    });
    assert.equal(firing.annotations.runbook_url, `${RUNBOOK}modelcanarylatencyp95high`);
    assert.match(
      firing.annotations.description!,
      /^p95 latency over the last 10s is 1\d\d(\.\d+)?ms; the guardrail .* is 50 ms\.$/,
    );
    const fired = Date.now() - t0;
    t0 = Date.now();
    upstreams[1]!.set({ latencyMs: 0 });
    await arrives('resolved', { alertname: 'ModelCanaryLatencyP95High', variant: 'v2' });
    console.log(
      `      latency: fired ${fired} ms after the regression, resolved ${Date.now() - t0} ms after recovery`,
    );
    assert.ok(
      !webhook.alerts.some(
        (a) => a.labels.alertname === 'ModelCanaryLatencyP95High' && a.labels.variant === 'v1',
      ),
      'the baseline stayed fast',
    );
  });

  it('sends ModelCanaryFeatureDrift on age when the traffic drifts, and resolves it when it is back', async () => {
    let t0 = Date.now();
    ageShift = 30;
    const firing = await arrives('firing', { alertname: 'ModelCanaryFeatureDrift', feature: 'age' });
    assert.ok(['v1', 'v2'].includes(firing.labels.variant!));
    // The gauge's own labels, the scrape's job and instance, and the rule's.
    assert.deepEqual(firing.labels, {
      alertname: 'ModelCanaryFeatureDrift',
      experiment: 'propensity',
      variant: firing.labels.variant,
      feature: 'age',
      test: 'ks',
      job: 'model-canary-router',
      instance: `127.0.0.1:${router.port}`,
      severity: 'warning',
    });
    assert.equal(firing.annotations.runbook_url, `${RUNBOOK}modelcanaryfeaturedrift`);
    assert.match(firing.annotations.summary!, /feature age drifts$/);
    const fired = Date.now() - t0;
    t0 = Date.now();
    ageShift = 0;
    // The drift window (spec.drift.window: 1000 per variant) fills with reference rows again.
    await arrives(
      'resolved',
      { alertname: 'ModelCanaryFeatureDrift', feature: 'age', variant: firing.labels.variant! },
      150_000,
    );
    console.log(
      `      drift: fired ${fired} ms after the shift, resolved ${Date.now() - t0} ms after it ended (${sent} requests sent)`,
    );
    const names = new Set(webhook.alerts.map((a) => a.labels.alertname));
    assert.ok(
      !names.has('ModelCanaryErrorRateHigh') && !names.has('ModelCanaryRolloutRolledBack'),
      await debug(),
    );
  });
});
