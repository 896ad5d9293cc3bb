import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isAlive } from '../../src/runtime/state';
import type { EnvironmentStatus } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';
import { copySampleModels, workspaceCli, removeSampleModels } from '../harness/sampleWorkspace';

// The sample experiment with the sample KSDrift detector named, through the built CLI: deploy
// starts MLServer's Alibi Detect runtime beside the models (from its provisioned environment),
// the router feeds it, the report prints its verdict, down stops it.
describe('local environment with a bring-your-own detector (MLServer Alibi Detect runtime)', function () {
  let ws: string;
  const cli = workspaceCli(() => ws, 300_000);

  before(async () => {
    ws = await copySampleModels('mc-local-detector-');
    const file = join(ws, 'experiments/propensity.yaml');
    const text = await readFile(file, 'utf8');
    const withDetector = text
      .replace(
        '    window: 1000\n',
        '    window: 1000\n    detectors:\n' +
          '      - { name: ks, path: ../detectors/propensity-ks, features: [age, tenure_months, sessions_30d, basket_value], batchSize: 100 }\n',
      )
      // The mirror is not what this test is about: one MLServer fewer on a shared machine.
      .replace(/^ {4}mirror:.*\n/m, '');
    assert.notEqual(withDetector, text);
    await writeFile(file, withDetector);
  });

  after(async () => {
    await removeSampleModels(ws);
  });

  it('deploy starts the detector, the router feeds it, the report prints its verdict, down stops it', async function () {
    this.timeout(600_000);
    assert.equal((await cli('up', '--port', '0')).exitCode, 0);
    const deploy = await cli('deploy', join(ws, 'experiments/propensity.yaml'));
    assert.equal(deploy.exitCode, 0, deploy.stderr);
    assert.match(
      deploy.stdout + deploy.stderr,
      /starting MLServer's Alibi Detect runtime for detector ks \(KSDrift\)/,
    );
    const status = JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;
    const detector = status.components.find((c) => c.name === 'propensity-detector-ks');
    assert.equal(detector?.state, 'ready', JSON.stringify(status.components));

    const router = parse(await readFile(join(ws, '.model-canary/router.yaml'), 'utf8')) as {
      experiments: { detectors?: { name: string; model: string }[] }[];
    };
    assert.deepEqual(
      router.experiments[0]!.detectors?.map((d) => [d.name, d.model]),
      [['ks', 'propensity-detector-ks']],
    );

    const sim = await cli(
      'simulate',
      'propensity',
      '--requests',
      '1200',
      '--rps',
      '300',
      '--drift',
      'basket_value=shift:+40',
      '--drift-from',
      '0.5',
    );
    assert.equal(sim.exitCode, 0, sim.stderr);
    let report: Report | undefined;
    for (let i = 0; i < 60; i++) {
      report = JSON.parse((await cli('report', 'propensity', '--json')).stdout) as Report;
      const v1 = report.drift?.detectors?.verdicts.find((v) => v.variant === 'v1');
      if (v1 && v1.batches >= 10) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const v1 = report!.drift!.detectors!.verdicts.find((v) => v.variant === 'v1')!;
    assert.ok(v1.flagged, JSON.stringify(v1));
    assert.ok(v1.flaggedBatches >= 3 && v1.flaggedBatches < v1.batches, JSON.stringify(v1));
    const text = (await cli('report', 'propensity')).stdout;
    assert.match(
      text,
      /detector ks \(drift\) on v1: DRIFT in the last 100 requests · .*basket_value p=<0\.0001/,
    );

    const pid = Number(detector!.id);
    assert.equal((await cli('down')).exitCode, 0);
    assert.equal(isAlive(pid), false, 'down stops the detector server too');
  });
});
