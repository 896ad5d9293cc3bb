import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeEventsFile } from '../../src/cli/analyze';
import type { ExperimentEvent } from '../../src/shared/events';
import type { Report, RunInfo } from '../../src/shared/report';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { auth, TOKEN } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';

// #15 item 3, runs: a deploy starts a new run; the report covers the current run only, late
// feedback for an earlier run's request never counts in the current one, earlier runs stay
// readable, and a restarted router and `analyze` agree on which run is current.
describe('router: runs of an experiment (real router process, fake V2 upstreams)', function () {
  let v1: Upstream;
  let v2: Upstream;
  let dir: string;
  let configFile: string;
  let experimentFile: string;
  let router: RunningRouter;
  let client: Client;

  before(async () => {
    [v1, v2] = await Promise.all([startUpstream(), startUpstream()]);
    dir = await routerDir();
    experimentFile = join(dir, 'runs.yaml');
    await writeFile(
      experimentFile,
      [
        'apiVersion: modelcanary.dev/v1alpha1',
        'kind: Experiment',
        'metadata: { name: runs }',
        'spec:',
        '  endpoint: runs',
        '  variants: [{ name: v1, model: m1, weight: 50 }, { name: v2, model: m2, weight: 50 }]',
        '  metrics: { primary: { name: conversion, kind: proportion } }',
        '',
      ].join('\n'),
    );
    configFile = await writeRouterConfig(dir, {
      adminToken: TOKEN,
      eventLog: { fsyncIntervalMs: 20 },
      experiments: [
        {
          name: 'runs',
          endpoint: 'runs',
          experimentFile,
          variants: [
            { name: 'v1', url: v1.url, model: 'm1', weight: 50, role: 'baseline' },
            { name: 'v2', url: v2.url, model: 'm2', weight: 50 },
          ],
        },
      ],
    });
    router = await startRouter(configFile);
    client = new Client(router.url, 16);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all([v1, v2].map((u) => u?.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const startRun = async (reason: string): Promise<RunInfo> => {
    const res = await client.send('POST', '/api/v1/experiments/runs/runs', { reason }, auth);
    assert.equal(res.status, 201, res.text);
    return (res.json() as { run: RunInfo }).run;
  };
  const report = async (run?: string): Promise<Report> => {
    const res = await client.send('GET', `/api/v1/experiments/runs/report${run ? `?run=${run}` : ''}`);
    assert.equal(res.status, 200, res.text);
    return res.json() as Report;
  };
  const traffic = async (n: number): Promise<string[]> => {
    const ids: string[] = [];
    await inParallel(n, 16, async () => {
      const res = await client.infer('runs', simpleRequest());
      assert.equal(res.status, 200);
      ids.push(String(res.headers['x-request-id']));
    });
    return ids;
  };
  const requests = (r: Report) => r.variants.reduce((n, v) => n + v.requests, 0);
  const conversions = (r: Report) => r.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);

  it('starts a run per deploy; the report covers the current run, earlier runs stay readable, late feedback stays in its run', async () => {
    assert.equal(
      (await client.send('POST', '/api/v1/experiments/runs/runs', { reason: 'deploy' })).status,
      401,
      'starting a run needs the admin token',
    );
    const first = await startRun('deploy');
    const firstIds = await traffic(300);
    assert.equal(requests(await report()), 300);

    const second = await startRun('deploy');
    assert.notEqual(second.id, first.id);
    const fresh = await report();
    assert.deepEqual(fresh.run, second);
    assert.equal(requests(fresh), 0, 'a new run starts from nothing');
    await traffic(200);
    // Late feedback for the first run's requests: accepted, counted in the first run only.
    const fb = await client.send(
      'POST',
      '/api/v1/experiments/runs/feedback',
      firstIds.slice(0, 50).map((requestId) => ({ requestId, metric: 'conversion', value: 1 })),
    );
    assert.equal(fb.status, 202, fb.text);
    const current = await report();
    assert.equal(requests(current), 200);
    assert.equal(conversions(current), 0, 'feedback of an earlier run never counts in the current one');
    const earlier = await report(first.id);
    assert.deepEqual(earlier.run, first);
    assert.equal(requests(earlier), 300);
    assert.equal(conversions(earlier), 50);

    const listed = (await client.send('GET', '/api/v1/experiments/runs/runs')).json() as {
      current: string;
      runs: RunInfo[];
    };
    assert.equal(listed.current, second.id);
    assert.deepEqual(
      listed.runs.map((r) => r.id),
      [first.id, second.id],
    );
    const unknown = await client.send('GET', '/api/v1/experiments/runs/report?run=nope');
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, new RegExp(second.id));

    // Every request and feedback line names its run.
    const events = readEvents(join(dir, 'data')) as ExperimentEvent[];
    const requestRuns = events
      .filter((e) => e.type === 'request')
      .map((e) => (e.type === 'request' ? e.run : ''));
    assert.deepEqual([...new Set(requestRuns)].sort(), [first.id, second.id].sort());
    assert.ok(
      events.filter((e) => e.type === 'feedback').every((e) => e.type === 'feedback' && e.run === first.id),
    );

    // A restarted router and analyze see the same current run and the same counts.
    await client.close();
    await router.stop();
    router = await startRouter(configFile);
    client = new Client(router.url, 16);
    const restarted = await report();
    assert.deepEqual(restarted.run, second);
    assert.equal(requests(restarted), 200);
    assert.equal(conversions(restarted), 0);
    const segments = join(dir, 'data');
    const log = join(dir, 'all.jsonl');
    await writeFile(
      log,
      readEvents(segments)
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    const offline = await analyzeEventsFile(log, experimentFile);
    assert.deepEqual(offline.report.run, second);
    assert.equal(requests(offline.report), 200);
    assert.deepEqual(
      offline.runs.map((r) => r.id),
      [first.id, second.id],
    );
    await assert.rejects(
      analyzeEventsFile(log, experimentFile, 'nope'),
      /no run "nope" of runs .* its runs are /,
    );
    const offlineFirst = await analyzeEventsFile(log, experimentFile, first.id);
    assert.equal(requests(offlineFirst.report), 300);
    assert.equal(conversions(offlineFirst.report), 50);
    assert.deepEqual(
      offlineFirst.report.variants.map((v) => v.requests),
      earlier.variants.map((v) => v.requests),
    );
  });
});
