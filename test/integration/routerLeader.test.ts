import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { liveRouterConfig, setRouterWeights } from '../../src/kube/stackState';
import type { WeightsEvent } from '../../src/shared/events';
import { REPLICA_NS as NS, startReplicaSet, type Replica, type ReplicaSet } from '../harness/routerReplicas';
import { readEvents, simpleRequest } from '../harness/routerClient';

// Three real router processes with their config from one ConfigMap and one Lease on a real
// kube-apiserver + etcd (test/harness/routerReplicas.ts): one leader, weights through the
// ConfigMap, and a rollout that survives the SIGKILL of its leader.
const LEASE_SECONDS = 3;
const TOKEN = 'leader-test-admin-token-0123456789';
const admin = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('router replicas: one rollout leader on a Lease, the ConfigMap as the truth of weights (real kube-apiserver)', function () {
  let set: ReplicaSet;
  let replicas: Replica[];
  // Bound late: `set` exists once `before` ran.
  const api = () => set.api;
  const configMap = () => set.configMap();
  const lease = () => set.lease();
  const configWeights = () => set.configWeights();
  const storedRollout = () => set.storedRollout();
  const alive = () => set.alive();
  const leaderView = (r: Replica) => set.leaderView(r);
  const servedWeights = (r: Replica) => set.servedWeights(r);
  const oneLeader = (timeoutMs: number, among?: Replica[]) => set.oneLeader(timeoutMs, among);

  before(async function () {
    this.timeout(180_000);
    set = await startReplicaSet({ count: 3, leaseSeconds: LEASE_SECONDS, adminToken: TOKEN, peers: true });
    replicas = set.replicas;
  });

  after(async () => {
    await set?.stop();
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
    // A follower hands a rollout action to the leader (its peers come from EndpointSlices) and
    // relays the leader's answer: here the leader's 409, as there is no rollout to pause yet.
    const follower = replicas.find((r) => r !== leader)!;
    for (const until = Date.now() + 10_000; ;) {
      const answer = await follower.client.send(
        'POST',
        '/api/v1/experiments/propensity/rollout',
        { action: 'pause' },
        admin,
      );
      if (answer.status !== 503) {
        assert.equal(answer.status, 409, answer.text);
        assert.match(answer.text, /no rollout of propensity — start one first/);
        assert.equal(answer.headers['x-model-canary-replica'], leader.name, 'the leader answered');
        break;
      }
      // Until the follower knows its peers it answers 503 naming the leader.
      assert.match(answer.text, new RegExp(`${leader.name} leads the replicas`));
      assert.ok(Date.now() < until, answer.text);
      await sleep(100);
    }
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
    kc.loadFromString(api().kubeconfigFor('leader-test'));
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
      const since = Date.now();
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
      // The candidate's weights each replica served, in order (the watch and the leader's own
      // change may both record the same weights: consecutive repeats are one change).
      const weightsOf = (r: Replica) =>
        readEvents(join(r.dir, 'data')).filter(
          (e): e is WeightsEvent => e.type === 'weights' && e.ts >= since,
        );
      const served = live.map((r) =>
        weightsOf(r)
          .map((e) => e.weights.v2)
          .filter((w, i, all) => i === 0 || w !== all[i - 1]),
      );
      // The steps a leader applied as its own (a SIGKILL may take the last one's line with it:
      // the ConfigMap, written first, is the commit).
      const applied = replicas.flatMap((r) =>
        weightsOf(r)
          .filter((e) => e.source === 'rollout' && e.ts >= startedAt)
          .map((e) => e.weights.v2),
      );
      return {
        state: status.state,
        steps: status.history.map((h) => [h.from, h.to, h.step, h.weight]),
        weights: await configWeights(),
        served,
        applied,
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
    for (const served of [...uninterrupted.served, ...interrupted.served])
      assert.deepEqual(served, [0, 10, 50, 100], 'every replica served every step once, in order');
    assert.equal(new Set(interrupted.applied).size, interrupted.applied.length, 'no step applied twice');
    assert.ok(interrupted.applied.includes(100), 'the new leader applied the last step');
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
