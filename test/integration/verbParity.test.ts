import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { splitTraffic } from '../../src/operations/split';
import { ProcessRuntime } from '../../src/runtime/processRuntime';
import type { Report } from '../../src/shared/report';
import { REPO_ROOT } from '../harness/tools';
import { copySampleModels, removeSampleModels } from '../harness/sampleWorkspace';
import {
  EXPECTED_STEPS,
  scenarioThroughOperations,
  stepOf,
  type ScenarioStep,
} from '../harness/verbScenario';

const CLI = join(REPO_ROOT, 'dist/cli.js');

// One scenario — partial split, promote candidate, roll back — through the built CLI and through
// the operations the VS Code commands call, on real MLServer and router processes. Both must
// leave the router in the same weights and rollout states, step by step.
describe('the same verbs through the CLI and through the operations layer (local processes)', function () {
  let ws: string;
  let runtime: ProcessRuntime;
  const cli = async (...args: string[]) => {
    const res = await execa('node', [CLI, ...args, '--workspace', ws], { reject: false, timeout: 240_000 });
    assert.equal(res.exitCode, 0, `${args.join(' ')}: ${res.stderr}`);
    return res.stdout;
  };
  const report = async (withRollout = true) =>
    stepOf(JSON.parse(await cli('report', 'propensity', '--json')) as Report, withRollout);
  const reset = () => cli('split', 'propensity', 'v1=95', 'v2=5');

  before(async function () {
    this.timeout(300_000);
    ws = await copySampleModels('mc-parity-');
    await cli('up', '--port', '0');
    await cli('deploy', join(ws, 'experiments/propensity.yaml'));
    runtime = new ProcessRuntime({
      workspace: ws,
      routerScript: join(REPO_ROOT, 'dist/router.js'),
      cacheDir: join(tmpdir(), 'unused'),
    });
  });

  after(async () => {
    await removeSampleModels(ws);
  });

  it('partial split, promote-candidate and roll-back give the same weights and rollout states', async function () {
    this.timeout(120_000);
    const viaCli: ScenarioStep[] = [];
    await cli('split', 'propensity', 'v2=20');
    viaCli.push(await report(false));
    await cli('promote-candidate', 'propensity');
    viaCli.push(await report());
    await cli('roll-back', 'propensity');
    viaCli.push(await report());
    assert.deepEqual(viaCli, EXPECTED_STEPS);

    await reset();
    assert.deepEqual(await scenarioThroughOperations(runtime), EXPECTED_STEPS);
  });

  it('roll-back without a running rollout is still the controller: a RolledBack rollout, baseline at 100%', async function () {
    this.timeout(60_000);
    await reset();
    await cli('roll-back', 'propensity');
    const after = await report();
    assert.deepEqual(after.weights, { v1: 100, v2: 0 });
    assert.equal(after.rollout?.state, 'RolledBack');
    assert.deepEqual(after.rollout?.transitions, ['Initialized→RolledBack@0']);
  });

  it('bad weights get the same words from the CLI and the operation, and nothing changes', async function () {
    this.timeout(60_000);
    await reset();
    const res = await execa('node', [CLI, 'split', 'propensity', 'v9=10', '--workspace', ws], {
      reject: false,
    });
    assert.equal(res.exitCode, 2);
    assert.match(res.stderr, /unknown variant "v9" — experiment propensity has v1, v2/);
    await assert.rejects(
      splitTraffic(runtime, { experiment: 'propensity', weights: { v9: 10 } }),
      /unknown variant "v9" — experiment propensity has v1, v2/,
    );
    assert.deepEqual((await report()).weights, { v1: 95, v2: 5 });
  });
});
