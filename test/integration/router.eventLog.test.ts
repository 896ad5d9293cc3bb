import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../../src/shared/report';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, readEvents, simpleRequest } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';

describe('router: durable event log (real router process, SIGKILL)', function () {
  let a: Upstream;
  let b: Upstream;
  let dir: string;
  let configFile: string;
  const routers: RunningRouter[] = [];

  before(async () => {
    [a, b] = await Promise.all([startUpstream(), startUpstream()]);
    dir = await routerDir();
    configFile = await writeRouterConfig(dir, {
      // Small segments and a small in-memory id map, so rotation and the on-disk lookup both happen.
      eventLog: { segmentBytes: 256 * 1024, idCacheSize: 500, fsyncIntervalMs: 100 },
      experiments: [
        {
          name: 'durable',
          endpoint: 'durable',
          variants: [
            { name: 'a', url: a.url, model: 'model-a', weight: 50 },
            { name: 'b', url: b.url, model: 'model-b', weight: 50 },
          ],
        },
      ],
    });
  });

  after(async () => {
    for (const r of routers) await r.stop('SIGKILL');
    await Promise.all([a, b].map((u) => u?.close()));
    if (dir && !process.env.KEEP) await rm(dir, { recursive: true, force: true });
  });

  const reportOf = async (r: RunningRouter): Promise<Report> => {
    const c = new Client(r.url, 1);
    try {
      return (await c.send('GET', '/api/v1/experiments/durable/report?now=1800000000000')).json() as Report;
    } finally {
      await c.close();
    }
  };

  it('keeps every acknowledged feedback through SIGKILL under load, and rebuilds identical aggregates', async () => {
    const first = await startRouter(configFile);
    routers.push(first);
    const client = new Client(first.url, 32);
    const acked: string[] = [];
    const answered: string[] = [];
    const firstIds: string[] = [];
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await client.infer('durable', simpleRequest(20 + (i % 50)));
          const id = String(res.headers['x-request-id']);
          if (res.status === 200) answered.push(id);
          if (firstIds.length < 50) firstIds.push(id);
          if (i % 2 === 0) {
            const fb = await client.send('POST', '/api/v1/experiments/durable/feedback', {
              requestId: id,
              metric: 'conversion',
              value: (i + w) % 3 === 0 ? 1 : 0,
            });
            if (fb.status === 202) acked.push(id);
          }
        } catch {
          return; // the router is gone
        }
      }
    };
    const workers = Array.from({ length: 24 }, (_, w) => worker(w));
    // Under load until enough is acknowledged (a busy machine takes longer than an idle one).
    const segmentCount = () => readdirSync(join(dir, 'data')).filter((f) => f.endsWith('.jsonl')).length;
    for (
      const until = Date.now() + 30_000;
      Date.now() < until && (acked.length <= 600 || segmentCount() <= 3);
    )
      await new Promise((r) => setTimeout(r, 250));
    await first.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await client.close().catch(() => undefined);
    assert.ok(acked.length > 500, `only ${acked.length} feedback acknowledged before the kill`);

    // A write torn by the crash: the recovery must cut it off.
    const dataDir = join(dir, 'data');
    const segments = readdirSync(dataDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    assert.ok(segments.length > 2, `the log rotated (${segments.length} segments)`);
    const lastSegment = join(dataDir, segments.at(-1)!);
    await writeFile(
      lastSegment,
      (await readFile(lastSegment, 'utf8')) + '{"type":"feedback","id":"torn',
      'utf8',
    );

    const second = await startRouter(configFile);
    routers.push(second);
    assert.match(second.output(), /replayed \d+ events/);
    assert.match(second.output(), /torn last line/);
    assert.ok(!(await readFile(lastSegment, 'utf8')).includes('"torn'), 'the torn line was cut off');

    const events = readEvents(dataDir);
    const feedbackIds = new Set(events.filter((e) => e.type === 'feedback').map((e) => e.id));
    const missing = acked.filter((id) => !feedbackIds.has(id));
    assert.deepEqual(missing, [], 'every feedback that got 202 is in the log');
    // Request events are written before the answer (fsynced within the group-commit window).
    const requestIds = new Set(events.filter((e) => e.type === 'request').map((e) => e.id));
    const lost = answered.filter((id) => !requestIds.has(id));
    console.log(
      `      SIGKILL: ${lost.length} of ${answered.length} answered requests missing from the log (worst case of the group-commit window)`,
    );
    assert.equal(lost.length, 0, 'every answered request is in the log');

    // The rebuilt aggregates equal what the log says…
    const r1 = await reportOf(second);
    for (const variant of ['a', 'b']) {
      const requests = events.filter(
        (e) => e.type === 'request' && !e.shadow && e.variant === variant,
      ).length;
      assert.equal(r1.variants.find((v) => v.name === variant)!.requests, requests);
    }
    const totalFeedback = r1.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);
    assert.equal(totalFeedback, feedbackIds.size);
    // …and another restart (graceful this time) rebuilds the very same report.
    assert.equal(await second.stop('SIGTERM'), 0);
    const third = await startRouter(configFile);
    routers.push(third);
    assert.deepEqual(await reportOf(third), r1);

    // An id long evicted from the in-memory map (500 entries) is still found in the segments.
    const c = new Client(third.url, 1);
    const old = await c.send('POST', '/api/v1/experiments/durable/feedback', {
      requestId: firstIds[0],
      metric: 'conversion',
      value: 1,
    });
    assert.equal(old.status, 202, old.text);
    await c.close();
  });
});
