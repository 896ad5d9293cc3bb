import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../../src/shared/report';
import { copySampleModels, workspaceCli, removeSampleModels } from '../harness/sampleWorkspace';

// Automatic rollouts run by the controller inside the real router, on real MLServer processes,
// with traffic from the simulator — the path `npm run demo -- --rollout` takes.
describe('progressive rollout on the local environment (real router, MLServer, simulator)', function () {
  let ws: string;
  const cli = workspaceCli(() => ws, 400_000);

  beforeEach(async () => {
    ws = await copySampleModels('mc-rollout-');
  });

  afterEach(async () => {
    await removeSampleModels(ws);
  });

  it('the demo promotes the better v2 step by step to 100%, with no failed request during weight changes', async () => {
    // What this checks is the promotion, judged on conversion and the model guardrails, and no
    // failed request while the weights move. Not latency: the sample's p95 limit of 50 ms is a
    // timing that two cores shared by three MLServers, the router and the simulator miss now and
    // then (v2 at 100% on one process: p95 56 ms once), and tests do not time things (bench/ does).
    const file = join(ws, 'experiments/propensity.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('latencyP95Ms: { max: 50 }', 'latencyP95Ms: { max: 2000 }'));
    assert.match(await readFile(file, 'utf8'), /latencyP95Ms: \{ max: 2000 \}/);
    const res = await cli('demo', '--rollout', '--exit', '--json', '--port', '0');
    assert.equal(res.exitCode, 0, res.stderr);
    const report = JSON.parse(res.stdout) as Report & { simulation: { errors: number; sent: number } };
    assert.equal(report.rollout?.state, 'Succeeded', report.rollout?.reason);
    assert.deepEqual(
      report.variants.map((v) => [v.name, v.weight]),
      [
        ['v1', 0],
        ['v2', 100],
      ],
    );
    const weights = report.rollout!.history.map((h) => h.weight);
    assert.deepEqual(weights, [5, 25, 50, 100], 'every step, in order');
    assert.equal(report.simulation.errors, 0, 'no request failed while the weights moved');
    assert.ok(
      report.timeline!.weights.some((w) => w.source === 'rollout'),
      'weight changes went through the router as rollout events',
    );
  });

  it('rolls a worse candidate back automatically', async () => {
    // The good gradient-boosting model as the baseline, the weaker logistic regression as the candidate.
    const file = join(ws, 'experiments/propensity.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text
        .replace('model: propensity-v1, role: baseline', 'model: propensity-v2, role: baseline')
        .replace(
          '{ name: v2, model: propensity-v2, weight: 5 }',
          '{ name: v2, model: propensity-v1, weight: 5 }',
        )
        // The AUC guardrail would catch the weaker model first (it does: AUC −0.19 [−0.30, −0.08]);
        // this test is about the metric gate.
        .replace('      model: { auc: { maxDrop: 0.02 } }\n', ''),
    );
    assert.doesNotMatch(await readFile(file, 'utf8'), /maxDrop/, 'the AUC guardrail is off');
    assert.equal((await cli('up', '--port', '0')).exitCode, 0);
    assert.equal((await cli('deploy', file)).exitCode, 0);
    const start = await cli(
      'rollout',
      'start',
      'propensity',
      '--min-samples',
      '100',
      '--min-step-seconds',
      '2',
      '--json',
    );
    assert.equal(start.exitCode, 0, start.stderr);
    // One long run: every row is a distinct user, and each pass over the file brings new user
    // ids, so the sticky split stays a fair random split (rerunning the same rows would not be).
    const sim = await cli('simulate', 'propensity', '--requests', '8000', '--rps', '300', '--json');
    assert.equal(sim.exitCode, 0, sim.stderr);
    let report: Report | undefined;
    for (let i = 0; i < 40; i++) {
      report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
      if (report.rollout && ['RolledBack', 'Succeeded', 'Failed', 'Paused'].includes(report.rollout.state))
        break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(report?.rollout?.state, 'RolledBack', report?.rollout?.reason);
    assert.match(report!.rollout!.reason, /significantly worse on conversion/);
    assert.deepEqual(
      report!.variants.map((v) => v.weight),
      [100, 0],
    );
  });
});
