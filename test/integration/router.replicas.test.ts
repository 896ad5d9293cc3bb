/**
 * #18 item 1 on real router processes: three replicas on loopback (static peers, r0 leads) share
 * one traffic stream, and a fourth router, alone, gets the same stream. The merged report any
 * replica serves must equal the lone router's; feedback posted to a replica other than the one
 * that served the request is recorded once, in the serving replica's log; a replica killed and
 * restarted is reported missing, then caught up.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExperimentEvent, FeedbackEvent, RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, readEvents, simpleRequest } from '../harness/routerClient';
import { TOKEN, until } from '../harness/routerSuites';
import { startReplicas, type ReplicaSet } from '../harness/replicas';
import { startUpstream, type Upstream } from '../harness/upstream';

const N = 1800;
const USERS = 1499; // prime: a user's requests land on different replicas
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seeded uniform in [0, 1) per (i, salt): the same outcomes in every run. */
function uniform(i: number, salt: number): number {
  let x = Math.imul(i + 0x9e3779b9 * salt, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x, 0x27d4eb2f);
  x ^= x >>> 15;
  return (x >>> 0) / 2 ** 32;
}

/** Waits until the clock shows a later millisecond: every event of the stream gets its own timestamp. */
async function nextMillisecond(): Promise<void> {
  const at = Date.now();
  while (Date.now() === at) await sleep(0.2);
}

describe('router replicas: one merged report (three real router processes and one alone, fake V2 upstreams)', function () {
  this.timeout(180_000);
  let baseline: Upstream;
  let canary: Upstream;
  let set: ReplicaSet;
  let lone: RunningRouter;
  let clients: Client[];
  let loneClient: Client;
  const served: { replica: number; id: string; loneId: string; variant: string }[] = [];
  let feedbackPosts = 0;

  before(async () => {
    [baseline, canary] = await Promise.all([startUpstream(), startUpstream({ latencyMs: 2 })]);
    const config = {
      adminToken: TOKEN,
      eventLog: { fsyncIntervalMs: 20 },
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          sticky: { header: 'x-user-id' },
          variants: [
            { name: 'v1', url: baseline.url, model: 'propensity-v1', weight: 75 },
            { name: 'v2', url: canary.url, model: 'propensity-v2', weight: 25 },
          ],
        },
      ],
    };
    set = await startReplicas(3, config);
    const dir = await routerDir();
    lone = await startRouter(await writeRouterConfig(dir, config));
    clients = set.replicas.map((r) => new Client(r.url, 4));
    loneClient = new Client(lone.url, 4);
  });

  after(async () => {
    await Promise.all([...(clients ?? []), loneClient].map((c) => c?.close()));
    await set?.stop();
    await lone?.stop();
    await Promise.all([baseline, canary].map((u) => u?.close()));
    await Promise.all(
      [...(set?.replicas ?? []).map((r) => r.dir), lone?.dir].map(
        (d) => d && rm(d, { recursive: true, force: true }),
      ),
    );
  });

  async function feedback(to: Client, requestId: string, value: number): Promise<void> {
    const a = await to.send('POST', '/api/v1/experiments/propensity/feedback', {
      requestId,
      metric: 'conversion',
      value,
    });
    assert.equal(a.status, 202, a.text);
    assert.deepEqual(a.json(), { accepted: 1 });
    await nextMillisecond();
  }

  /** Feedback for request k: to a replica that did not serve it (every tenth first a 0, later overwritten). */
  async function sendFeedback(k: number): Promise<void> {
    const s = served[k]!;
    const rate = s.variant === 'v1' ? 0.3 : 0.42;
    const value = uniform(k, 7) < rate ? 1 : 0;
    if (k % 10 === 0) {
      await feedback(clients[(s.replica + 2) % 3]!, s.id, 0);
      await feedback(loneClient, s.loneId, 0);
      feedbackPosts++;
    }
    await feedback(clients[(s.replica + 1) % 3]!, s.id, value);
    await feedback(loneClient, s.loneId, value);
    feedbackPosts++;
  }

  async function mergedReport(from: Client): Promise<Report> {
    const a = await from.send('GET', '/api/v1/experiments/propensity/report');
    assert.equal(a.status, 200, a.text);
    return a.json() as Report;
  }

  it('serves the same report from every replica as one router fed the whole stream (counts, rates and p-values equal; latency within DDSketch accuracy)', async () => {
    for (let i = 0; i < N; i++) {
      const replica = i % 3;
      const user = `user-${i % USERS}`;
      const a = await clients[replica]!.infer('propensity', simpleRequest(30 + (i % 30)), {
        'x-user-id': user,
      });
      assert.equal(a.status, 200, a.text);
      await nextMillisecond();
      const b = await loneClient.infer('propensity', simpleRequest(30 + (i % 30)), { 'x-user-id': user });
      assert.equal(b.status, 200, b.text);
      await nextMillisecond();
      const id = String(a.headers['x-request-id']);
      assert.match(
        id,
        new RegExp(`^r${replica}~[0-9a-f-]{36}$`),
        'a generated id names the replica that served it',
      );
      assert.equal(
        a.headers['x-model-canary-variant'],
        b.headers['x-model-canary-variant'],
        'sticky users: the same variant',
      );
      served.push({
        replica,
        id,
        loneId: String(b.headers['x-request-id']),
        variant: String(a.headers['x-model-canary-variant']),
      });
      if (i >= 3) await sendFeedback(i - 3);
    }
    for (let k = N - 3; k < N; k++) await sendFeedback(k);

    const alone = (await (
      await loneClient.send('GET', '/api/v1/experiments/propensity/report')
    ).json()) as Report;
    const want = alone.variants.reduce((n, v) => n + v.requests, 0);
    assert.equal(want, N);
    // Every replica answers the leader's merged report once it has caught up.
    const merged = await until(
      'the merged report to hold the whole stream',
      async () => {
        const r = await mergedReport(clients[1]!);
        const fed = r.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);
        const wantFed = alone.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);
        return r.variants.reduce((n, v) => n + v.requests, 0) === N && fed === wantFed ? r : undefined;
      },
      15_000,
    );
    const fromFollower2 = await mergedReport(clients[2]!);
    const fromLeader = await mergedReport(clients[0]!);
    console.log(
      `      ${N} requests over 3 replicas: merged ${merged.variants.map((v) => `${v.name} ${v.requests} req/${v.users} users, rate ${v.feedback.conversion?.rate.toFixed(4)}`).join('; ')}; sequential p ${merged.comparisons[0]?.sequentialPValue.toPrecision(4)} (alone ${alone.comparisons[0]?.sequentialPValue.toPrecision(4)})`,
    );
    for (const r of [merged, fromFollower2, fromLeader]) {
      assert.deepEqual(
        r.replicas?.map((x) => [x.name, x.reachable]),
        [
          ['r0', true],
          ['r1', true],
          ['r2', true],
        ],
      );
      for (const v of alone.variants) {
        const m = r.variants.find((x) => x.name === v.name)!;
        assert.equal(m.requests, v.requests, `${v.name} requests`);
        assert.equal(m.errors, v.errors);
        assert.equal(m.users, v.users, `${v.name} users`);
        assert.deepEqual(m.feedback, v.feedback, `${v.name} feedback`);
      }
      assert.equal(r.srm.total, alone.srm.total);
      assert.ok(
        Math.abs(r.srm.pValue - alone.srm.pValue) < 1e-12,
        `SRM p ${r.srm.pValue} vs ${alone.srm.pValue}`,
      );
      const [mc, ac] = [r.comparisons[0]!, alone.comparisons[0]!];
      for (const key of [
        'baselineRate',
        'variantRate',
        'pValue',
        'sequentialPValue',
        'chanceToBeatBaseline',
      ] as const)
        assert.ok(Math.abs(mc[key] - ac[key]) < 1e-9, `${key}: merged ${mc[key]} vs alone ${ac[key]}`);
      assert.deepEqual(mc.decision, ac.decision);
    }
    // Latency: the replicas measured their own requests, so compare with the exact quantiles of their logs.
    const logged = set.replicas.flatMap((r) => readEvents(join(r.dir, 'data')));
    for (const v of merged.variants) {
      const lat = logged
        .filter((e): e is RequestEvent => e.type === 'request' && e.variant === v.name && !e.shadow)
        .map((e) => e.latencyMs)
        .sort((a, b) => a - b);
      for (const [q, key] of [
        [0.5, 'p50'],
        [0.95, 'p95'],
        [0.99, 'p99'],
      ] as const) {
        const exact = lat[Math.max(0, Math.ceil(q * lat.length) - 1)]!;
        const got = v.latencyMs[key];
        // DDSketch: within 1% of a value of rank q; ranks of equal values make the exact one a range.
        const lo = lat[Math.max(0, Math.floor(q * (lat.length - 1)) - 1)]!;
        const hi = lat[Math.min(lat.length - 1, Math.ceil(q * (lat.length - 1)) + 1)]!;
        assert.ok(
          got >= lo * 0.99 - 1e-9 && got <= hi * 1.01 + 1e-9,
          `${v.name} ${key}: ${got} vs exact ${exact}`,
        );
      }
    }
  });

  it('records feedback posted to another replica once, in the log of the replica that served the request', async () => {
    const logs = set.replicas.map((r) => readEvents(join(r.dir, 'data')));
    const feedbackEvents = logs.flat().filter((e): e is FeedbackEvent => e.type === 'feedback');
    assert.equal(feedbackEvents.length, feedbackPosts, 'every post recorded once across the three logs');
    logs.forEach((events, i) => {
      for (const e of events.filter((x): x is FeedbackEvent => x.type === 'feedback'))
        assert.ok(e.id.startsWith(`r${i}~`), `feedback for ${e.id} is in r${i}'s log`);
    });
    // A client's own id names no replica: the replica that routed it is asked, once.
    const own = `client-own-${Date.now()}`;
    const a = await clients[2]!.infer('propensity', simpleRequest(50), {
      'x-user-id': 'own-user',
      'x-request-id': own,
    });
    assert.equal(a.status, 200);
    await feedback(clients[0]!, own, 1);
    const inR2 = (e: ExperimentEvent) => e.type === 'feedback' && e.id === own;
    await until("the feedback in r2's log", async () =>
      readEvents(join(set.replicas[2]!.dir, 'data')).some(inR2) ? true : undefined,
    );
    assert.equal(
      [0, 1].flatMap((i) => readEvents(join(set.replicas[i]!.dir, 'data'))).filter(inR2).length,
      0,
    );
    const unknown = await clients[1]!.send('POST', '/api/v1/experiments/propensity/feedback', {
      requestId: 'nobody-routed-this',
      metric: 'conversion',
      value: 1,
    });
    assert.equal(unknown.status, 404, unknown.text);
    assert.match(unknown.text, /nobody-routed-this/);
  });

  it('reports a killed replica as unreachable, then catches up with its log when it returns', async () => {
    const r2 = set.replicas[2]!;
    for (let i = 0; i < 60; i++)
      assert.equal(
        (await clients[2]!.infer('propensity', simpleRequest(41), { 'x-user-id': `late-${i}` })).status,
        200,
      );
    await r2.router.stop('SIGKILL');
    const total = set.replicas
      .flatMap((r) => readEvents(join(r.dir, 'data')))
      .filter((e) => e.type === 'request' && !e.shadow).length;
    const missing = await until(
      'r2 reported unreachable',
      async () => {
        const r = await mergedReport(clients[1]!);
        return r.replicas?.find((x) => x.name === 'r2')?.reachable === false ? r : undefined;
      },
      10_000,
    );
    assert.match(missing.replicas!.find((x) => x.name === 'r2')!.error ?? '', /.+/);
    await set.start(2);
    clients[2] = new Client(r2.url, 4);
    const back = await until(
      'r2 caught up',
      async () => {
        const r = await mergedReport(clients[0]!);
        const s = r.replicas?.find((x) => x.name === 'r2');
        return s?.reachable && r.variants.reduce((n, v) => n + v.requests, 0) === total ? r : undefined;
      },
      15_000,
    );
    assert.ok(back.replicas!.every((x) => x.reachable));
  });

  it('answers 503 on a follower while the leader does not answer; local=1 gives its own log', async () => {
    await set.replicas[0]!.router.stop('SIGKILL');
    const a = await clients[1]!.send('GET', '/api/v1/experiments/propensity/report');
    assert.equal(a.status, 503, a.text);
    assert.match(a.text, /leader r0 did not answer/);
    const own = await clients[1]!.send('GET', '/api/v1/experiments/propensity/report?local=1');
    assert.equal(own.status, 200);
    const r1Requests = readEvents(join(set.replicas[1]!.dir, 'data')).filter(
      (e) => e.type === 'request',
    ).length;
    assert.equal(
      (own.json() as Report).variants.reduce((n, v) => n + v.requests, 0),
      r1Requests,
    );
    assert.equal((own.json() as Report).replicas, undefined);
  });
});
