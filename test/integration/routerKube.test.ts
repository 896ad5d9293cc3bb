import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import type { WeightsEvent } from '../../src/shared/events';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { routerKubeArgs } from '../harness/kubeRouterStandIn';
import { startRouter, type RunningRouter } from '../harness/router';
import { Client, readEvents, simpleRequest } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';

const NS = 'canary';
const NAME = 'model-canary-router';

describe('router: config from a Kubernetes ConfigMap (real kube-apiserver)', function () {
  let api: KubeApiServer;
  let agent: Agent;
  let dir: string;
  let v1: Upstream;
  let v2: Upstream;
  let router: RunningRouter;
  let client: Client;

  const configFor = (w1: number, w2: number): RouterConfigInput => ({
    listen: '127.0.0.1:0',
    dataDir: join(dir, 'data'),
    experiments: [
      {
        name: 'propensity',
        endpoint: 'propensity',
        variants: [
          { name: 'v1', url: v1.url, model: 'propensity-v1', weight: w1 },
          { name: 'v2', url: v2.url, model: 'propensity-v2', weight: w2 },
        ],
      },
    ],
  });

  // The API as an admin (client certificate), bypassing the code under test.
  const kube = async (
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: object,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await request(`${api.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  };
  const configMap = (text: string, resourceVersion?: string): object => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: NAME, namespace: NS, ...(resourceVersion ? { resourceVersion } : {}) },
    data: { 'router.yaml': text },
  });
  const replaceConfigMap = async (text: string): Promise<void> => {
    const current = await kube('GET', `/api/v1/namespaces/${NS}/configmaps/${NAME}`);
    const rv = (current.json.metadata as { resourceVersion: string }).resourceVersion;
    const res = await kube('PUT', `/api/v1/namespaces/${NS}/configmaps/${NAME}`, configMap(text, rv));
    assert.equal(res.status, 200, JSON.stringify(res.json));
  };
  const weights = async (): Promise<Record<string, number>> =>
    (
      (await client.send('GET', '/api/v1/experiments/propensity/weights')).json() as {
        weights: Record<string, number>;
      }
    ).weights;

  before(async function () {
    this.timeout(180_000);
    [api, v1, v2] = await Promise.all([startKubeApiServer(), startUpstream(), startUpstream()]);
    agent = new Agent({ connect: { ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem } });
    dir = await mkdtemp(join(tmpdir(), 'mc-router-kube-'));
    const ns = await kube('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS },
    });
    assert.equal(ns.status, 201, JSON.stringify(ns.json));
    const created = await kube(
      'POST',
      `/api/v1/namespaces/${NS}/configmaps`,
      configMap(stringify(configFor(90, 10))),
    );
    assert.equal(created.status, 201, JSON.stringify(created.json));
    router = await startRouter(join(dir, 'unused.yaml'), {
      cwd: dir,
      args: ['--kube-configmap', `${NS}/${NAME}`, ...(await routerKubeArgs(api, dir))],
    });
    client = new Client(router.url, 4);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await agent?.close();
    await Promise.all([v1?.close(), v2?.close(), api?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts from the ConfigMap and routes', async () => {
    assert.deepEqual(await weights(), { v1: 90, v2: 10 });
    assert.equal((await client.infer('propensity', simpleRequest())).status, 200);
  });

  it('applies a weight change made in the ConfigMap (watched, not polled), and logs it as from kubernetes', async () => {
    await replaceConfigMap(stringify(configFor(50, 50)));
    const changed = Date.now();
    // Tests do not time things (bench/ does): the bound is only there so a lost watch fails.
    for (;;) {
      const w = await weights();
      if (w.v1 === 50 && w.v2 === 50) break;
      assert.ok(Date.now() - changed < 10_000, `still ${JSON.stringify(w)} 10 s after the ConfigMap changed`);
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`      (picked up ${Date.now() - changed} ms after the change)`);
    // The new weights apply first; their event is durable a group commit later.
    const lastWeights = (): WeightsEvent | undefined =>
      readEvents(join(dir, 'data'))
        .filter((e): e is WeightsEvent => e.type === 'weights')
        .at(-1);
    for (let i = 0; i < 100 && lastWeights()?.weights.v2 !== 50; i++)
      await new Promise((r) => setTimeout(r, 50));
    const last = lastWeights()!;
    assert.deepEqual([last.source, last.weights], ['kubernetes', { v1: 50, v2: 50 }]);
  });

  it('keeps its config when the ConfigMap holds an invalid one, and takes the next valid one', async () => {
    await replaceConfigMap('experiments: [ { name: broken');
    await new Promise((r) => setTimeout(r, 500));
    assert.match(router.output(), /not applied/);
    assert.deepEqual(await weights(), { v1: 50, v2: 50 });
    await replaceConfigMap(stringify(configFor(70, 30)));
    const deadline = Date.now() + 5_000;
    while ((await weights()).v1 !== 70) {
      assert.ok(Date.now() < deadline, 'the next valid config was applied');
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('takes the ingest token from the file ingestTokenFile names (the Secret key in a Pod): feedback without it 401, with it 202', async () => {
    const tokenFile = join(dir, 'ingest-token');
    const token = 'ingest-'.padEnd(40, 'k');
    await writeFile(tokenFile, `${token}\n`);
    await replaceConfigMap(
      stringify({ ...configFor(70, 30), ingestTokenFile: tokenFile, requireIngestToken: true }),
    );
    const served = await client.infer('propensity', simpleRequest());
    assert.equal(served.status, 200);
    const requestId = String(served.headers['x-request-id']);
    const feedback = (headers: Record<string, string>) =>
      client.send(
        'POST',
        '/api/v1/experiments/propensity/feedback',
        { requestId, metric: 'conversion', value: 1 },
        headers,
      );
    const deadline = Date.now() + 5_000;
    let refused = await feedback({});
    // The config (and so the token) applies once the watch delivers it.
    while (refused.status !== 401 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      refused = await feedback({});
    }
    assert.equal(refused.status, 401, refused.text);
    assert.match(refused.text, /missing ingest token for propensity/);
    assert.equal((await feedback({ 'x-model-canary-ingest-token': 'not-the-token-at-all' })).status, 401);
    const accepted = await feedback({ 'x-model-canary-ingest-token': token });
    assert.equal(accepted.status, 202, accepted.text);
  });
});
