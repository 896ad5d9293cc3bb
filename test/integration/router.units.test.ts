import assert from 'node:assert/strict';
import type { Report } from '../../src/shared/report';
import { seededRandom, standardNormal } from '../../src/core/stats/random';
import { inParallel, simpleRequest } from '../harness/routerClient';
import { auth } from '../harness/routerSuites';
import { startTwoArmRouter, type TwoArmRouter } from '../harness/twoArmRouter';

// #15 item 4 on the real router: a rollout ramping 5% → 25% → 50% (then waiting for evidence) with a few hundred sticky
// users replayed many times. The rollout gate judges the SRM on users, so the replays do not
// pause it (on a real cluster the request-level check paused such a rollout on "sample-ratio
// mismatch (p = 7.1e-4)").
describe('router: sticky users replayed through a rollout (real router process, fake V2 upstreams)', function () {
  this.timeout(120_000);
  let arms: TwoArmRouter;

  before(async () => {
    arms = await startTwoArmRouter({
      name: 'sticky',
      weights: [100, 0],
      metric: { name: 'conversion', kind: 'proportion' },
      baselineInFile: true,
      routing: '{ sticky: { header: x-user-id } }',
      stickyHeader: 'x-user-id',
    });
  });

  after(async () => {
    await arms?.stop();
  });

  it('ramps to 50% without an SRM pause while 300 users send their requests again and again, and reports users as the unit', async () => {
    const random = seededRandom(42);
    // Heavy-tailed activity: a few users send most of the requests.
    const activity = Array.from({ length: 300 }, () => Math.exp(1.5 * standardNormal(random)));
    const cumulative: number[] = [];
    activity.reduce((s, a) => (cumulative.push(s + a), s + a), 0);
    const pickUser = () => {
      const r = random() * cumulative.at(-1)!;
      return cumulative.findIndex((c) => c > r);
    };
    const start = await arms.client.send(
      'POST',
      '/api/v1/experiments/sticky/rollout',
      {
        action: 'start',
        candidate: 'v2',
        overrides: { steps: [5, 25, 50, 100], minSamplesPerStep: 60, minStepSeconds: 1 },
      },
      auth,
    );
    assert.equal(start.status, 200, start.text);
    let report: Report | undefined;
    for (let round = 0; round < 40; round++) {
      const users = Array.from({ length: 600 }, pickUser);
      await inParallel(users.length, 16, async (i) => {
        const res = await arms.client.infer('sticky', simpleRequest(), { 'x-user-id': `user-${users[i]}` });
        assert.equal(res.status, 200);
      });
      await new Promise((r) => setTimeout(r, 1_200));
      report = (await arms.client.send('GET', '/api/v1/experiments/sticky/report')).json() as Report;
      const rollout = report.rollout!;
      assert.notEqual(rollout.state, 'Paused', `paused: ${rollout.reason}`);
      if (rollout.stepIndex >= 2 || ['Succeeded', 'RolledBack', 'Failed'].includes(rollout.state)) break;
    }
    const rollout = report!.rollout!;
    console.log(
      `      reached ${rollout.steps[rollout.stepIndex]}% (${rollout.state}); SRM on ${report!.srm.total} users p = ${report!.srm.pValue.toPrecision(2)}, ` +
        `request-level p = ${report!.srm.requestLevel?.pValue.toPrecision(2)} over ${report!.variants.reduce((n, v) => n + v.requests, 0)} requests`,
    );
    assert.ok(
      rollout.stepIndex >= 2,
      `the rollout stopped at ${rollout.steps[rollout.stepIndex]}%: ${rollout.reason}`,
    );
    assert.equal(report!.srm.unit, 'user');
    assert.ok(report!.srm.total! <= 300);
    assert.ok(rollout.gates.some((g) => g.name === 'srm' && /on users/.test(g.detail)));
    // The ramp moved users from the baseline to the canary: reported, and explained by the weights.
    assert.ok(report!.units!.crossovers > 0);
    assert.equal(report!.units!.unexplainedCrossovers, 0);
  });
});
