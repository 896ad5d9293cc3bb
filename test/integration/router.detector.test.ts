import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv } from '../../src/core/drift';
import { runCommand } from '../../src/process/execaRunner';
import { detectorModelSettings, findAlibiDetectMlserver } from '../../src/runtime/detectorServers';
import { startModelServer, type ModelServer } from '../../src/runtime/modelServer';
import { RouterClient, fetchTransport } from '../../src/shared/routerApi';
import type { DetectorVerdict } from '../../src/shared/detectors';
import type { RolloutStatus } from '../../src/shared/report';
import type { DetectorEvent } from '../../src/shared/events';
import { simulate } from '../../src/simulator/simulator';
import { startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { promtool } from '../harness/monitoring';
import { readEvents } from '../harness/routerClient';
import { SAMPLE_MODELS, toolCache } from '../harness/tools';
import { startUpstream, type Upstream } from '../harness/upstream';

const BATCH = 150;
const TOKEN = 'detector-test-admin-token';

/**
 * The sample workspace's saved KSDrift detector (sample-models/detectors/propensity-ks, made by
 * train.py) served by MLServer's Alibi Detect runtime from its provisioned environment, fed by a
 * real router the features of simulated traffic from data/traffic.csv.
 */
describe('a bring-your-own Alibi Detect detector served by MLServer beside the built-in drift tests', function () {
  let dir: string;
  let detector: ModelServer;
  let upstream: Upstream;
  let router: RunningRouter;
  let api: RouterClient;
  const traffic = parseCsv(readFileSync(join(SAMPLE_MODELS, 'data/traffic.csv'), 'utf8'));

  before(async function () {
    this.timeout(180_000);
    dir = await mkdtemp(join(tmpdir(), 'mc-detector-'));
    const mlserver = await findAlibiDetectMlserver(runCommand, { cacheDir: toolCache() });
    const settingsDir = join(dir, 'detector');
    await mkdir(settingsDir);
    const folder = join(SAMPLE_MODELS, 'detectors/propensity-ks');
    await writeFile(
      join(settingsDir, 'model-settings.json'),
      JSON.stringify(detectorModelSettings('propensity-detector-ks', folder)),
    );
    upstream = await startUpstream();
    detector = await startModelServer({
      mlserver,
      modelDir: settingsDir,
      modelName: 'propensity-detector-ks',
      logFile: join(dir, 'detector.log'),
      readyTimeoutMs: 120_000,
    });
    // The sample experiment with the sample detector added to its drift section.
    const sample = await readFile(join(SAMPLE_MODELS, 'experiments/propensity.yaml'), 'utf8');
    let experiment = sample
      .replace('reference: ../data/reference.csv', `reference: ${join(SAMPLE_MODELS, 'data/reference.csv')}`)
      .replace(
        '    window: 1000\n',
        [
          '    window: 1000',
          '    detectors:',
          `      - name: ks`,
          `        path: ${folder}`,
          '        features: [age, tenure_months, sessions_30d, basket_value]',
          `        batchSize: ${BATCH}`,
          '        gate: true',
          '',
        ].join('\n'),
      );
    assert.notEqual(experiment, sample);
    // Built-in drift only warns here, so the gate that pauses the rollout below is the detector's.
    const rolloutLine = /^ {2}rollout: \{ (.*) \}$/m;
    assert.match(experiment, rolloutLine);
    experiment = experiment.replace(rolloutLine, '  rollout: { $1, drift: warn }');
    await writeFile(join(dir, 'propensity.yaml'), experiment);
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            experimentFile: 'propensity.yaml',
            variants: [
              { name: 'v1', url: upstream.url, model: 'propensity-v1', weight: 50, role: 'baseline' },
              { name: 'v2', url: upstream.url, model: 'propensity-v2', weight: 50 },
            ],
            sticky: { header: 'x-user-id' },
            detectors: [{ name: 'ks', url: detector.url, model: 'propensity-detector-ks' }],
          },
        ],
      }),
    );
    api = new RouterClient(fetchTransport(router.url, fetch), async () => TOKEN);
  });

  after(async () => {
    await router?.stop();
    await detector?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const detectorEvents = (): DetectorEvent[] =>
    readEvents(join(dir, 'data')).filter((e): e is DetectorEvent => e.type === 'detector');

  async function verdictsAfter(batches: number): Promise<DetectorVerdict[]> {
    for (let i = 0; i < 600 && detectorEvents().length < batches; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      detectorEvents().length >= batches,
      `${detectorEvents().length} batches judged:\n${router.output()}`,
    );
    return (await api.report('propensity')).drift?.detectors?.verdicts ?? [];
  }

  async function send(requests: number, startRow: number, drift: boolean): Promise<void> {
    const summary = await simulate({
      routerUrl: router.url,
      experiment: 'propensity',
      endpoint: 'propensity',
      stickyHeader: 'x-user-id',
      data: traffic,
      metric: 'conversion',
      requests,
      rps: 400,
      concurrency: 8,
      startRow,
      seed: 7,
      ...(drift
        ? { drift: [{ feature: 'basket_value', kind: 'shift' as const, amount: 40 }], driftFrom: 0 }
        : {}),
    });
    assert.equal(summary.ok, requests, summary.firstError);
  }

  it('does not flag the traffic the detector was trained for', async function () {
    this.timeout(120_000);
    await send(1200, 0, false);
    const verdicts = await verdictsAfter(Math.floor(1200 / BATCH) - 2);
    const judged = detectorEvents();
    for (const e of judged) {
      assert.equal(e.error, undefined, e.error);
      assert.equal(e.rows, BATCH);
      assert.equal(e.result?.isDrift, 0, JSON.stringify(e));
      assert.equal(e.result?.pValues?.length, 4, 'one KS p-value per feature');
      assert.equal(e.result?.distances?.length, 4);
      // KSDrift's Bonferroni: p_val 0.001 over 4 features.
      assert.equal(e.result?.threshold, 0.00025);
    }
    console.log(
      `      no drift: ${judged.length} batches, smallest p-value ${Math.min(...judged.flatMap((e) => e.result?.pValues ?? [1])).toExponential(2)}`,
    );
    assert.deepEqual([...new Set(verdicts.map((v) => v.variant))].sort(), ['v1', 'v2']);
    for (const v of verdicts)
      assert.deepEqual(
        [v.flagged, v.gate, v.kind, v.result?.method],
        [false, true, 'drift', 'ks'],
        JSON.stringify(v),
      );
  });

  it('flags basket_value shifted by +40 in every variant, and the report and a replay show it', async function () {
    this.timeout(120_000);
    const before = detectorEvents().length;
    await send(1200, 1200, true);
    const verdicts = await verdictsAfter(before + Math.floor(1200 / BATCH) - 2);
    // Each variant's first batch after the switch may still hold clean rows; the rest are all drifted.
    const after = detectorEvents().slice(before);
    const pure = after.filter((e, i) => after.findIndex((x) => x.variant === e.variant) !== i);
    assert.ok(pure.length >= 3, `${pure.length} drifted batches judged`);
    for (const e of pure) {
      assert.equal(e.result?.isDrift, 1, JSON.stringify(e));
      // basket_value is the fourth column: its p-value is below the threshold.
      assert.ok(e.result!.pValues![3]! < e.result!.threshold!, JSON.stringify(e.result));
    }
    console.log(
      `      drift: ${pure.length} batches, largest basket_value p-value ${Math.max(...pure.map((e) => e.result!.pValues![3]!)).toExponential(2)}`,
    );
    for (const variant of ['v1', 'v2']) {
      const v = verdicts.find((x) => x.variant === variant)!;
      assert.ok(v.flagged, `${variant}: ${JSON.stringify(v)}`);
      assert.ok(v.flaggedBatches >= 1 && v.flaggedBatches < v.batches);
    }
    const report = await api.report('propensity');
    // The built-in test sees the same shift beside it.
    assert.ok(report.drift!.features.some((f) => f.name === 'basket_value' && f.drift));
    assert.deepEqual(report.drift!.detectors!.settings, [
      {
        detector: 'ks',
        kind: 'drift',
        gate: true,
        batchSize: BATCH,
        features: ['age', 'tenure_months', 'sessions_30d', 'basket_value'],
      },
    ]);

    // On /metrics too, one series per detector × variant, and promtool finds nothing to fix.
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    for (const variant of ['v1', 'v2'])
      assert.match(
        metrics,
        new RegExp(
          `^model_canary_detector_flagged\\{experiment="propensity",variant="${variant}",detector="ks",kind="drift"\\} 1$`,
          'm',
        ),
      );
    const check = await promtool(['check', 'metrics'], metrics);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.stdout + check.stderr, '');

    // A restarted router replays the verdicts from its log without asking the detector again.
    const configFile = router.configFile;
    await router.stop();
    router = await startRouter(configFile);
    api = new RouterClient(fetchTransport(router.url, fetch), async () => TOKEN);
    const replayed = (await api.report('propensity')).drift!.detectors!.verdicts;
    assert.deepEqual(
      replayed.map((v) => [v.variant, v.flagged, v.batches]).sort(),
      verdicts.map((v) => [v.variant, v.flagged, v.batches]).sort(),
    );
  });

  it('pauses a rollout when the gating detector flags the candidate or the baseline', async function () {
    this.timeout(60_000);
    let status: RolloutStatus | undefined = await api.rollout('propensity', 'start', { candidate: 'v2' });
    for (let i = 0; i < 100 && status?.state !== 'Paused'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api.report('propensity')).rollout;
    }
    assert.equal(status?.state, 'Paused', JSON.stringify(status));
    assert.match(status!.reason, /^paused: detector ks@v\d \(drift in the last 150 requests\)/);
    const gate = status!.gates.find((g) => g.name === 'detector');
    assert.equal(gate?.ok, false);
    const drift = status!.gates.find((g) => g.name === 'drift');
    assert.equal(drift?.ok, true, 'the built-in drift gate only warns in this experiment');
  });
});
