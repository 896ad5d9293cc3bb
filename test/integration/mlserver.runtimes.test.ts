import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCommand } from '../../src/process/execaRunner';
import type { ModelServer } from '../../src/runtime/modelServer';
import { ensureMlserverEnv } from '../../src/runtime/python';
import { EXTRA_RUNTIMES, ensureRuntimes } from '../../src/runtime/runtimePackages';
import { startSampleModelServers } from '../harness/sampleServers';
import { REPO_ROOT, toolCache } from '../harness/tools';

interface Reference {
  columns: string[];
  rows: number[][];
  proba: number[][];
  predict: number[];
}

interface V2Output {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

describe("MLServer's XGBoost runtime serving sample-models/propensity-xgb (real process)", function () {
  let server: ModelServer | undefined;
  let logs: string;
  let reference: Reference;

  before(async () => {
    logs = await mkdtemp(join(tmpdir(), 'mc-runtimes-'));
    [server] = await startSampleModelServers(['propensity-xgb'], logs);
    const env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
    // The model's own predictions, computed in Python by xgboost in-process.
    const { stdout } = await promisify(execFile)(env.python, [
      join(REPO_ROOT, 'test/fixtures/xgboost/predict.py'),
      '25',
    ]);
    reference = JSON.parse(stdout) as Reference;
  });

  after(async () => {
    await server?.stop();
    await rm(logs, { recursive: true, force: true });
  });

  it('installs a runtime once: a second call finds it installed and installs nothing', async () => {
    const env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
    const started = performance.now();
    const installed = await ensureRuntimes(
      runCommand,
      env,
      EXTRA_RUNTIMES.map((r) => r.implementation),
    );
    // (The first install of both runtimes, measured cold: about 19 s on 2 busy cores.)
    assert.deepEqual(installed, []);
    assert.ok(performance.now() - started < 2_000, 'the cached check does not import or call pip');
    // Models of the scikit-learn runtime need nothing beyond the environment.
    assert.deepEqual(await ensureRuntimes(runCommand, env, ['mlserver_sklearn.SKLearnModel']), []);
  });

  it("answers predict_proba and predict equal to the model's own predictions in Python", async () => {
    assert.equal(reference.rows.length, 25);
    const res = await fetch(`${server!.url}/v2/models/propensity-xgb/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'features',
            shape: [reference.rows.length, reference.columns.length],
            datatype: 'FP32',
            data: reference.rows.flat(),
          },
        ],
        outputs: [{ name: 'predict_proba' }, { name: 'predict' }],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { model_name: string; outputs: V2Output[] };
    assert.equal(body.model_name, 'propensity-xgb');
    const proba = body.outputs.find((o) => o.name === 'predict_proba')!;
    const predict = body.outputs.find((o) => o.name === 'predict')!;
    assert.deepEqual(proba.shape, [25, 2]);
    const expected = reference.proba.flat();
    proba.data.forEach((p, i) =>
      assert.ok(Math.abs(p - expected[i]!) < 1e-6, `proba[${i}]: ${p} vs ${expected[i]}`),
    );
    assert.deepEqual(predict.data.map(Number), reference.predict);
    // Not a constant model: the rows get different scores and both classes.
    assert.ok(new Set(reference.predict).size === 2);
  });
});
