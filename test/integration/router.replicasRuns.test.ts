import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RunEvent } from '../../src/shared/events';
import type { Report, RunInfo } from '../../src/shared/report';
import { startReplicaSet, type Replica, type ReplicaSet } from '../harness/routerReplicas';
import { readEvents, simpleRequest } from '../harness/routerClient';

// Three real router processes with their config from one ConfigMap and one Lease on a real
// kube-apiserver + etcd (test/harness/routerReplicas.ts), peers from EndpointSlices: a run (a
// deploy's POST …/runs) reaches ONE replica, goes through the ConfigMap's runs.json, and every
// replica records it and tags its requests with it, so the merged report of the run counts them all.
const TOKEN = 'runs-test-admin-token-0123456789ab';
const admin = { authorization: `Bearer ${TOKEN}` };
const EXP = '/api/v1/experiments/propensity';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('router replicas: a run posted to one replica is every replica’s run, through the ConfigMap (real kube-apiserver)', function () {
  let set: ReplicaSet;
  let replicas: Replica[];

  before(async function () {
    this.timeout(180_000);
    set = await startReplicaSet({ count: 3, leaseSeconds: 3, adminToken: TOKEN, peers: true });
    replicas = set.replicas;
  });

  after(async () => {
    await set?.stop();
  });

  const startRun = async (r: Replica): Promise<string> => {
    const a = await r.client.send('POST', `${EXP}/runs`, { reason: 'deploy' }, admin);
    assert.equal(a.status, 201, a.text);
    return (a.json() as { run: RunInfo }).run.id;
  };
  const runsOf = async (r: Replica) =>
    (await r.client.send('GET', `${EXP}/runs`)).json() as { current: string | null; runs: RunInfo[] };
  /** Waits until every live replica is in `run`; the ms it took. */
  const everyReplicaIn = async (run: string, from: number): Promise<number> => {
    for (const deadline = Date.now() + 10_000; ; await sleep(10)) {
      const views = await Promise.all(set.alive().map(runsOf));
      if (views.every((v) => v.current === run)) return Date.now() - from;
      assert.ok(Date.now() < deadline, `not every replica is in run ${run}: ${JSON.stringify(views)}`);
    }
  };
  const traffic = async (perReplica: number) => {
    for (let i = 0; i < perReplica; i++)
      for (const r of replicas) {
        const a = await r.client.infer('propensity', simpleRequest(20 + i));
        assert.equal(a.status, 200, a.text);
      }
  };
  const total = (r: Report) => r.variants.reduce((n, v) => n + v.requests, 0);
  /** The merged report (from a follower: it asks the leader) once it counts `expected`, and still a second later. */
  const mergedReport = async (r: Replica, expected: number, run: string): Promise<Report> => {
    let report: Report | undefined;
    for (const deadline = Date.now() + 30_000; ; await sleep(50)) {
      const a = await r.client.send('GET', `${EXP}/report`);
      if (a.status === 200) report = a.json() as Report;
      if (report && report.run?.id === run && total(report) >= expected) break;
      assert.ok(Date.now() < deadline, `the merged report of ${run}: ${report && total(report)} requests`);
    }
    await sleep(1_500); // past the merge's 1 s hold: nothing more comes in
    report = (await r.client.send('GET', `${EXP}/report`)).json() as Report;
    assert.equal(report.run?.id, run);
    assert.equal(total(report), expected, 'exactly the requests of the run');
    return report;
  };
  /** Each replica's own count of a run (`local=1`: its own log, not the merged report). */
  const ownCounts = async (run: string) =>
    Promise.all(
      replicas.map(async (r) => {
        const a = await r.client.send('GET', `${EXP}/report?local=1&run=${run}`);
        assert.equal(a.status, 200, a.text);
        return total(a.json() as Report);
      }),
    );
  const runLines = (r: Replica, run: string) =>
    readEvents(join(r.dir, 'data')).filter((e): e is RunEvent => e.type === 'run' && e.run === run);

  it("counts every replica's requests after a deploy to one of them, and leaves the run before as it was", async function () {
    this.timeout(120_000);
    const leader = await set.oneLeader(10_000);
    const followers = replicas.filter((r) => r !== leader);
    const put = await leader.client.send('PUT', `${EXP}/weights`, { weights: { v1: 50, v2: 50 } }, admin);
    assert.equal(put.status, 200, put.text);

    let at = Date.now();
    const first = await startRun(followers[0]!);
    const adopted1 = await everyReplicaIn(first, at);
    await traffic(30);
    await mergedReport(followers[1]!, 90, first);
    const before = await ownCounts(first);
    assert.deepEqual(before, [30, 30, 30]);

    at = Date.now();
    const second = await startRun(followers[1]!);
    const stored = JSON.parse((await set.configMap()).data['runs.json'] ?? '{}') as Record<string, RunInfo>;
    assert.equal(stored.propensity?.id, second, 'the ConfigMap holds the new run');
    const adopted2 = await everyReplicaIn(second, at);
    console.log(`      (every replica in the new run ${adopted1} ms and ${adopted2} ms after the POST)`);

    // Every replica lists each run once, the same run (id, start, reason) everywhere.
    const lists = await Promise.all(replicas.map(runsOf));
    for (const list of lists) {
      assert.deepEqual(list, lists[0]);
      assert.deepEqual(
        list.runs.map((r) => r.id),
        [first, second],
      );
    }
    assert.equal(lists[0]!.runs[1]!.startedAt, stored.propensity!.startedAt);
    assert.equal(lists[0]!.runs[1]!.reason, 'deploy');
    await sleep(300); // a group commit
    for (const r of replicas) assert.equal(runLines(r, second).length, 1, `${r.name} logged the run once`);

    await traffic(20);
    const report = await mergedReport(followers[0]!, 60, second);
    assert.deepEqual(
      report.variants.map((v) => v.weight),
      [50, 50],
      "the run's weights",
    );
    assert.deepEqual(
      report.replicas?.map((r) => [r.name, r.reachable]),
      replicas.map((r) => [r.name, true]),
    );
    assert.deepEqual(await ownCounts(second), [20, 20, 20]);
    assert.deepEqual(await ownCounts(first), before, 'the run before is unchanged');

    // The run before, asked of a follower (it asks the leader): every replica's requests, not the leader's alone.
    const earlier = await followers[1]!.client.send('GET', `${EXP}/report?run=${first}`);
    assert.equal(earlier.status, 200, earlier.text);
    const merged = earlier.json() as Report;
    assert.equal(merged.run?.id, first);
    assert.equal(total(merged), 90, 'the earlier run merged over the three logs');
    const own = await Promise.all(
      replicas.map(
        async (r) => (await r.client.send('GET', `${EXP}/report?local=1&run=${first}`)).json() as Report,
      ),
    );
    assert.deepEqual(
      merged.variants.map((v) => [v.name, v.requests]),
      merged.variants.map((v) => [
        v.name,
        own.reduce((n, r) => n + (r.variants.find((x) => x.name === v.name)?.requests ?? 0), 0),
      ]),
      "per variant, the sum of the replicas' own counts",
    );
    assert.deepEqual(
      merged.replicas?.map((r) => [r.name, r.reachable]),
      replicas.map((r) => [r.name, true]),
    );
  });

  it('a replica that was down during a deploy joins the new run when it comes back', async function () {
    this.timeout(120_000);
    const leader = await set.oneLeader(10_000);
    const [down, receiver] = replicas.filter((r) => r !== leader) as [Replica, Replica];
    assert.equal(await down.router.stop('SIGTERM'), 0);
    const previous = (await runsOf(receiver)).current!;
    const run = await startRun(receiver);
    await everyReplicaIn(run, Date.now());
    assert.equal(runLines(down, run).length, 0, 'it was down');

    await set.restart(down);
    // Joined before it serves: its first request already counts in the new run.
    const view = await runsOf(down);
    assert.equal(view.current, run);
    assert.equal(view.runs.at(-2)?.id, previous);
    assert.match(down.router.output(), new RegExp(`run ${run} \\(deploy\\) from the ConfigMap`));

    await traffic(10);
    await mergedReport(leader, 30, run);
    assert.deepEqual(await ownCounts(run), [10, 10, 10]);
  });
});
