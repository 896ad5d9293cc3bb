import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyzeEventsFile } from '../../src/cli/analyze';
import type { ExperimentEvent } from '../../src/shared/events';
import type { Report, RunInfo } from '../../src/shared/report';
import { inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { auth } from '../harness/routerSuites';
import { startTwoArmRouter, type TwoArmRouter } from '../harness/twoArmRouter';

// #15 item 3, runs: a deploy starts a new run; the report covers the current run only, late
// feedback for an earlier run's request never counts in the current one, earlier runs stay
// readable, and a restarted router and `analyze` agree on which run is current.
describe('router: runs of an experiment (real router process, fake V2 upstreams)', function () {
  let arms: TwoArmRouter;

  before(async () => {
    arms = await startTwoArmRouter({
      name: 'runs',
      weights: [50, 50],
      metric: { name: 'conversion', kind: 'proportion' },
    });
  });

  after(async () => {
    await arms?.stop();
  });

  const startRun = async (reason: string): Promise<RunInfo> => {
    const res = await arms.client.send('POST', '/api/v1/experiments/runs/runs', { reason }, auth);
    assert.equal(res.status, 201, res.text);
    return (res.json() as { run: RunInfo }).run;
  };
  const report = async (run?: string): Promise<Report> => {
    const res = await arms.client.send('GET', `/api/v1/experiments/runs/report${run ? `?run=${run}` : ''}`);
    assert.equal(res.status, 200, res.text);
    return res.json() as Report;
  };
  const traffic = async (n: number): Promise<string[]> => {
    const ids: string[] = [];
    await inParallel(n, 16, async () => {
      const res = await arms.client.infer('runs', simpleRequest());
      assert.equal(res.status, 200);
      ids.push(String(res.headers['x-request-id']));
    });
    return ids;
  };
  const requests = (r: Report) => r.variants.reduce((n, v) => n + v.requests, 0);
  const conversions = (r: Report) => r.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);

  it('starts a run per deploy; the report covers the current run, earlier runs stay readable, late feedback stays in its run', async () => {
    assert.equal(
      (await arms.client.send('POST', '/api/v1/experiments/runs/runs', { reason: 'deploy' })).status,
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
    const fb = await arms.client.send(
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

    const listed = (await arms.client.send('GET', '/api/v1/experiments/runs/runs')).json() as {
      current: string;
      runs: RunInfo[];
    };
    assert.equal(listed.current, second.id);
    assert.deepEqual(
      listed.runs.map((r) => r.id),
      [first.id, second.id],
    );
    const unknown = await arms.client.send('GET', '/api/v1/experiments/runs/report?run=nope');
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, new RegExp(second.id));

    // Every request and feedback line names its run.
    const events = readEvents(join(arms.dir, 'data')) as ExperimentEvent[];
    const requestRuns = events
      .filter((e) => e.type === 'request')
      .map((e) => (e.type === 'request' ? e.run : ''));
    assert.deepEqual([...new Set(requestRuns)].sort(), [first.id, second.id].sort());
    assert.ok(
      events.filter((e) => e.type === 'feedback').every((e) => e.type === 'feedback' && e.run === first.id),
    );

    // A restarted router and analyze see the same current run and the same counts.
    await arms.restart(16);
    const restarted = await report();
    assert.deepEqual(restarted.run, second);
    assert.equal(requests(restarted), 200);
    assert.equal(conversions(restarted), 0);
    const segments = join(arms.dir, 'data');
    const log = join(arms.dir, 'all.jsonl');
    await writeFile(
      log,
      readEvents(segments)
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    const offline = await analyzeEventsFile(log, arms.experimentFile);
    assert.deepEqual(offline.report.run, second);
    assert.equal(requests(offline.report), 200);
    assert.deepEqual(
      offline.runs.map((r) => r.id),
      [first.id, second.id],
    );
    await assert.rejects(
      analyzeEventsFile(log, arms.experimentFile, 'nope'),
      /no run "nope" of runs .* its runs are /,
    );
    const offlineFirst = await analyzeEventsFile(log, arms.experimentFile, first.id);
    assert.equal(requests(offlineFirst.report), 300);
    assert.equal(conversions(offlineFirst.report), 50);
    assert.deepEqual(
      offlineFirst.report.variants.map((v) => v.requests),
      earlier.variants.map((v) => v.requests),
    );
  });
});
