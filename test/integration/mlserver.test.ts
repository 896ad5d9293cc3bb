import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortFree } from '../../src/kind/doctor';
import { runCommand } from '../../src/process/execaRunner';
import { startModelServer, type ModelServer } from '../../src/runtime/modelServer';
import {
  MLSERVER_VERSION,
  ensureMlserverEnv,
  findPython,
  PythonEnvError,
  type MlserverEnv,
} from '../../src/runtime/python';
import { SAMPLE_MODELS, toolCache } from '../harness/tools';

// Three rows of data/traffic.csv, one V2 input per column (MLServer's pandas codec).
const request = {
  parameters: { content_type: 'pd' },
  inputs: [
    { name: 'age', shape: [3], datatype: 'INT64', data: [27, 60, 52] },
    { name: 'tenure_months', shape: [3], datatype: 'INT64', data: [24, 11, 14] },
    { name: 'sessions_30d', shape: [3], datatype: 'INT64', data: [9, 5, 26] },
    { name: 'basket_value', shape: [3], datatype: 'FP64', data: [92.41, 67.61, 15.76] },
    { name: 'channel', shape: [3], datatype: 'BYTES', data: ['app', 'web', 'web'] },
    { name: 'region', shape: [3], datatype: 'BYTES', data: ['east', 'north', 'east'] },
  ],
};

interface V2Output {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

describe('MLServer serving the sample models (real processes)', () => {
  let env: MlserverEnv;
  let logs: string;
  let server: ModelServer | undefined;

  before(async () => {
    logs = await mkdtemp(join(tmpdir(), 'mc-mlserver-'));
    // The project's own tooling: created once in the cache, reused afterwards.
    env = await ensureMlserverEnv(runCommand, {
      cacheDir: toolCache(),
      onLine: (l) => process.stderr.write(`    ${l}\n`),
    });
  });

  after(async () => {
    await server?.stop();
    await rm(logs, { recursive: true, force: true });
  });

  it('reuses the cached environment on a second call', async () => {
    const again = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
    assert.equal(again.created, false);
    assert.equal(again.dir, env.dir);
  });

  it('serves propensity-v1 on free ports and answers V2 infer with probabilities of the right shape', async () => {
    server = await startModelServer({
      mlserver: env.mlserver,
      modelDir: join(SAMPLE_MODELS, 'propensity-v1'),
      modelName: 'propensity-v1',
      logFile: join(logs, 'propensity-v1.log'),
    });
    assert.equal(new Set(Object.values(server.ports)).size, 3, 'HTTP, gRPC and metrics ports are distinct');

    const res = await fetch(`${server.url}/v2/models/propensity-v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...request, outputs: [{ name: 'predict_proba' }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { model_name: string; outputs: V2Output[] };
    assert.equal(body.model_name, 'propensity-v1');
    const proba = body.outputs.find((o) => o.name === 'predict_proba');
    assert.ok(proba, 'predict_proba output present');
    assert.deepEqual(proba.shape, [3, 2]);
    assert.equal(proba.datatype, 'FP64');
    for (let row = 0; row < 3; row++) {
      const [p0, p1] = [proba.data[2 * row]!, proba.data[2 * row + 1]!];
      assert.ok(p0 >= 0 && p0 <= 1 && p1 >= 0 && p1 <= 1);
      assert.ok(Math.abs(p0 + p1 - 1) < 1e-9, 'class probabilities sum to 1');
    }

    const labels = (await (
      await fetch(`${server.url}/v2/models/propensity-v1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      })
    ).json()) as { outputs: V2Output[] };
    const predict = labels.outputs[0]!;
    assert.equal(predict.name, 'predict');
    assert.equal(predict.datatype, 'INT64');
    assert.equal(predict.data.length, 3);
    assert.ok(predict.data.every((l) => l === 0 || l === 1));
  });

  it('reports a malformed request as a 4xx from the model server', async () => {
    assert.ok(server);
    const res = await fetch(`${server.url}/v2/models/propensity-v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: request.inputs }), // no pandas codec: MLServer refuses six tensors
    });
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
  });

  it('stops cleanly: the process is gone and its ports are free again', async () => {
    assert.ok(server);
    const { pid, ports } = server;
    await server.stop();
    server = undefined;
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    for (const port of Object.values(ports))
      assert.equal(await isPortFree(port), true, `port ${port} is free`);
  });

  it('says how to fix a missing Python', async () => {
    await assert.rejects(findPython(runCommand, '/nonexistent/python3'), (err: unknown) => {
      assert.ok(err instanceof PythonEnvError);
      assert.match(err.message, /^Python 3 was not found .*modelCanary\.python\.path.*--python/);
      return true;
    });
  });

  it('knows the MLServer version it pins', async () => {
    const out = await runCommand({ command: env.mlserver, args: ['--version'], parse: (s) => s.trim() });
    assert.equal(out.kind, 'ok');
    assert.match(out.kind === 'ok' ? out.value : '', new RegExp(MLSERVER_VERSION.replace(/\./g, '\\.')));
  });
});
