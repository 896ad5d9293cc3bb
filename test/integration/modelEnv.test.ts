import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCommand } from '../../src/process/execaRunner';
import { ensureModelEnv } from '../../src/runtime/modelEnv';
import { startModelServer, type ModelServer } from '../../src/runtime/modelServer';
import { ensureMlserverEnv, type MlserverEnv } from '../../src/runtime/python';
import { REPO_ROOT, toolCache } from '../harness/tools';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/customStep');

describe('custom Python steps: a per-model environment from requirements.txt (real MLServer, pip from PyPI)', function () {
  this.timeout(180_000);
  let env: MlserverEnv;
  let cache: string;
  let server: ModelServer | undefined;

  before(async () => {
    env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
    cache = await mkdtemp(join(tmpdir(), 'mc-model-env-'));
  });

  after(async () => {
    await server?.stop();
    await rm(cache, { recursive: true, force: true });
  });

  it('serves a custom runtime whose requirement the MLServer environment lacks, from its own environment', async () => {
    await assert.rejects(
      promisify(execFile)(env.python, ['-c', 'import tabulate']),
      'the fixture needs a package the MLServer environment does not have',
    );
    const modelEnv = await ensureModelEnv(runCommand, env, join(FIXTURE, 'requirements.txt'), {
      cacheDir: cache,
    });
    assert.equal(modelEnv.created, true);
    assert.ok(modelEnv.dir.startsWith(join(cache, 'python', 'model-env-')), modelEnv.dir);
    server = await startModelServer({
      mlserver: modelEnv.mlserver,
      modelDir: FIXTURE,
      modelName: 'table-step',
      logFile: join(cache, 'table-step.log'),
    });
    const res = await fetch(`${server.url}/v2/models/table-step/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        parameters: { content_type: 'pd' },
        inputs: [
          { name: 'age', shape: [2], datatype: 'INT64', data: [31, 58] },
          { name: 'channel', shape: [2], datatype: 'BYTES', data: ['app', 'web'] },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { outputs: { name: string; data: string[] }[] };
    const out = Object.fromEntries(body.outputs.map((o) => [o.name, o.data[0]]));
    assert.equal(out.tabulate_version, '0.9.0');
    assert.deepEqual(
      out.table?.split('\n').map((l) => l.trim().split(/\s+/)),
      [
        ['age', 'channel'],
        ['31', 'app'],
        ['58', 'web'],
      ],
    );
  });

  it('reuses the environment cached by the hash of the requirements: no venv, no pip', async () => {
    const started = performance.now();
    const again = await ensureModelEnv(runCommand, env, join(FIXTURE, 'requirements.txt'), {
      cacheDir: cache,
    });
    assert.equal(again.created, false);
    assert.ok(performance.now() - started < 1_000, `took ${Math.round(performance.now() - started)} ms`);
  });

  it('gives an edited requirements.txt a new environment, and refuses an unpinned line with its file and line', async () => {
    const dir = await mkdtemp(join(cache, 'edited-'));
    await cp(FIXTURE, dir, { recursive: true });
    const file = join(dir, 'requirements.txt');
    const first = await ensureModelEnv(runCommand, env, join(FIXTURE, 'requirements.txt'), {
      cacheDir: cache,
    });
    // Only what the MLServer environment already has: pip installs nothing, and no index is needed.
    await writeFile(file, '# shared with MLServer\nnumpy==2.4.6\n');
    const edited = await ensureModelEnv(runCommand, env, file, { cacheDir: cache });
    assert.equal(edited.created, true);
    assert.notEqual(edited.dir, first.dir);
    await writeFile(file, 'numpy==2.4.6\n\ntabulate\n');
    await assert.rejects(ensureModelEnv(runCommand, env, file, { cacheDir: cache }), (err: Error) =>
      err.message.startsWith(`${file}:3: "tabulate" is not pinned — write it as tabulate==<version>`),
    );
  });
});
