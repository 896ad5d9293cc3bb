/**
 * Fuzz of the endpoints that change an experiment (SECURITY.md): feedback, labels, weights,
 * rollout and runs get seeded mutations of valid bodies — with the right tokens, so the checks
 * behind authentication are reached. No answer is a 5xx, the router keeps serving, and what was
 * recorded is only what the domains allow: every logged line passes the event schema, feedback
 * is the experiment's metric with 0 or 1, and the weights stay finite. Real router process.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scanLog } from '../../src/core/log/scan';
import { seededRandom } from '../../src/core/stats/random';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { auth, TOKEN } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';

const INGEST = 'fuzz-ingest-token-0123456789';

describe('security: fuzzing the feedback, labels and admin endpoints (real router process)', function () {
  let up: Upstream;
  let dir: string;
  let router: RunningRouter;

  before(async () => {
    up = await startUpstream();
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        ingestToken: INGEST,
        eventLog: { fsyncIntervalMs: 20 },
        experiments: [
          {
            name: 'fuzz',
            endpoint: 'fuzz',
            variants: [
              { name: 'a', url: up.url, model: 'm', weight: 1, role: 'baseline' },
              { name: 'b', url: up.url, model: 'm2', weight: 1 },
            ],
          },
        ],
      }),
    );
  });

  after(async () => {
    await router?.stop();
    await up?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 3,000 mutated posts without a 5xx and records only values inside the domains', async () => {
    const rand = seededRandom(0xf022);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const JUNK: readonly unknown[] = [
      null,
      true,
      -1,
      0,
      1,
      0.5,
      1e308,
      -1e308,
      1e-300,
      'x',
      '',
      '<b>',
      [],
      {},
    ];
    const client = new Client(router.url, 16);
    const ids: string[] = [];
    await inParallel(100, 16, async () => {
      const res = await client.infer('fuzz', simpleRequest());
      ids.push(String(res.headers['x-request-id']));
    });
    /** A valid body of each endpoint with one field replaced, removed or kept. */
    const mutate = (body: Record<string, unknown>): unknown => {
      const copy = structuredClone(body);
      const r = rand();
      const keys = Object.keys(copy);
      if (r < 0.15) return copy;
      if (r < 0.3) delete copy[pick(keys)];
      else if (r < 0.85) copy[pick(keys)] = pick(JUNK);
      else return pick(JUNK);
      return copy;
    };
    const ingest = { 'x-model-canary-ingest-token': INGEST };
    const statuses = new Map<string, number>();
    await inParallel(3_000, 24, async (i) => {
      const kind = i % 5;
      let res;
      if (kind === 0)
        res = await client.send(
          'POST',
          '/api/v1/experiments/fuzz/feedback',
          mutate({ requestId: pick(ids), metric: 'conversion', value: pick([0, 1]) }),
          ingest,
        );
      else if (kind === 1)
        res = await client.send(
          'POST',
          '/api/v1/experiments/fuzz/labels',
          mutate({ requestId: pick(ids), label: pick([0, 1, 'cat']) }),
          ingest,
        );
      else if (kind === 2)
        res = await client.send(
          'PUT',
          '/api/v1/experiments/fuzz/weights',
          { weights: mutate({ a: 50, b: 50 }) },
          auth,
        );
      else if (kind === 3)
        res = await client.send(
          'POST',
          '/api/v1/experiments/fuzz/rollout',
          mutate({
            action: pick(['start', 'pause', 'abort']),
            candidate: 'b',
            overrides: { steps: [pick(JUNK)] },
          }),
          auth,
        );
      else res = await client.send('POST', '/api/v1/experiments/fuzz/runs', mutate({ reason: 'fuzz' }), auth);
      const key = `${kind}:${res.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      assert.ok(res.status < 500, `request ${i} (kind ${kind}) got ${res.status}: ${res.text}`);
    });
    console.log(
      `      answers by endpoint:status ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );

    // Still serving, and the report builds.
    assert.equal((await client.infer('fuzz', simpleRequest())).status, 200);
    const report = await client.send('GET', '/api/v1/experiments/fuzz/report');
    assert.equal(report.status, 200, report.text);
    const weights = (
      (await client.send('GET', '/api/v1/experiments/fuzz/weights')).json() as {
        weights: Record<string, number>;
      }
    ).weights;
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    assert.ok(Number.isFinite(total) && total > 0, `weights ${JSON.stringify(weights)}`);
    await client.close();

    // What was recorded is inside the domains.
    await new Promise((r) => setTimeout(r, 200));
    const data = join(dir, 'data');
    const [segment] = await scanLog(data);
    assert.deepEqual(segment!.bad, [], 'every logged line passes the event schema');
    for (const e of readEvents(data)) {
      if (e.type === 'feedback') {
        assert.equal(e.metric, 'conversion');
        assert.ok(e.value === 0 || e.value === 1, `feedback value ${e.value}`);
      }
      if (e.type === 'weights')
        for (const w of Object.values(e.weights)) assert.ok(Number.isFinite(w) && w >= 0);
    }
  });
});
