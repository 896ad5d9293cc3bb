import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { KubeConfig } from '@kubernetes/client-node';
import { liveRouterConfig, setRouterWeights } from '../../src/kube/stackState';
import { stackNames } from '../../src/manifests';
import type { WeightsEvent } from '../../src/shared/events';
import type { RolloutStatus } from '../../src/shared/report';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { routerKubeArgs } from '../harness/kubeRouterStandIn';
import { startRouter, type RunningRouter } from '../harness/router';
import { Client, readEvents, simpleRequest } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';

// Three real router processes with their config from one ConfigMap and one Lease on a real
// kube-apiserver + etcd: one leader, weights through the ConfigMap, and a rollout that survives
// the SIGKILL of its leader.
const NS = 'canary';
const NAMES = stackNames('model-canary');
const CONFIG = NAMES.routerConfig; // model-canary-router-config
const LEASE = NAMES.router; // model-canary-router, the router's default for that ConfigMap
const LEASE_SECONDS = 3;
const TOKEN = 'leader-test-admin-token-0123456789';
const admin = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  name: string;
  dir: string;
  router: RunningRouter;
  client: Client;
}

describe('router replicas: one rollout leader on a Lease, the ConfigMap as the truth of weights (real kube-apiserver)', function () {
  let api: KubeApiServer;
  let agent: Agent;
  let dir: string;
  let v1: Upstream;
  let v2: Upstream;
  let kubeArgs: string[];
  const replicas: Replica[] = [];

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
    (await kube('GET', `/api/v1/namespaces/${NS}/configmaps/${CONFIG}`)).json as {
      data: Record<string, string>;
    };
  const lease = async () =>
    (await kube('GET', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${LEASE}`)).json.spec as {
      holderIdentity?: string;
      leaseDurationSeconds: number;
      renewTime: string;
      leaseTransitions: number;
    };
  const configWeights = async (): Promise<Record<string, number>> => {
    const config = (parse((await configMap()).data['router.yaml'] as string) ?? {}) as RouterConfigInput;
    return Object.fromEntries(config.experiments![0]!.variants.map((v) => [v.name, v.weight ?? 0]));
  };
  const storedRollout = async (): Promise<RolloutStatus | undefined> => {
    const text = (await configMap()).data['rollout-state.json'] as string | undefined;
    return text
      ? (JSON.parse(text) as Record<string, { status: RolloutStatus }>).propensity?.status
      : undefined;
  };
  const alive = () =>
    replicas.filter((r) => r.router.proc.exitCode === null && r.router.proc.signalCode === null);
  const leaderView = async (r: Replica) =>
    (await r.client.send('GET', '/api/v1/leader')).json() as {
      self: string;
      leader: string | null;
      leading: boolean;
    };
  const servedWeights = async (r: Replica) =>
    (
      (await r.client.send('GET', '/api/v1/experiments/propensity/weights')).json() as {
        weights: Record<string, number>;
      }
    ).weights;

  /** Waits until exactly one live replica leads and every live replica names it. */
  const oneLeader = async (timeoutMs: number, among = alive()): Promise<Replica> => {
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
  };

  before(async function () {
    this.timeout(180_000);
    [api, v1, v2] = await Promise.all([startKubeApiServer(), startUpstream(), startUpstream()]);
    agent = new Agent({ connect: { ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem } });
    dir = await mkdtemp(join(tmpdir(), 'mc-router-leader-'));
    assert.equal((await kube('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status, 201);
    const config: RouterConfigInput = {
      listen: '127.0.0.1:0',
      dataDir: 'data', // relative: each replica's own folder (its working directory), as its own volume
      adminToken: TOKEN,
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
    const created = await kube('POST', `/api/v1/namespaces/${NS}/configmaps`, {
      metadata: { name: CONFIG, namespace: NS },
      data: { 'router.yaml': `# written by the test\n${stringify(config)}` },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    kubeArgs = await routerKubeArgs(api, dir);
    for (const name of ['router-0', 'router-1', 'router-2']) {
      const cwd = join(dir, name);
      await mkdir(cwd);
      const router = await startRouter(join(cwd, 'unused.yaml'), {
        cwd,
        args: ['--kube-configmap', `${NS}/${CONFIG}`, '--lease-duration', String(LEASE_SECONDS), ...kubeArgs],
        env: { MODEL_CANARY_REPLICA: name },
      });
      replicas.push({ name, dir: cwd, router, client: new Client(router.url, 8) });
    }
  });

  after(async () => {
    for (const r of replicas) {
      await r.client.close();
      await r.router.stop();
    }
    await agent?.close();
    await Promise.all([v1?.close(), v2?.close(), api?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exactly one replica leads: the Lease names it, and every replica says so', async function () {
    this.timeout(30_000);
    const leader = await oneLeader(3 * LEASE_SECONDS * 1000);
    const spec = await lease();
    assert.equal(spec.holderIdentity, leader.name);
    assert.equal(spec.leaseDurationSeconds, LEASE_SECONDS);
    // It stays so across several renewals.
    await sleep(LEASE_SECONDS * 1000);
    assert.equal((await oneLeader(1_000)).name, leader.name);
    assert.ok(
      Date.parse((await lease()).renewTime) > Date.parse(spec.renewTime),
      'the holder renews the Lease',
    );
    // A follower refuses rollout actions, naming the leader.
    const follower = replicas.find((r) => r !== leader)!;
    const refused = await follower.client.send(
      'POST',
      '/api/v1/experiments/propensity/rollout',
      { action: 'start' },
      admin,
    );
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.text, new RegExp(`${leader.name} leads the replicas`));
  });

  it('a weight change on a follower lands in the ConfigMap, every replica serves it, and split reads it', async function () {
    this.timeout(30_000);
    const leader = await oneLeader(5_000);
    const follower = replicas.find((r) => r !== leader)!;
    const put = await follower.client.send(
      'PUT',
      '/api/v1/experiments/propensity/weights',
      { weights: { v1: 70, v2: 30 } },
      admin,
    );
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(await configWeights(), { v1: 70, v2: 30 });
    // What `split` and `promote --plan as-is` read (src/kube/stackState.ts), comments kept.
    const live = liveRouterConfig((await configMap()) as never);
    assert.deepEqual(
      live!.experiments![0]!.variants.map((v) => [v.name, v.weight]),
      [
        ['v1', 70],
        ['v2', 30],
      ],
    );
    assert.match((await configMap()).data['router.yaml'] ?? '', /^# written by the test/);
    for (const r of replicas) {
      const deadline = Date.now() + 10_000;
      while ((await servedWeights(r)).v2 !== 30) {
        assert.ok(Date.now() < deadline, `${r.name} still serves ${JSON.stringify(await servedWeights(r))}`);
        await sleep(20);
      }
    }
    // `split` after a router wrote the ConfigMap (it owns router.yaml now): the CLI takes it back.
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigFor('leader-test'));
    await setRouterWeights(kc, 'leader-test', { namespace: NS, platform: 'remote' }, 'propensity', {
      v1: 40,
      v2: 60,
    });
    for (const r of replicas) {
      const deadline = Date.now() + 10_000;
      while ((await servedWeights(r)).v2 !== 60) {
        assert.ok(Date.now() < deadline, `${r.name} did not take the CLI's split`);
        await sleep(20);
      }
    }
    const put2 = await leader.client.send(
      'PUT',
      '/api/v1/experiments/propensity/weights',
      { weights: { v1: 70, v2: 30 } },
      admin,
    );
    assert.equal(put2.status, 200, put2.text);
    assert.deepEqual(await configWeights(), { v1: 70, v2: 30 });
    for (const r of replicas) {
      const deadline = Date.now() + 10_000;
      while ((await servedWeights(r)).v2 !== 30) {
        assert.ok(Date.now() < deadline, `${r.name} did not take the leader's change`);
        await sleep(20);
      }
    }
    // The replica that took the change logs it as an API change; the others as from Kubernetes.
    const last = (r: Replica) =>
      readEvents(join(r.dir, 'data'))
        .filter((e): e is WeightsEvent => e.type === 'weights')
        .at(-1)?.source;
    await sleep(300); // a group commit
    assert.equal(last(leader), 'api');
    for (const r of replicas.filter((x) => x !== leader)) assert.equal(last(r), 'kubernetes');
  });
  it('a SIGKILLed leader hands over within the lease: the rollout ends as an uninterrupted one, no step repeated or skipped', async function () {
    this.timeout(120_000);
    // Traffic to every live replica in turn (the report each leader gates on is its own: the
    // merged report is another change), so a leader's own share passes these small gates.
    let sending = true;
    let sent = 0;
    const traffic = (async () => {
      for (let i = 0; sending; i++) {
        const live = alive();
        const r = live[i % live.length]!;
        await r.client.infer('propensity', simpleRequest(20 + (i % 50))).then(
          () => sent++,
          () => undefined, // a killed replica refuses until the test stops sending to it
        );
        if (i % 4 === 3) await sleep(5);
      }
    })();
    const overrides = {
      steps: [10, 50, 100],
      minSamplesPerStep: 5,
      minStepSeconds: 2,
      promoteWhenEquivalent: true,
    };

    const run = async (killAtStep?: number) => {
      const leader = await oneLeader(10_000);
      const reset = await leader.client.send(
        'PUT',
        '/api/v1/experiments/propensity/weights',
        { weights: { v1: 100, v2: 0 } },
        admin,
      );
      assert.equal(reset.status, 200, reset.text);
      const startedAt = Date.now();
      const started = await leader.client.send(
        'POST',
        '/api/v1/experiments/propensity/rollout',
        { action: 'start', overrides },
        admin,
      );
      assert.equal(started.status, 200, started.text);
      let handover: { ms: number; from: string; to: string; transitions: number } | undefined;
      const deadline = Date.now() + 60_000;
      let status = await storedRollout();
      while (!status || !['Succeeded', 'RolledBack', 'Failed'].includes(status.state)) {
        assert.ok(Date.now() < deadline, `the rollout did not end: ${JSON.stringify(status)}`);
        if (killAtStep !== undefined && !handover && status?.stepIndex === killAtStep) {
          const before = await lease();
          const killed = await oneLeader(5_000);
          const at = Date.now();
          await killed.router.stop('SIGKILL');
          const next = await oneLeader(LEASE_SECONDS * 1000 * 3);
          handover = {
            ms: Date.now() - at,
            from: killed.name,
            to: next.name,
            transitions: (await lease()).leaseTransitions - before.leaseTransitions,
          };
        }
        await sleep(50);
        status = await storedRollout();
      }
      const live = alive();
      for (const r of live) {
        const until = Date.now() + 10_000;
        while (JSON.stringify(await servedWeights(r)) !== JSON.stringify(await configWeights())) {
          assert.ok(Date.now() < until, `${r.name} does not serve the ConfigMap's weights`);
          await sleep(20);
        }
      }
      // Each step's weights were applied once, by one leader: count them in every replica's log.
      const rolloutWeights = replicas.flatMap((r) =>
        readEvents(join(r.dir, 'data')).filter(
          (e): e is WeightsEvent => e.type === 'weights' && e.source === 'rollout' && e.ts >= startedAt,
        ),
      );
      return {
        state: status.state,
        steps: status.history.map((h) => [h.from, h.to, h.step, h.weight]),
        weights: await configWeights(),
        applied: rolloutWeights.map((e) => e.weights.v2).sort((a, b) => a! - b!),
        handover,
      };
    };

    const uninterrupted = await run();
    const interrupted = await run(1);
    sending = false;
    await traffic;
    console.log(
      `      (${sent} requests; ${interrupted.handover!.from} SIGKILLed at 50%, ${interrupted.handover!.to} led ${interrupted.handover!.ms} ms later, lease ${LEASE_SECONDS} s)`,
    );
    assert.equal(uninterrupted.state, 'Succeeded');
    assert.deepEqual(uninterrupted.weights, { v1: 0, v2: 100 });
    assert.deepEqual(
      uninterrupted.steps.map((s) => s[3]),
      [10, 50, 100],
    );
    assert.deepEqual(
      { state: interrupted.state, steps: interrupted.steps, weights: interrupted.weights },
      { state: uninterrupted.state, steps: uninterrupted.steps, weights: uninterrupted.weights },
      'the same final state and the same sequence of steps',
    );
    assert.deepEqual(interrupted.applied, [10, 50, 100], 'each step applied exactly once across the leaders');
    assert.equal(interrupted.handover!.transitions, 1, 'the Lease changed hands once');
    // Within the lease duration plus two follower polls (duration/10) of the last renewal.
    assert.ok(
      interrupted.handover!.ms <= LEASE_SECONDS * 1000 * 1.2 + 1_000,
      `handover took ${interrupted.handover!.ms} ms`,
    );
  });

  it('a frozen leader (a partition) stops leading on its own: after it wakes, one leader still', async function () {
    this.timeout(30_000);
    const frozen = await oneLeader(5_000);
    const others = alive().filter((r) => r !== frozen);
    frozen.router.proc.kill('SIGSTOP');
    try {
      const next = await oneLeader(LEASE_SECONDS * 1000 * 3, others);
      assert.notEqual(next.name, frozen.name);
    } finally {
      frozen.router.proc.kill('SIGCONT');
    }
    // Its renew deadline passed while it was frozen: it does not lead, even before its next poll.
    const view = await leaderView(frozen);
    assert.equal(view.leading, false, JSON.stringify(view));
    const leader = await oneLeader(LEASE_SECONDS * 1000);
    assert.notEqual(leader.name, frozen.name);
    assert.equal((await lease()).holderIdentity, leader.name);
  });

  it('on SIGTERM the leader releases the Lease and another replica leads at its next poll', async function () {
    this.timeout(30_000);
    const leader = await oneLeader(5_000);
    const at = Date.now();
    assert.equal(await leader.router.stop('SIGTERM'), 0);
    assert.match(leader.router.output(), /released the lead/);
    const next = await oneLeader(LEASE_SECONDS * 1000);
    const ms = Date.now() - at;
    console.log(`      (${next.name} led ${ms} ms after ${leader.name}'s SIGTERM, lease ${LEASE_SECONDS} s)`);
    assert.ok(
      ms < LEASE_SECONDS * 1000,
      `a released Lease is taken without waiting for it to expire (${ms} ms)`,
    );
  });
});
