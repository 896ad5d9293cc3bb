/**
 * Replicas that find each other through the EndpointSlices of their headless Service
 * (`--peers-service`), on a real kube-apiserver: two router processes, each published as an
 * endpoint with its replica name as `targetRef.name`, as the StatefulSet's Pods would be.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { Report } from '../../src/shared/report';
import { kubeAgent } from '../../src/router/kube';
import { readPeerSlices } from '../../src/router/replicas/peers';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { freePort, hostAddress, routerKubeArgs } from '../harness/kubeRouterStandIn';
import { startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, simpleRequest } from '../harness/routerClient';
import { TOKEN, until } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';

const NS = 'canary';
const SERVICE = 'mc-router-peers';

describe('router replicas: peers from EndpointSlices (real kube-apiserver, two router processes)', function () {
  this.timeout(180_000);
  let api: KubeApiServer;
  let agent: Agent;
  let dir: string;
  let upstream: Upstream;
  const routers: RunningRouter[] = [];
  const clients: Client[] = [];
  const ports: number[] = [];
  // EndpointSlices refuse loopback addresses: the replicas listen on this machine's own.
  const address = hostAddress();

  const kube = async (method: 'POST' | 'DELETE', path: string, body?: object): Promise<number> => {
    const res = await request(`${api.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    await res.body.text();
    return res.statusCode;
  };
  const slice = (name: string, endpoints: { pod: string; port: number; ready: boolean }[]): object => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': SERVICE } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [address!],
      conditions: { ready: e.ready },
      targetRef: { kind: 'Pod', name: e.pod, namespace: NS },
    })),
    ports: [{ name: 'http', port: endpoints[0]!.port, protocol: 'TCP' }],
  });

  before(async () => {
    [api, upstream] = await Promise.all([startKubeApiServer(), startUpstream()]);
    agent = new Agent({ connect: { ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem } });
    dir = await mkdtemp(join(tmpdir(), 'mc-replicas-kube-'));
    assert.equal(
      await kube('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: NS },
      }),
      201,
    );
    assert.ok(address, 'no non-loopback IPv4 address on this machine');
    ports.push(await freePort(address), await freePort(address));
    // One slice per Pod, like the stand-in's; a not-ready endpoint (replaying) still counts.
    assert.equal(
      await kube(
        'POST',
        `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
        slice('router-a', [{ pod: 'router-0', port: ports[0]!, ready: true }]),
      ),
      201,
    );
    assert.equal(
      await kube(
        'POST',
        `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
        slice('router-b', [{ pod: 'router-1', port: ports[1]!, ready: false }]),
      ),
      201,
    );
    const kubeArgs = await routerKubeArgs(api, dir);
    for (const [i, port] of ports.entries()) {
      const own = join(dir, `r${i}`);
      await import('node:fs/promises').then((fs) => fs.mkdir(own));
      const file = await writeRouterConfig(own, {
        listen: `${address}:${port}`,
        requireIngestToken: false,
        adminToken: TOKEN,
        eventLog: { fsyncIntervalMs: 20 },
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            variants: [
              { name: 'v1', url: upstream.url, model: 'propensity-v1', weight: 50 },
              { name: 'v2', url: upstream.url, model: 'propensity-v2', weight: 50 },
            ],
          },
        ],
      });
      routers.push(
        await startRouter(file, {
          args: ['--config', file, '--peers-service', SERVICE, '--leader', 'router-0', ...kubeArgs],
          env: { MODEL_CANARY_REPLICA: `router-${i}`, MODEL_CANARY_NAMESPACE: NS },
        }),
      );
      clients.push(new Client(`http://${address}:${port}`, 2));
    }
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(routers.map((r) => r.stop()));
    await agent?.close();
    await Promise.all([upstream?.close(), api?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists each endpoint as a replica named by its targetRef, ready or not', async () => {
    const conn = { server: api.url, ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem };
    const a = kubeAgent(conn);
    try {
      assert.deepEqual(await readPeerSlices(conn, a, NS, SERVICE), [
        { name: 'router-0', url: `http://${address}:${ports[0]}` },
        { name: 'router-1', url: `http://${address}:${ports[1]}` },
      ]);
      assert.deepEqual(await readPeerSlices(conn, a, NS, 'other-service'), []);
    } finally {
      await a.close();
    }
  });

  it("merges both replicas' traffic into the report either one serves, with feedback forwarded across", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const a = await clients[i % 2]!.infer('propensity', simpleRequest(41));
      assert.equal(a.status, 200);
      ids.push(String(a.headers['x-request-id']));
    }
    assert.ok(ids[0]!.startsWith('router-0~') && ids[1]!.startsWith('router-1~'), ids.slice(0, 2).join(' '));
    // Feedback for each request, posted to the replica that did not serve it.
    for (const [i, id] of ids.entries()) {
      const a = await clients[(i + 1) % 2]!.send('POST', '/api/v1/experiments/propensity/feedback', {
        requestId: id,
        metric: 'conversion',
        value: 1,
      });
      assert.equal(a.status, 202, a.text);
    }
    const report = await until(
      'the merged report of both replicas',
      async () => {
        const a = await clients[1]!.send('GET', '/api/v1/experiments/propensity/report');
        if (a.status !== 200) return undefined;
        const r = a.json() as Report;
        const requests = r.variants.reduce((n, v) => n + v.requests, 0);
        const fed = r.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);
        return requests === 40 && fed === 40 ? r : undefined;
      },
      20_000,
    );
    assert.deepEqual(
      report.replicas?.map((x) => [x.name, x.reachable]),
      [
        ['router-0', true],
        ['router-1', true],
      ],
    );
  });
});
