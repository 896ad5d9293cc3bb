import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import type { Report } from '../../src/shared/report';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { TOKEN, auth } from '../harness/routerSuites';
import { REPO_ROOT } from '../harness/tools';
import { startUpstream, type Upstream } from '../harness/upstream';
import { seededRandom } from '../../src/core/stats/random';

// #18 item 4: retention deletes old segments only once a durable checkpoint covers them, so the
// report after compaction equals the report before, and the log's disk stays bounded.

const SEGMENT = 32 * 1024;
const MAX_BYTES = 128 * 1024;

const segmentBytes = (data: string): number =>
  readdirSync(data)
    .filter((f) => /^events-\d+\.jsonl$/.test(f))
    .reduce((n, f) => n + statSync(join(data, f)).size, 0);

describe('router: retention compacts the log after a checkpoint (real router process)', function () {
  let dir: string;
  let upstreams: Upstream[] = [];
  let router: RunningRouter | undefined;
  let client: Client | undefined;
  let experiment: NonNullable<RouterConfigInput['experiments']>[number];

  const start = async (maxBytes: number): Promise<RunningRouter> => {
    await client?.close();
    await router?.stop();
    const configFile = await writeRouterConfig(dir, {
      adminToken: TOKEN,
      eventLog: { fsyncIntervalMs: 20, segmentBytes: SEGMENT, retention: { maxAgeDays: 7, maxBytes } },
      experiments: [experiment],
    });
    router = await startRouter(configFile);
    client = new Client(router.url, 16);
    return router;
  };
  const report = async (now: number, run?: string): Promise<Report> =>
    (
      await client!.send('GET', `/api/v1/experiments/keep/report?now=${now}${run ? `&run=${run}` : ''}`)
    ).json() as Report;
  const traffic = async (seed: number, requests: number): Promise<void> => {
    const random = seededRandom(seed);
    await inParallel(requests, 16, async () => {
      const res = await client!.infer('keep', simpleRequest(20 + Math.floor(random() * 50)));
      assert.equal(res.status, 200);
      if (random() < 0.4) {
        const fb = await client!.send('POST', '/api/v1/experiments/keep/feedback', {
          requestId: String(res.headers['x-request-id']),
          metric: 'conversion',
          value: random() < 0.2 ? 1 : 0,
        });
        assert.equal(fb.status, 202, fb.text);
      }
    });
  };

  before(async () => {
    upstreams = await Promise.all([startUpstream(), startUpstream()]);
    dir = await routerDir();
    const experimentFile = join(dir, 'keep.yaml');
    await writeFile(
      experimentFile,
      `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: keep }
spec:
  endpoint: keep
  variants: [{ name: v1, model: m1, weight: 60 }, { name: v2, model: m2, weight: 40 }]
  metrics: { primary: { name: conversion, kind: proportion } }
`,
    );
    experiment = {
      name: 'keep',
      endpoint: 'keep',
      experimentFile,
      variants: [
        { name: 'v1', url: upstreams[0]!.url, model: 'm1', weight: 60, role: 'baseline' },
        { name: 'v2', url: upstreams[1]!.url, model: 'm2', weight: 40 },
      ],
    };
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports the same before and after compaction, across restarts, with the disk bounded', async function () {
    this.timeout(180_000);
    const data = join(dir, 'data');
    // A log of many segments, kept whole: an earlier run, then the current one.
    await start(1024 * 1024 * 1024);
    const newRun = async (): Promise<string> => {
      const res = await client!.send('POST', '/api/v1/experiments/keep/runs', { reason: 'deploy' }, auth);
      assert.equal(res.status, 201, res.text);
      return (res.json() as { run: { id: string } }).run.id;
    };
    const earlierRun = await newRun();
    await traffic(1, 1200);
    await newRun();
    await traffic(2, 1500);
    const now = Math.max(...readEvents(data).map((e) => e.ts)) + 1;
    const before = await report(now);
    const runsBefore = (await client!.send('GET', '/api/v1/experiments/keep/runs')).json() as unknown;
    const firstRunBefore = await report(now, earlierRun);
    const whole = segmentBytes(data);
    assert.ok(whole > 3 * MAX_BYTES, `the log is large enough to compact (${whole} bytes)`);
    assert.equal(firstRunBefore.compacted, undefined);

    // The same log under a small maxBytes: compacted on start, the report unchanged.
    const compacting = await start(MAX_BYTES);
    await until(() => /retention: removed/.test(compacting.output()), compacting.output);
    const kept = segmentBytes(data);
    console.log(`      log ${whole} → ${kept} bytes (maxBytes ${MAX_BYTES}, segments of ${SEGMENT})`);
    assert.ok(kept <= MAX_BYTES + 2 * SEGMENT, `the log is bounded (${kept} bytes)`);
    assert.deepEqual(await report(now), before, 'the report after compaction = before');
    assert.deepEqual((await client!.send('GET', '/api/v1/experiments/keep/runs')).json(), runsBefore);
    const firstRun = await report(now, earlierRun);
    assert.match(firstRun.compacted?.note ?? '', /removed by retention.*misses their events/);

    // Serving on, it compacts as segments close; a restart then restores the report.
    await traffic(3, 2000);
    const later = Math.max(...readEvents(data).map((e) => e.ts)) + 1;
    const live = await report(later);
    const serving = segmentBytes(data);
    assert.ok(serving <= MAX_BYTES + 3 * SEGMENT, `bounded while serving (${serving} bytes)`);
    await start(MAX_BYTES);
    assert.deepEqual(await report(later), live, 'restart after compaction = live');

    const check = await execa('node', [join(REPO_ROOT, 'dist/cli.js'), 'log', 'check', data], {
      reject: false,
    });
    assert.equal(check.exitCode, 0, check.stderr);
    assert.match(check.stdout, /older segments .* were removed by retention/);
  });
});

async function until(ok: () => boolean, what: () => string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out:\n${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
