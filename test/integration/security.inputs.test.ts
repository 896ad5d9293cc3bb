/**
 * Absurd values, label and id abuse, and a config emptied under the router (SECURITY.md): each
 * gets a clear 4xx (or is refused like an invalid config) and changes nothing — no event, no
 * metric series, no weight change. Real router process, fake V2 upstreams.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, readEvents, simpleRequest } from '../harness/routerClient';
import { auth, TOKEN, until } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';

describe('security: absurd inputs, label and id abuse, an emptied config (real router process)', function () {
  let upstream: Upstream;
  let dir: string;
  let config: string;
  let router: RunningRouter;
  let client: Client;
  const api = '/api/v1/experiments/shop';
  const experiment = (weights: [number, number]) => ({
    name: 'shop',
    endpoint: 'shop',
    variants: [
      { name: 'v1', url: upstream.url, model: 'm1', weight: weights[0], role: 'baseline' as const },
      { name: 'v2', url: upstream.url, model: 'm2', weight: weights[1] },
    ],
  });

  before(async () => {
    upstream = await startUpstream();
    dir = await routerDir();
    config = await writeRouterConfig(dir, {
      adminToken: TOKEN,
      eventLog: { fsyncIntervalMs: 20 },
      experiments: [experiment([90, 10])],
    });
    router = await startRouter(config);
    client = new Client(router.url, 4);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const events = async () => {
    await new Promise((r) => setTimeout(r, 150));
    return readEvents(join(dir, 'data'));
  };
  const errorOf = (res: { json: () => unknown }): string => (res.json() as { error: string }).error;
  const weights = async () =>
    ((await client.send('GET', `${api}/weights`)).json() as { weights: Record<string, number> }).weights;

  it('refuses weights that overflow, a time a Date cannot hold and a vanishing rollout step', async () => {
    const before = (await events()).length;
    const huge = await client.send('PUT', `${api}/weights`, { weights: { v1: 1e308, v2: 1e308 } }, auth);
    assert.equal(huge.status, 400);
    assert.match(errorOf(huge), /positive and finite/);
    assert.deepEqual(await weights(), { v1: 90, v2: 10 });
    for (const now of ['1e300', 'abc', '-5']) {
      const res = await client.send('GET', `${api}/report?now=${now}`);
      assert.equal(res.status, 400, `now=${now}`);
      assert.match(errorOf(res), /now must be a time in epoch milliseconds/);
    }
    const tiny = await client.send(
      'POST',
      `${api}/rollout`,
      { action: 'start', candidate: 'v2', overrides: { steps: [1e-300, 100] } },
      auth,
    );
    assert.equal(tiny.status, 400);
    assert.match(errorOf(tiny), /overrides\.steps must be a list of percentages from 0\.01 to 100/);
    assert.equal((await events()).length, before, 'nothing recorded');
    assert.equal(router.output().includes('Invalid time value'), false);
  });

  it('refuses a feedback metric the experiment does not name (no series, no report entry) and a proportion of 0.5', async () => {
    const res = await client.infer('shop', simpleRequest(50));
    const id = String(res.headers['x-request-id']);
    const before = (await events()).length;
    for (let i = 0; i < 20; i++) {
      const fb = await client.send('POST', `${api}/feedback`, { requestId: id, metric: `m${i}`, value: 1 });
      assert.equal(fb.status, 400);
      assert.match(errorOf(fb), /is not a metric of experiment shop — its metric is "conversion"/);
    }
    const half = await client.send('POST', `${api}/feedback`, {
      requestId: id,
      metric: 'conversion',
      value: 0.5,
    });
    assert.equal(half.status, 400);
    assert.match(errorOf(half), /conversion is a proportion — send 1 \(converted\) or 0/);
    // A batch with one bad item records none of it.
    const batch = await client.send('POST', `${api}/feedback`, [
      { requestId: id, metric: 'conversion', value: 1 },
      { requestId: id, metric: 'evil', value: 1 },
    ]);
    assert.equal(batch.status, 400);
    assert.equal((await events()).length, before, 'nothing recorded');
    const metrics = (await client.send('GET', '/metrics')).text;
    assert.equal(/metric="m\d+"/.test(metrics), false, 'no metric series for the refused names');
    const report = (await client.send('GET', `${api}/report`)).json() as {
      variants: { feedback: Record<string, unknown> }[];
    };
    for (const v of report.variants)
      assert.deepEqual(
        Object.keys(v.feedback).filter((k) => k !== 'conversion'),
        [],
      );
  });

  it('refuses a reused request id, with or without the forcing header, and keeps the first attribution', async () => {
    const first = await client.infer('shop', simpleRequest(50), {
      'x-request-id': 'victim-1',
      'x-model-canary-variant': 'v1',
    });
    assert.equal(first.status, 200);
    const before = (await events()).length;
    const calls = upstream.calls.length;
    const again = await client.infer('shop', simpleRequest(50), { 'x-request-id': 'victim-1' });
    assert.equal(again.status, 409);
    assert.match(errorOf(again), /the request id "victim-1" was already used \(experiment shop\)/);
    const moved = await client.infer('shop', simpleRequest(50), {
      'x-request-id': 'victim-1',
      'x-model-canary-variant': 'v2',
    });
    assert.equal(moved.status, 409);
    // Two at once with a new id: one is routed, the other refused.
    const pair = await Promise.all([
      client.infer('shop', simpleRequest(50), { 'x-request-id': 'twin' }),
      client.infer('shop', simpleRequest(50), { 'x-request-id': 'twin' }),
    ]);
    assert.deepEqual(pair.map((r) => r.status).sort(), [200, 409]);
    assert.equal(upstream.calls.length, calls + 1, 'only the first twin reached a variant');
    const fb = await client.send('POST', `${api}/feedback`, {
      requestId: 'victim-1',
      metric: 'conversion',
      value: 1,
    });
    assert.equal(fb.status, 202);
    const recorded = (await events()).slice(before);
    assert.deepEqual(
      recorded.map((e) => [e.type, 'id' in e ? e.id : undefined]),
      [
        ['request', 'twin'],
        ['feedback', 'victim-1'],
      ],
    );
    assert.equal((recorded[1] as { variant?: string }).variant, 'v1', 'the conversion stays with v1');
  });

  it('keeps the last good config when the file is emptied or half written, and takes the next good one', async () => {
    const good = await readFile(config, 'utf8');
    const statuses: number[] = [];
    let stop = false;
    const traffic = (async () => {
      while (!stop) statuses.push((await client.infer('shop', simpleRequest(30))).status);
    })();
    // An editor's truncate-then-write: empty for a while, then a partial file, then the new one.
    await writeFile(config, '');
    await until('the empty file refused', async () =>
      router.output().includes('the config is empty') ? true : undefined,
    );
    await writeFile(config, 'listen: 127.0.0.1:0\ndataDir: data\n');
    await until('the partial file refused', async () =>
      router.output().includes('experiments is missing') ? true : undefined,
    );
    await writeFile(config, stringify({ ...(parse(good) as object), experiments: [experiment([50, 50])] }));
    await until('the new weights', async () => ((await weights()).v1 === 50 ? true : undefined));
    stop = true;
    await traffic;
    assert.ok(statuses.length > 10, `${statuses.length} requests during the rewrite`);
    assert.deepEqual([...new Set(statuses)], [200], 'no request got 404 while the file was empty');
    assert.match(router.output(), /config reload failed/);
  });

  it('refuses a config whose names are not DNS-1123 labels or whose weights overflow, naming file and line', async () => {
    const bad = await routerDir();
    try {
      const file = await writeRouterConfig(bad, {
        experiments: [{ ...experiment([1e308, 1e308]), name: '<b>shop</b>' }],
      });
      await assert.rejects(startRouter(file, { timeoutMs: 10_000 }), (err: Error) => {
        assert.match(err.message, /router\.yaml:\d+:\d+: experiments\[0\]\.name: must be lowercase letters/);
        assert.match(err.message, /weights must add up to something positive and finite/);
        return true;
      });
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
