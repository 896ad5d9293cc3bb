import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { ROUTER_BUNDLE, startRouter, type RunningRouter } from '../harness/router';
import { Client } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';

// The rights a router needs to write its weights and hold the Lease, checked with a service
// account's token under RBAC on a real kube-apiserver: what it does without them, and that
// these rules are enough.
const NS = 'canary';
const CONFIG = 'model-canary-router-config';
const TOKEN = 'rbac-test-admin-token-0123456789';
const admin = { authorization: `Bearer ${TOKEN}` };
const READ: object[] = [
  { apiGroups: [''], resources: ['configmaps'], resourceNames: [CONFIG], verbs: ['get', 'list', 'watch'] },
];
/** What the stack's Role must grant for replicas (docs/kubernetes.md, "Replicas and the rollout leader"). */
const REPLICAS: object[] = [
  {
    apiGroups: [''],
    resources: ['configmaps'],
    resourceNames: [CONFIG],
    verbs: ['get', 'list', 'watch', 'update'],
  },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: ['model-canary-router'],
    verbs: ['get', 'update'],
  },
];

describe('router rights on its ConfigMap and Lease (service-account tokens, RBAC, real kube-apiserver)', function () {
  let api: KubeApiServer;
  let agent: Agent;
  let dir: string;
  let v1: Upstream;
  const routers: { router: RunningRouter; client: Client }[] = [];

  const kube = async (method: 'GET' | 'POST', path: string, body?: object) => {
    const res = await request(`${api.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const json = (await res.body.json()) as Record<string, unknown>;
    assert.ok(res.statusCode < 300, `${method} ${path}: HTTP ${res.statusCode} ${JSON.stringify(json)}`);
    return json;
  };

  /** A router with a service account bound to `rules`, as a Pod's would be. */
  const routerWith = async (name: string, rules: object[], replica?: string) => {
    await kube('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name } });
    await kube('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
      metadata: { name },
      rules,
    });
    await kube('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
    });
    const review = (await kube('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    })) as { status: { token: string } };
    const cwd = join(dir, name);
    await mkdir(cwd);
    await writeFile(join(cwd, 'token'), review.status.token);
    await writeFile(join(cwd, 'ca.pem'), api.caPem);
    const router = await startRouter(join(cwd, 'unused.yaml'), {
      cwd,
      args: [
        ...['--kube-configmap', `${NS}/${CONFIG}`, '--lease-duration', '2', '--kube-server', api.url],
        ...['--kube-ca-file', join(cwd, 'ca.pem'), '--kube-token-file', join(cwd, 'token')],
      ],
      env: replica ? { MODEL_CANARY_REPLICA: replica } : {},
    });
    const r = { router, client: new Client(router.url, 2) };
    routers.push(r);
    return r;
  };
  const storedWeights = async () =>
    ((await kube('GET', `/api/v1/namespaces/${NS}/configmaps/${CONFIG}`)) as { data: Record<string, string> })
      .data['router.yaml'];
  const put = (c: Client, v2: number) =>
    c.send('PUT', '/api/v1/experiments/propensity/weights', { weights: { v1: 100 - v2, v2 } }, admin);

  before(async function () {
    this.timeout(180_000);
    [api, v1] = await Promise.all([startKubeApiServer(), startUpstream()]);
    agent = new Agent({ connect: { ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem } });
    dir = await mkdtemp(join(tmpdir(), 'mc-router-rbac-'));
    await kube('POST', '/api/v1/namespaces', { metadata: { name: NS } });
    const config: RouterConfigInput = {
      listen: '127.0.0.1:0',
      dataDir: 'data',
      adminToken: TOKEN,
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          variants: [
            { name: 'v1', url: v1.url, model: 'm1', weight: 100, role: 'baseline' },
            { name: 'v2', url: v1.url, model: 'm2', weight: 0 },
          ],
        },
      ],
    };
    await kube('POST', `/api/v1/namespaces/${NS}/configmaps`, {
      metadata: { name: CONFIG },
      data: { 'router.yaml': stringify(config) },
    });
  });

  after(async () => {
    for (const r of routers) {
      await r.client.close();
      await r.router.stop();
    }
    await agent?.close();
    await Promise.all([v1?.close(), api?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a sole router that may only read its ConfigMap keeps a weight change in memory, warning once with the fix', async function () {
    this.timeout(30_000);
    const { router, client } = await routerWith('reader', READ);
    const before = await storedWeights();
    assert.equal((await put(client, 20)).status, 200);
    assert.equal((await put(client, 30)).status, 200);
    const served = (await client.send('GET', '/api/v1/experiments/propensity/weights')).json();
    assert.deepEqual(served, { experiment: 'propensity', weights: { v1: 70, v2: 30 } });
    assert.equal(await storedWeights(), before, 'the ConfigMap is unchanged');
    const warnings = router
      .output()
      .match(/may not update ConfigMap canary\/model-canary-router-config \(HTTP 403\) — grant/g);
    assert.equal(warnings?.length, 1, router.output());
    await router.stop();
  });

  it('a replica without rights on Leases says so and leads nothing; with the rules above it leads and writes', async function () {
    this.timeout(30_000);
    const denied = await routerWith('no-lease', READ, 'router-a');
    const deadline = Date.now() + 5_000;
    while (
      !/reading the Lease failed: HTTP 403.*grant the router's service account get, create and update on leases/.test(
        denied.router.output(),
      )
    ) {
      assert.ok(Date.now() < deadline, denied.router.output());
      await new Promise((r) => setTimeout(r, 50));
    }
    const refused = await denied.client.send(
      'POST',
      '/api/v1/experiments/propensity/rollout',
      { action: 'start' },
      admin,
    );
    assert.equal(refused.status, 503);
    assert.match(refused.text, /no replica leads the rollouts right now/);
    const refusedPut = await put(denied.client, 40);
    assert.equal(refusedPut.status, 500, 'a replica never keeps weights to itself');
    assert.match(
      (refusedPut.json() as { error: string }).error,
      /may not update ConfigMap .* grant its service account "update"/,
    );
    await denied.router.stop();

    const allowed = await routerWith('replica', REPLICAS, 'router-b');
    for (const until = Date.now() + 5_000; ;) {
      const view = (await allowed.client.send('GET', '/api/v1/leader')).json() as { leading: boolean };
      if (view.leading) break;
      assert.ok(Date.now() < until, allowed.router.output());
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await put(allowed.client, 50)).status, 200);
    assert.match((await storedWeights()) ?? '', /weight: 50[\s\S]*weight: 50/);
  });
  it('refuses a lease duration the Lease cannot hold, saying what to give', () => {
    const res = spawnSync(
      process.execPath,
      [
        ROUTER_BUNDLE,
        '--kube-configmap',
        `${NS}/${CONFIG}`,
        '--kube-server',
        api.url,
        '--lease-duration',
        '2.5',
      ],
      { env: { ...process.env, MODEL_CANARY_REPLICA: 'router-x' }, encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(res.status, 2, res.stderr);
    assert.match(
      res.stderr,
      /--lease-duration must be a whole number of seconds ≥ 1 .* e\.g\. 15, got "2\.5"/,
    );
  });
});
