import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanWorkspace } from '../../src/core/workspace/discover';
import { buildStack, MLSERVER_HTTP_PORT, modelRefs } from '../../src/manifests';
import {
  docker,
  dockerImageSuite,
  dockerRunArgs,
  podSpecOf,
  runAsPod,
  waitReady,
  type RunningContainer,
} from '../harness/containers';
import { objectOf } from '../harness/sampleStack';
import { REPO_ROOT } from '../harness/tools';

const EXPERIMENT = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: tables }
spec:
  endpoint: tables
  variants:
    - { name: a, model: table-step, role: baseline, weight: 100 }
  metrics:
    primary: { name: conversion, kind: proportion }
`;

// A custom step with a requirements.txt in the manifests: its Pod's init container (the MLServer
// image, pip from PyPI) builds the step's environment into the shared volume, then the MLServer
// container runs from it. Both run by Docker the way the Pod runs them (user, security context,
// read-only root filesystem, mounts). The CA bundle of this machine is mounted and named to pip,
// since its PyPI traffic goes through a proxy with its own certificate authority.
describe("a custom step's Pod: the init container installs its requirements, MLServer serves it (docker run)", function () {
  const names = dockerImageSuite('mlserver');
  let ws = '';
  let server: RunningContainer | undefined;

  before(async () => {
    ws = await mkdtemp(join(tmpdir(), 'mc-custom-step-'));
    await cp(join(REPO_ROOT, 'test/fixtures/customStep'), join(ws, 'table-step'), { recursive: true });
    await mkdir(join(ws, 'experiments'));
    await writeFile(join(ws, 'experiments', 'tables.yaml'), EXPERIMENT);
    await mkdir(join(ws, 'python'));
    await chmod(join(ws, 'python'), 0o777); // the emptyDir, writable by the Pod's user
  });

  after(async () => {
    await server?.remove();
    if (!ws) return; // skipped before it began (no Docker daemon)
    // The environment was written by the container's user: remove it from a container too.
    await docker([
      'run',
      '--rm',
      '--volume',
      `${ws}:/ws`,
      '--entrypoint',
      'rm',
      names.mlserver,
      '-rf',
      '/ws/python',
    ]).catch(() => undefined);
    await rm(ws, { recursive: true, force: true });
  });

  it('runs install-requirements to completion, then answers with the package only that environment has', async () => {
    const scan = await scanWorkspace(ws);
    assert.deepEqual(scan.problems, []);
    const experiment = scan.experiments[0]!.experiment!;
    const refs = modelRefs(scan.root, scan.models);
    assert.deepEqual(refs[0]?.files, ['model-settings.json', 'table.py', 'requirements.txt']);
    const objects = buildStack([{ experiment, models: refs }], {
      namespace: 'mc',
      platform: 'kind',
      router: { image: 'model-canary/router:0.1.0' },
    });
    const pod = podSpecOf(objectOf(objects, 'Deployment', 'tables-a'));
    const init = pod.initContainers?.find((c) => c.name === 'install-requirements');
    assert.ok(init, 'the Pod has the install-requirements init container');
    assert.equal(init.image, names.mlserver);
    const volumes = { model: join(ws, 'table-step'), python: join(ws, 'python') };
    // This machine's CA bundle, when it has one (its PyPI traffic may go through a TLS proxy).
    const ca = process.env.PIP_CERT ?? '/etc/ssl/certs/ca-certificates.crt';
    const trusted = existsSync(ca);
    const withCa = trusted
      ? { ...init, env: [...(init.env ?? []), { name: 'PIP_CERT', value: '/mnt/ca.crt' }] }
      : init;
    await docker(
      dockerRunArgs(pod, withCa, {
        volumes,
        detach: false,
        extraMounts: trusted ? [`${ca}:/mnt/ca.crt:ro`] : [],
      }),
      300_000,
    );

    const container = pod.containers[0]!;
    server = await runAsPod(pod, container, { port: MLSERVER_HTTP_PORT, volumes });
    await waitReady(server, '/v2/models/table-step/ready', 180_000);
    const res = await fetch(`${server.url}/v2/models/table-step/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        parameters: { content_type: 'pd' },
        inputs: [{ name: 'age', shape: [1], datatype: 'INT64', data: [44] }],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { outputs: { name: string; data: string[] }[] };
    assert.equal(body.outputs.find((o) => o.name === 'tabulate_version')?.data[0], '0.9.0');
    // MLServer's own packages are the image's, not a second copy in the step's environment.
    const copies = await docker([
      'run',
      '--rm',
      '--volume',
      `${volumes.python}:/mnt/python:ro`,
      '--entrypoint',
      '/mnt/python/env/bin/python',
      names.mlserver,
      '-c',
      'import mlserver, numpy, tabulate; print(mlserver.__file__); print(numpy.__file__); print(tabulate.__file__)',
    ]);
    const [mlserverAt, numpyAt, tabulateAt] = copies.split('\n');
    assert.ok(mlserverAt?.startsWith('/opt/mlserver/venv/'), mlserverAt);
    assert.ok(numpyAt?.startsWith('/opt/mlserver/venv/'), numpyAt);
    assert.ok(tabulateAt?.startsWith('/mnt/python/env/'), tabulateAt);
  });
});
