// The verbs scenario of test/harness/verbScenario.ts — a partial split, Promote Candidate, Roll
// Back — from the command palette of a real VS Code (code-server, packaged VSIX) on local
// processes. Each step must leave in the router what the CLI and the operations leave
// (test/integration/verbParity.test.ts and kubeRuntime.test.ts compare with the same steps).
import * as assert from 'node:assert/strict';
import type { Report } from '../../src/shared/report';
import { EXPECTED_STEPS, stepOf, type ScenarioStep } from '../harness/verbScenario';
import { dumpOnFailure } from './diagnostics';
import { LocalLoopSession } from './localLoopSession';
import { waitFor } from './workbench';

const EXPERIMENT = 'propensity';

describe('the verbs from the palette leave what the CLI leaves (code-server, local processes)', function () {
  const loop = new LocalLoopSession();
  const { workbench } = loop;

  const report = async (): Promise<Report> => {
    const res = await fetch(`http://127.0.0.1:${loop.routerPort}/api/v1/experiments/${EXPERIMENT}/report`);
    assert.equal(res.status, 200);
    return (await res.json()) as Report;
  };

  /** Waits until the router's report shows `done`, and returns the step. */
  const stepWhen = async (done: (s: ScenarioStep) => boolean, what: string, withRollout = true) =>
    waitFor(
      async () => {
        const step = stepOf(await report(), withRollout);
        return done(step) ? step : undefined;
      },
      what,
      30_000,
    );

  /** Clicks a button of VS Code's modal dialog (showWarningMessage with modal: true). */
  const confirmModal = async (button: string) => {
    const dialog = workbench().page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    await dialog.locator('.dialog-buttons .monaco-button', { hasText: button }).first().click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  };

  before(async function () {
    this.timeout(20 * 60_000);
    await loop.open();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') loop.printLogTails();
    await dumpOnFailure(this, loop.wb, loop.server);
  });

  after(async function () {
    this.timeout(120_000);
    await workbench()
      .runCommand('Model Canary: Stop Environment')
      .catch(() => undefined);
    await loop.close();
  });

  it('Deploy Experiment, Set Traffic Split v2=20, Promote Candidate, Roll Back', async function () {
    this.timeout(12 * 60_000);
    const w = workbench();
    await w.openViewContainer('Model Canary');
    await w.findTreeItem('Experiments', EXPERIMENT, 60_000);
    await w.clearNotifications();
    await w.runCommand('Model Canary: Deploy Experiment');
    await w.waitForOutcome(new RegExp(`${EXPERIMENT} is live at`), 'Deploy Experiment', 10 * 60_000);
    // The commands pick among deployed experiments: wait until the views know the models run.
    for (const model of ['propensity-v1', 'propensity-v2'])
      await waitFor(
        async () => /deployed · ready/.test(await w.treeItemDescription('Models', model)),
        `the Models view did not show ${model} deployed and ready`,
        60_000,
      );

    const steps: ScenarioStep[] = [];
    await w.runCommand('Model Canary: Set Traffic Split');
    const input = w.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill('v2=20');
    await w.page.keyboard.press('Enter');
    steps.push(await stepWhen((s) => s.weights.v2 === 20, 'the split v2=20 never reached the router', false));

    await w.clearNotifications();
    await w.runCommand('Model Canary: Promote Candidate');
    await confirmModal('Promote');
    await w.waitForOutcome(/rollout of v2 in propensity is Progressing/, 'Promote Candidate', 60_000);
    steps.push(
      await stepWhen((s) => s.rollout?.state === 'Progressing', 'no rollout after Promote Candidate'),
    );

    await w.clearNotifications();
    await w.runCommand('Model Canary: Roll Back');
    await confirmModal('Roll Back');
    await w.waitForOutcome(/rollout of v2 in propensity is RolledBack/, 'Roll Back', 60_000);
    steps.push(await stepWhen((s) => s.rollout?.state === 'RolledBack', 'no roll back after Roll Back'));

    assert.deepEqual(steps, EXPECTED_STEPS);
  });
});
