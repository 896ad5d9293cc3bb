import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { until } from '../harness/routerSuites';
import { startTwoArmRouter, type TwoArmRouter } from '../harness/twoArmRouter';

// #15 item 2: the router records how each request's variant was chosen, and its report counts
// randomised traffic only.
describe('router: experiment traffic only (real router process, fake V2 upstreams)', function () {
  let arms: TwoArmRouter;

  before(async () => {
    arms = await startTwoArmRouter({
      name: 'traffic',
      weights: [80, 20],
      metric: { name: 'conversion', kind: 'proportion' },
      routing: '{ debugHeaders: [X-Smoke-Test] }',
      stickyHeader: 'x-user-id',
      mirror: { percent: 100, maxInFlight: 64 },
    });
  });

  after(async () => {
    await arms?.stop();
  });

  it('records weighted, sticky, forced, debug and shadow, and counts only randomised requests in the report', async () => {
    const sent = new Map<string, string>();
    await inParallel(1_000, 16, async (i) => {
      const id = `t-${i}`;
      const headers: Record<string, string> = { 'x-request-id': id };
      let expected = 'weighted';
      if (i % 10 < 3) {
        headers['x-model-canary-variant'] = 'v2';
        expected = 'forced';
      } else if (i % 10 === 3) {
        headers['x-smoke-test'] = '1';
        expected = 'debug';
      } else if (i % 2 === 0) {
        headers['x-user-id'] = `user-${i}`;
        expected = 'sticky';
      }
      const res = await arms.client.infer('traffic', simpleRequest(), headers);
      assert.equal(res.status, 200);
      sent.set(id, expected);
    });
    // Every forced request converts: none of it may reach the A/B.
    const forcedIds = [...sent].filter(([, a]) => a === 'forced').map(([id]) => id);
    const fb = await arms.client.send(
      'POST',
      '/api/v1/experiments/traffic/feedback',
      forcedIds.map((requestId) => ({ requestId, metric: 'conversion', value: 1 })),
    );
    assert.equal(fb.status, 202, fb.text);

    const events = await until('every shadow call recorded', async () => {
      const all = readEvents(join(arms.dir, 'data')).filter((e): e is RequestEvent => e.type === 'request');
      return all.filter((e) => e.shadow).length === sent.size ? all : undefined;
    });
    for (const e of events) {
      if (e.shadow) assert.equal(e.assignment, 'shadow', e.id);
      else assert.equal(e.assignment, sent.get(e.id), e.id);
      if (e.assignment === 'debug') assert.equal(e.debugHeader, 'x-smoke-test');
    }

    const report = (await arms.client.send('GET', '/api/v1/experiments/traffic/report')).json() as Report;
    const count = (a: string): number => [...sent.values()].filter((x) => x === a).length;
    const randomised = count('weighted') + count('sticky');
    assert.equal(
      report.variants.reduce((n, v) => n + v.requests, 0),
      randomised,
      JSON.stringify(report.variants),
    );
    assert.equal(report.srm.mismatch, false, JSON.stringify(report.srm));
    assert.equal(report.comparisons[0]!.variantRate, 0, 'forced conversions stay out of the A/B');
    assert.deepEqual(
      { ...report.excluded, variants: undefined, headers: undefined },
      {
        forced: count('forced'),
        debug: count('debug'),
        shadow: sent.size,
        other: 0,
        feedback: forcedIds.length,
        variants: undefined,
        headers: undefined,
      },
    );
    assert.equal(report.excluded!.variants.v2!.forced, count('forced'));
  });
});
