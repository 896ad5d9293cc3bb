import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRouterConfig } from '../../src/core/spec/routerConfig';
import { resolveSettings } from '../../src/router/config';
import { ConfigMapTruth } from '../../src/router/configMapTruth';
import { RouterCore } from '../../src/router/core';
import type { HttpError } from '../../src/router/http';
import { RUNS_KEY, configKey, configText } from '../../src/router/kube';
import { RunsTruth, newRunId, parseRuns } from '../../src/router/runsTruth';
import { readEvents } from '../harness/routerClient';

// The ConfigMap's `runs.json` (src/router/runsTruth.ts): each experiment's current run, beside the config.
describe('runs in the ConfigMap: the runs.json key', () => {
  it('reads each experiment’s run, and reads none from a missing key', () => {
    const text = JSON.stringify({
      propensity: { id: '20261207T010203-a1b2c3', reason: 'deploy', startedAt: 1_796_000_000_000 },
      churn: { id: '20261207T010204-d4e5f6', startedAt: 1_796_000_001_000 },
    });
    assert.deepEqual(parseRuns(text), {
      propensity: { id: '20261207T010203-a1b2c3', reason: 'deploy', startedAt: 1_796_000_000_000 },
      churn: { id: '20261207T010204-d4e5f6', startedAt: 1_796_000_001_000 },
    });
    assert.deepEqual(parseRuns(undefined), {});
  });

  it('refuses a broken value, saying to delete the key', () => {
    for (const [text, why] of [
      ['{', /not JSON/],
      ['[]', /not an object/],
      ['{"propensity": {"id": "r 1", "startedAt": 1}}', /run of "propensity"/],
      ['{"propensity": {"id": "r1"}}', /run of "propensity"/],
    ] as const)
      assert.throws(
        () => parseRuns(text),
        (err: Error) => why.test(err.message) && /delete the key/.test(err.message),
        text,
      );
  });

  it('is never taken for the config, like the rollout state', () => {
    const data = { 'config.yaml': 'experiments: []\n', [RUNS_KEY]: '{}', 'rollout-state.json': '{}' };
    assert.equal(configKey(data, undefined), 'config.yaml');
    assert.equal(configText(data, undefined, 'ConfigMap a/b'), 'experiments: []\n');
  });

  it('names a run by its start time and a random suffix', () => {
    const ts = Date.UTC(2026, 11, 7, 1, 2, 3);
    assert.match(newRunId(ts), /^20261207T010203-[0-9a-f]{6}$/);
    assert.notEqual(newRunId(ts), newRunId(ts));
  });
});

const CONFIG = `
listen: 127.0.0.1:0
dataDir: data
experiments:
  - name: shop
    endpoint: shop
    variants:
      - { name: v1, url: "http://127.0.0.1:9", model: m1, weight: 90, role: baseline }
      - { name: v2, url: "http://127.0.0.1:9", model: m2, weight: 10 }
`;

// A real router state on a temporary data folder, fed ConfigMap versions as its watch would
// deliver them (ConfigMapTruth.observe); nothing here calls the API server.
describe('runs in the ConfigMap: a replica adopts the newer run it sees, once', () => {
  let dir: string;
  let core: RouterCore;
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (m: string) => warnings.push(m) };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mc-runs-truth-'));
  });
  after(async () => {
    await core?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records a newer run with its id and start, ignores an older or known one, and keeps it across a restart', async () => {
    const settings = await resolveSettings(parseRouterConfig(CONFIG, 'runs.yaml'), dir, 'runs.yaml');
    await mkdir(settings.dataDir, { recursive: true });
    core = await RouterCore.open(settings, logger);
    const truth = new ConfigMapTruth({ server: 'https://127.0.0.1:1' }, 'canary', 'router-config', undefined);
    const adopted: string[] = [];
    const runs = new RunsTruth(core, truth, logger, (name) => adopted.push(name));
    const exp = core.experimentByName('shop')!;
    const own = await core.startRun(exp, 'api'); // started here before the ConfigMap held runs
    const version = (value: unknown) => ({ 'router.yaml': CONFIG, [RUNS_KEY]: JSON.stringify(value) });

    truth.observe(version({ shop: { id: 'older', reason: 'deploy', startedAt: own.startedAt - 1_000 } }));
    await runs.sync();
    assert.deepEqual(
      core.runsOf('shop').map((r) => r.id),
      [own.id],
      'an older run is not taken for a newer one',
    );

    const newer = { id: 'newer', reason: 'deploy', startedAt: own.startedAt + 1_000 };
    truth.observe(version({ shop: newer, gone: { id: 'x', startedAt: 1 } })); // `gone`: not run here
    truth.observe(version({ shop: newer })); // the same version again (a watch's bookmark, a write)
    await runs.sync();
    assert.deepEqual(core.currentRun('shop'), newer);
    assert.deepEqual(
      core.runsOf('shop').map((r) => r.id),
      [own.id, 'newer'],
    );
    assert.deepEqual(adopted, ['shop'], 'adopted once');

    truth.observe({ 'router.yaml': CONFIG, [RUNS_KEY]: '{' });
    truth.observe({ 'router.yaml': CONFIG, [RUNS_KEY]: '{' });
    await runs.sync();
    assert.equal(warnings.filter((w) => /runs\.json cannot be read/.test(w)).length, 1, warnings.join('\n'));
    assert.equal(core.currentRun('shop')?.id, 'newer', 'a broken key changes no run');

    await core.close();
    await truth.close();
    const lines = readEvents(settings.dataDir).filter((e) => e.type === 'run' && e.run === 'newer');
    assert.deepEqual(
      lines.map((e) => e.ts),
      [newer.startedAt],
      'one line, at the run’s start',
    );
    core = await RouterCore.open(settings, logger);
    assert.deepEqual(core.currentRun('shop'), newer, 'the log keeps it');
  });

  it('starts no run anywhere when the ConfigMap cannot take it: 503, retry', async () => {
    // Nothing listens on port 1: the API server does not answer.
    const truth = new ConfigMapTruth({ server: 'https://127.0.0.1:1' }, 'canary', 'router-config', undefined);
    const runs = new RunsTruth(core, truth, logger);
    try {
      await assert.rejects(
        runs.start(core.experimentByName('shop')!, 'deploy'),
        (err: HttpError) =>
          err.status === 503 &&
          err.headers['retry-after'] === '2' &&
          /could not be written to the ConfigMap, so no replica started it/.test(err.message),
      );
      assert.equal(core.currentRun('shop')?.id, 'newer');
    } finally {
      await truth.close();
    }
  });
});
