import assert from 'node:assert/strict';
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../../src/shared/report';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { TOKEN, auth } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';
import { seededRandom } from '../../src/core/stats/random';

// #20 item 2, #21 start time: the router checkpoints its replayed state when it closes a segment
// and a restart replays only what came after the newest checkpoint. Restarting from a checkpoint
// gives the report that a full replay of the same log gives, and a checkpoint that does not fit
// is ignored with a warning.

const checkpoints = (data: string): string[] =>
  readdirSync(data)
    .filter((f) => /^checkpoint-\d+-\d+\.json$/.test(f))
    .sort();

describe('router: checkpoints bound the start time (real router process, small segments)', function () {
  let dir: string;
  let configFile: string;
  let configInput: RouterConfigInput;
  let upstreams: Upstream[] = [];
  let router: RunningRouter | undefined;
  let client: Client | undefined;

  const start = async (): Promise<RunningRouter> => {
    await client?.close();
    await router?.stop();
    router = await startRouter(configFile);
    client = new Client(router.url, 16);
    return router;
  };
  const report = async (now: number): Promise<Report> =>
    (await client!.send('GET', `/api/v1/experiments/ckpt/report?now=${now}`)).json() as Report;

  before(async () => {
    upstreams = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    dir = await routerDir();
    const experimentFile = join(dir, 'ckpt.yaml');
    await writeFile(
      experimentFile,
      `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: ckpt }
spec:
  endpoint: ckpt
  variants: [{ name: v1, model: m1, weight: 70 }, { name: v2, model: m2, weight: 30 }]
  metrics: { primary: { name: conversion, kind: proportion } }
`,
    );
    configInput = {
      adminToken: TOKEN,
      eventLog: { fsyncIntervalMs: 20, segmentBytes: 48 * 1024 },
      experiments: [
        {
          name: 'ckpt',
          endpoint: 'ckpt',
          experimentFile,
          variants: [
            { name: 'v1', url: upstreams[0]!.url, model: 'm1', weight: 70, role: 'baseline' },
            { name: 'v2', url: upstreams[1]!.url, model: 'm2', weight: 30 },
          ],
          mirror: { variant: 'v3', url: upstreams[2]!.url, model: 'm3', percent: 50, maxInFlight: 64 },
        },
      ],
    };
    configFile = await writeRouterConfig(dir, configInput);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('restarts from its newest checkpoint with the report of a full replay, and ignores a corrupt one', async function () {
    this.timeout(120_000);
    await start();
    const random = seededRandom(20);
    const ids: string[] = [];
    for (let batch = 0; batch < 6; batch++) {
      if (batch === 3) {
        const put = await client!.send(
          'PUT',
          '/api/v1/experiments/ckpt/weights',
          { weights: { v1: 50, v2: 50 } },
          auth,
        );
        assert.equal(put.status, 200, put.text);
      }
      await inParallel(400, 16, async () => {
        const res = await client!.infer('ckpt', simpleRequest(20 + Math.floor(random() * 50)));
        assert.equal(res.status, 200);
        const id = String(res.headers['x-request-id']);
        ids.push(id);
        if (random() < 0.4) {
          const value = random() < (res.headers['x-model-canary-variant'] === 'v2' ? 0.3 : 0.2) ? 1 : 0;
          const fb = await client!.send('POST', '/api/v1/experiments/ckpt/feedback', {
            requestId: id,
            metric: 'conversion',
            value,
          });
          assert.equal(fb.status, 202, fb.text);
        }
      });
    }
    const data = join(dir, 'data');
    const now = Math.max(...readEvents(data).map((e) => e.ts)) + 1;
    const live = await report(now);
    await router!.stop();
    const segments = readdirSync(data).filter((f) => /^events-\d+\.jsonl$/.test(f));
    const written = checkpoints(data);
    console.log(`      ${segments.length} segments, checkpoints ${written.join(', ')}`);
    assert.ok(segments.length >= 6, `the log has several segments (${segments.length})`);
    assert.equal(written.length, 2, 'the two newest checkpoints are kept');

    const resumed = await start();
    const fromCheckpoint = await report(now);
    const line = /replayed (\d+) events after (checkpoint-\d+-\d+\.json)/.exec(resumed.output());
    assert.ok(line, resumed.output());
    assert.equal(line[2], written.at(-1), 'the newest checkpoint');
    const total = readEvents(data).length;
    console.log(`      restart from ${line[2]}: replayed ${line[1]} of ${total} events`);
    assert.ok(Number(line[1]) < total / 2, 'only the events after the checkpoint are replayed');

    // The same log replayed whole, without the checkpoints.
    await router!.stop();
    for (const f of written) renameSync(join(data, f), join(data, `${f}.bak`));
    const full = await start();
    assert.doesNotMatch(full.output(), /after checkpoint/);
    const fromScratch = await report(now);
    assert.deepEqual(fromCheckpoint, fromScratch, 'restart from a checkpoint = restart by full replay');
    for (const key of [
      'variants',
      'srm',
      'comparisons',
      'guardrails',
      'excluded',
      'shadow',
      'timeline',
    ] as const)
      assert.deepEqual(fromCheckpoint[key], live[key], `restarted = live: ${key}`);

    // A start that replayed several segments checkpoints what it replayed.
    await router!.stop();
    const atStart = checkpoints(data);
    assert.equal(atStart.length, 1, 'the full replay wrote a checkpoint');
    await rm(join(data, atStart[0]!));

    // A torn newest checkpoint: a warning, and the older one is used.
    for (const f of written) renameSync(join(data, `${f}.bak`), join(data, f));
    writeFileSync(join(data, written.at(-1)!), '{"version":1,"settings":');
    const older = await start();
    assert.match(older.output(), new RegExp(`${written.at(-1)}: ignored \\(.*\\)`));
    const olderLine = new RegExp(`replayed (\\d+) events after ${written[0]}`).exec(older.output());
    assert.ok(
      olderLine && Number(olderLine[1]) > 0,
      `events after the older checkpoint are replayed:\n${older.output()}`,
    );
    assert.deepEqual(await report(now), fromScratch, 'restart from the older checkpoint');

    // Checkpoints of an older router (version 2: the request index's ids as maps): ignored, the log is replayed whole.
    await router!.stop();
    const current = checkpoints(data).map((f) => [f, readFileSync(join(data, f), 'utf8')] as const);
    for (const [f, text] of current)
      if (text.endsWith('}'))
        writeFileSync(join(data, f), JSON.stringify({ ...JSON.parse(text), version: 2 })); // not the torn one
    const fromOld = await start();
    assert.match(fromOld.output(), /ignored \(version 2, this router writes 3\)/);
    assert.doesNotMatch(fromOld.output(), /after checkpoint/);
    assert.deepEqual(await report(now), fromScratch, 'restart by full replay past old checkpoints');
    await router!.stop();
    for (const f of checkpoints(data)) await rm(join(data, f));
    for (const [f, text] of current) writeFileSync(join(data, f), text);

    // Settings the state depends on changed: every checkpoint is stale, the log is replayed whole.
    await router!.stop();
    await writeRouterConfig(dir, {
      ...configInput,
      eventLog: { ...configInput.eventLog, idCacheSize: 500_000 },
    });
    const stale = await start();
    assert.match(stale.output(), /ignored \(the settings changed since it was written\)/);
    assert.doesNotMatch(stale.output(), /after checkpoint/);
    assert.deepEqual(await report(now), fromScratch, 'restart by full replay after the settings changed');

    // An edited experiment file: its report is rebuilt from the log, the rest still restored.
    await router!.stop();
    const experimentFile = join(dir, 'ckpt.yaml');
    await writeFile(
      experimentFile,
      `${readFileSync(experimentFile, 'utf8')}  routing: { debugHeaders: [x-debug] }\n`,
    );
    const edited = await start();
    assert.match(edited.output(), /ckpt new or changed since; rebuilding their reports from the log/);
    assert.match(edited.output(), /replayed \d+ events after checkpoint/);
    const rebuilt = await report(now);
    await router!.stop();
    for (const f of checkpoints(data)) await rm(join(data, f));
    await start();
    assert.deepEqual(rebuilt, await report(now), 'an edited experiment: rebuilt = full replay');

    // Feedback for a request from before the checkpoint is still attributed.
    const fb = await client!.send('POST', '/api/v1/experiments/ckpt/feedback', {
      requestId: ids[0],
      metric: 'conversion',
      value: 1,
    });
    assert.equal(fb.status, 202, fb.text);
  });
});
