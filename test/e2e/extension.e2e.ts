// The packaged extension (dist/model-canary.vsix) in a real VS Code (code-server) driven by Chromium.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { ensureCodeServer, lightTheme, requireVsix, startCodeServer } from './codeServer';
import { launchChromium, sleep, Workbench } from './workbench';
import { dumpOnFailure } from './diagnostics';

describe('Model Canary in code-server (packaged VSIX)', function () {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench | undefined;

  const workbench = (): Workbench => {
    assert.ok(wb, 'the workbench did not open (see the "before all" hook failure)');
    return wb;
  };

  before(async function () {
    this.timeout(20 * 60_000); // a cold install of code-server takes a few minutes
    const install = ensureCodeServer(); // throws with the fix when code-server or chromium is missing
    const vsix = requireVsix();
    // The doctor test below needs no Docker daemon to reach, whether or not dockerd runs on this
    // machine: code-server (and so the extension's docker commands) gets a DOCKER_HOST socket
    // that does not exist.
    const savedHost = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${path.join(os.tmpdir(), `mc-no-docker-${process.pid}.sock`)}`;
    try {
      server = await startCodeServer({ install, vsix: [vsix] });
    } finally {
      if (savedHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = savedHost;
    }
    browser = await launchChromium(install.chromium);
    wb = await Workbench.open(browser, server);
    await wb.screenshot('00-workbench');
  });

  afterEach(async function () {
    await dumpOnFailure(this, wb, server);
  });

  after(async function () {
    await wb?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
  });

  it('has the Model Canary container in the activity bar', async function () {
    const item = workbench().activityBarItem('Model Canary');
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await workbench().screenshot('01-activity-bar');
  });

  it('shows the Environments, Models and Experiments views', async function () {
    const w = workbench();
    await w.openViewContainer('Model Canary');
    for (const title of ['Environments', 'Models', 'Experiments']) {
      await w.pane(title).waitFor({ state: 'visible', timeout: 30_000 });
    }
    const titles = (await w.paneTitles()).map((t) => t.toLowerCase());
    for (const title of ['environments', 'models', 'experiments'])
      assert.ok(titles.includes(title), `${title} in [${titles.join(', ')}]`);
    await w.screenshot('02-model-canary-views');
  });

  it('lists the sample model versions in the Models view', async function () {
    const w = workbench();
    for (const version of ['propensity-v1', 'propensity-v2', 'propensity-v3']) {
      await w.findTreeItem('Models', version);
    }
    await w.screenshot('03-models');
  });

  it('lists the sample experiment in the Experiments view', async function () {
    const w = workbench();
    await w.findTreeItem('Experiments', 'propensity');
    await w.screenshot('04-experiments');
  });

  it('reports the missing Docker daemon from "Model Canary: Run Doctor"', async function () {
    const w = workbench();
    await w.runCommand('Model Canary: Run Doctor');
    const text = await w.waitForNotification(/docker/i, 60_000);
    assert.match(text, /Docker is not running/);
    await sleep(1500); // let the doctor's progress toast fade out
    await w.screenshot('05-doctor-notification');
  });

  it('renders in the light theme too', async function () {
    const w = workbench();
    await w.setColorTheme(lightTheme);
    assert.equal(await w.themeKind(), 'light');
    await w.screenshot('06-light-theme');
  });
});
