/**
 * Router replicas as on Kubernetes, on this machine: real router processes (`dist/router.js`)
 * with their config from one ConfigMap of a real kube-apiserver + etcd, each with its own data
 * folder (its own volume) and `MODEL_CANARY_REPLICA` (its Pod's name), electing the rollout
 * leader on the Lease `model-canary-router`. Upstreams are fake V2 servers (./upstream.ts).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { stackNames } from '../../src/manifests';
import type { RolloutStatus } from '../../src/shared/report';
import { startKubeApiServer, type KubeApiServer } from './kubeApiServer';
import { hostAddress, routerKubeArgs } from './kubeRouterStandIn';
import { startRouter, type RunningRouter } from './router';
import { Client } from './routerClient';
import { startUpstream, type Upstream } from './upstream';

export const REPLICA_NS = 'canary';
const NAMES = stackNames('model-canary');
export const REPLICA_CONFIG = NAMES.routerConfig; // model-canary-router-config
export const REPLICA_LEASE = NAMES.router; // model-canary-router, the router's default for that ConfigMap
const PEERS_SERVICE = 'mc-router-peers';

export interface Replica {
  name: string;
  dir: string;
  router: RunningRouter;
  client: Client;
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds: number;
  renewTime: string;
  leaseTransitions: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the API server, two upstreams, the ConfigMap (`propensity`, v1 100 / v2 0) and `count` replicas. */
export async function startReplicaSet(opts: {
  count: number;
  leaseSeconds: number;
  adminToken: string;
  /** Peers from the EndpointSlices of `mc-router-peers` (one slice per replica, as the stand-in's). */
  peers?: boolean;
}) {
  // EndpointSlices refuse loopback addresses: with peers the replicas listen on this machine's own.
  const address = opts.peers ? hostAddress() : '127.0.0.1';
  assert.ok(address, 'no non-loopback IPv4 address on this machine');
  const [api, v1, v2] = (await Promise.all([startKubeApiServer(), startUpstream(), startUpstream()])) as [
    KubeApiServer,
    Upstream,
    Upstream,
  ];
  const agent = new Agent({ connect: { ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem } });
  const dir = await mkdtemp(join(tmpdir(), 'mc-router-replicas-'));
  const replicas: Replica[] = [];

  // The API as an admin (client certificate), bypassing the code under test.
  const kube = async (method: 'GET' | 'POST' | 'PUT', path: string, body?: object) => {
    const res = await request(`${api.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  };
  const configMap = async () =>
    (await kube('GET', `/api/v1/namespaces/${REPLICA_NS}/configmaps/${REPLICA_CONFIG}`)).json as {
      data: Record<string, string>;
    };
  const alive = () =>
    replicas.filter((r) => r.router.proc.exitCode === null && r.router.proc.signalCode === null);
  const leaderView = async (r: Replica) =>
    (await r.client.send('GET', '/api/v1/leader')).json() as {
      self: string;
      leader: string | null;
      leading: boolean;
    };

  let kubeArgs: string[] = [];
  // A replica's process: its own data folder (its volume), its Pod's name.
  const launch = (name: string, cwd: string) =>
    startRouter(join(cwd, 'unused.yaml'), {
      cwd,
      args: [
        ...['--kube-configmap', `${REPLICA_NS}/${REPLICA_CONFIG}`],
        ...['--lease-duration', String(opts.leaseSeconds), ...kubeArgs],
        ...(opts.peers ? ['--peers-service', `${REPLICA_NS}/${PEERS_SERVICE}`] : []),
      ],
      env: { MODEL_CANARY_REPLICA: name },
    });
  // With peers, its EndpointSlice (one per replica, as the stand-in's), created or moved to `port`.
  const publish = async (name: string, port: number) => {
    if (!opts.peers) return;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${REPLICA_NS}/endpointslices`;
    const old = await kube('GET', `${path}/${name}`);
    const slice = await kube(
      old.status === 200 ? 'PUT' : 'POST',
      old.status === 200 ? `${path}/${name}` : path,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name,
          labels: { 'kubernetes.io/service-name': PEERS_SERVICE },
          ...(old.status === 200
            ? { resourceVersion: (old.json.metadata as { resourceVersion: string }).resourceVersion }
            : {}),
        },
        addressType: 'IPv4',
        endpoints: [
          {
            addresses: [address],
            conditions: { ready: true },
            targetRef: { kind: 'Pod', name, namespace: REPLICA_NS },
          },
        ],
        ports: [{ name: 'http', port, protocol: 'TCP' }],
      },
    );
    assert.ok(slice.status === 200 || slice.status === 201, JSON.stringify(slice.json));
  };

  const set = {
    api,
    dir,
    replicas,
    kube,
    configMap,
    alive,
    leaderView,
    /** The Lease's spec as the API server holds it. */
    lease: async () =>
      (await kube('GET', `/apis/coordination.k8s.io/v1/namespaces/${REPLICA_NS}/leases/${REPLICA_LEASE}`))
        .json.spec as LeaseSpec,
    /** The weights in the ConfigMap's router.yaml. */
    configWeights: async (): Promise<Record<string, number>> => {
      const config = (parse((await configMap()).data['router.yaml'] ?? '') ?? {}) as RouterConfigInput;
      return Object.fromEntries(config.experiments![0]!.variants.map((v) => [v.name, v.weight ?? 0]));
    },
    /** The rollout the leader wrote to the ConfigMap. */
    storedRollout: async (): Promise<RolloutStatus | undefined> => {
      const text = (await configMap()).data['rollout-state.json'];
      return text
        ? (JSON.parse(text) as Record<string, { status: RolloutStatus }>).propensity?.status
        : undefined;
    },
    /** The weights a replica serves. */
    servedWeights: async (r: Replica) =>
      (
        (await r.client.send('GET', '/api/v1/experiments/propensity/weights')).json() as {
          weights: Record<string, number>;
        }
      ).weights,
    /** Waits until exactly one of `among` leads and every one of them names it. */
    async oneLeader(timeoutMs: number, among = alive()): Promise<Replica> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const views = await Promise.all(among.map(leaderView));
        const leaders = views.filter((v) => v.leading);
        if (leaders.length === 1 && views.every((v) => v.leader === leaders[0]!.self))
          return replicas.find((r) => r.name === leaders[0]!.self)!;
        assert.ok(leaders.length <= 1, `two replicas lead at once: ${JSON.stringify(views)}`);
        assert.ok(Date.now() < deadline, `no single leader after ${timeoutMs} ms: ${JSON.stringify(views)}`);
        await sleep(50);
      }
    },
    /**
     * Starts a replica again on its own data folder (stopped first with SIGTERM if it runs), as
     * its Pod would come back with its volume; its EndpointSlice follows its new port.
     */
    async restart(r: Replica): Promise<void> {
      if (r.router.proc.exitCode === null && r.router.proc.signalCode === null) await r.router.stop();
      await r.client.close();
      r.router = await launch(r.name, r.dir);
      r.client = new Client(`http://${address}:${r.router.port}`, 8);
      await publish(r.name, r.router.port);
    },
    async stop(): Promise<void> {
      for (const r of replicas) {
        await r.client.close();
        await r.router.stop();
      }
      await agent.close();
      await Promise.all([v1.close(), v2.close(), api.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    assert.equal((await kube('POST', '/api/v1/namespaces', { metadata: { name: REPLICA_NS } })).status, 201);
    const config: RouterConfigInput = {
      listen: `${address}:0`,
      dataDir: 'data', // relative: each replica's own folder (its working directory), as its own volume
      adminToken: opts.adminToken,
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          variants: [
            { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 100, role: 'baseline' },
            { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 0 },
          ],
        },
      ],
    };
    const created = await kube('POST', `/api/v1/namespaces/${REPLICA_NS}/configmaps`, {
      metadata: { name: REPLICA_CONFIG, namespace: REPLICA_NS },
      data: { 'router.yaml': `# written by the test\n${stringify(config)}` },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    kubeArgs = await routerKubeArgs(api, dir);
    for (let i = 0; i < opts.count; i++) {
      const name = `router-${i}`;
      const cwd = join(dir, name);
      await mkdir(cwd);
      const router = await launch(name, cwd);
      replicas.push({ name, dir: cwd, router, client: new Client(`http://${address}:${router.port}`, 8) });
      await publish(name, router.port);
    }
  } catch (err) {
    await set.stop().catch(() => undefined);
    throw err;
  }
  return set;
}

export type ReplicaSet = Awaited<ReturnType<typeof startReplicaSet>>;
