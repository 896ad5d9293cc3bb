/**
 * A second release on a kind cluster (real kube-apiserver): the router's Service of the first
 * holds the NodePort the cluster maps to this machine, so `up` of the second refuses before it
 * applies anything, and says which release holds it and what to do.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, loadKubeConfig, readLive } from '../../src/kube';
import { ROUTER_NODE_PORT } from '../../src/kind/commands';
import { KubeRuntime } from '../../src/runtime/kubeRuntime';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { ROUTER_BUNDLE, ensureRouterBuilt } from '../harness/router';
import { SAMPLE_MODELS } from '../harness/tools';

const CONTEXT = 'kind-model-canary';

describe('a second release on the kind cluster (real kube-apiserver)', function () {
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;

  before(async function () {
    ensureRouterBuilt();
    server = await startKubeApiServer();
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-kindrelease-'));
    await fs.promises.writeFile(path.join(tmp, 'kubeconfig'), server.kubeconfigFor(CONTEXT), { mode: 0o600 });
    kc = loadKubeConfig({ KUBECONFIG: path.join(tmp, 'kubeconfig') });
  });

  after(async function () {
    await server?.stop();
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  it(`up refuses before applying anything when another namespace's router holds NodePort ${ROUTER_NODE_PORT}`, async function () {
    const post = async (p: string, body: object) => {
      const res = await kubeRequest(kc, CONTEXT, p, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify(body),
      });
      assert.ok(res.status < 300, `POST ${p}: HTTP ${res.status} ${res.text}`);
    };
    await post('/api/v1/namespaces', { metadata: { name: 'team-a' } });
    await post('/api/v1/namespaces/team-a/services', {
      metadata: { name: 'model-canary-router' },
      spec: {
        type: 'NodePort',
        selector: { app: 'router' },
        ports: [{ name: 'http', port: 8080, nodePort: ROUTER_NODE_PORT }],
      },
    });
    const second = new KubeRuntime({
      workspace: SAMPLE_MODELS,
      context: CONTEXT,
      kubeconfig: kc,
      namespace: 'team-b',
      platform: 'kind',
      routerScript: ROUTER_BUNDLE,
      rolloutTimeoutMs: 5_000,
    });
    await assert.rejects(
      second.up(),
      new RegExp(
        `NodePort ${ROUTER_NODE_PORT}, .* is taken by Service team-a/model-canary-router — one router per kind cluster: use namespace team-a .*nothing was applied`,
      ),
    );
    const ns = await readLive(kc, CONTEXT, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-b' },
    });
    assert.equal(ns, undefined, 'nothing of the second release was created');
  });
});
