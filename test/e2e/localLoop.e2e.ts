// The whole local loop in a real VS Code (code-server) with the packaged VSIX, from the command
// palette: start the local environment (MLServer processes + the router), deploy the sample
// experiment, simulate traffic, read the dashboard (charts, A/B table, verdict), change the split
// from the dashboard, simulate again and watch v2's observed share move, check that free text from
// the workspace reaches the dashboard as text only, take the README screenshots, and stop.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { darkTheme, lightTheme, repoRoot } from './codeServer';
import { abRows, chartPixels, legendShare, probeCharts } from './dashboardProbes';
import { dumpOnFailure } from './diagnostics';
import { alive, environmentProcesses, LocalLoopSession } from './localLoopSession';
import {
  localLoopSteps,
  PROBE,
  simulatedCounts,
  writeMarkupProbe,
  XSS_METRIC,
  XSS_REFERENCE,
} from './localLoopSteps';
import { screenshotPath, sleep, waitFor } from './workbench';

const EXPERIMENT = 'propensity';
const MEDIA = path.join(repoRoot, 'media', 'screenshots');

describe('Model Canary local loop in code-server (packaged VSIX)', function () {
  const loop = new LocalLoopSession();
  const { workbench, root, dialogs } = loop;
  const {
    timed,
    chartsDrawn,
    simulate,
    treeShare,
    shot,
    dashboardScreenshot,
    modelsViewScreenshot,
    currentRunReport,
  } = localLoopSteps(workbench, EXPERIMENT, loop.timings);
  let broken: string | undefined;
  /** v2's observed share and requests after the first simulation. */
  let first: { share: number; requests: number } | undefined;

  before(async function () {
    this.timeout(20 * 60_000); // a cold install of code-server takes a few minutes
    await loop.open();
  });

  beforeEach(function () {
    // The steps build on each other: after a failure the rest is skipped (after() cleans up).
    if (broken != null) this.skip();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      broken ??= this.currentTest.title;
      loop.printLogTails();
    }
    await dumpOnFailure(this, loop.wb, loop.server);
  });

  after(async function () {
    this.timeout(60_000);
    await loop.close();
  });

  it('starts the local environment from the palette', async function () {
    this.timeout(10 * 60_000); // the first start creates the MLServer venv with pip
    const w = workbench();
    await w.openViewContainer('Model Canary');
    // Wide enough for the tree descriptions ("propensity-v2 · weight 5 · observed 5.1% · continue").
    await w.setSideBarWidth(480).catch((err: Error) => console.log(`    [e2e] ${err.message}`));
    await w.findTreeItem('Experiments', EXPERIMENT, 60_000);
    await w.clearNotifications();
    await timed('start local environment (incl. MLServer venv)', async () => {
      await w.runCommand('Model Canary: Start Environment');
      const text = await workbench().waitForOutcome(
        /local environment running/,
        'Start Environment',
        9 * 60_000,
      );
      assert.match(text, new RegExp(`router at http://127\\.0\\.0\\.1:${loop.routerPort}`));
    });
    const local = await w.treeItemDescription('Environments', 'Local processes');
    await waitFor(
      async () =>
        /running/.test(await w.treeItemDescription('Environments', 'Local processes')) ? true : undefined,
      `the Environments view did not say running (it says "${local}")`,
    );
  });

  it('deploys the experiment', async function () {
    this.timeout(5 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await timed('deploy experiment (3 MLServer processes)', async () => {
      await w.runCommand('Model Canary: Deploy Experiment');
      await workbench().waitForOutcome(
        new RegExp(`${EXPERIMENT} is live at`),
        'Deploy Experiment',
        4 * 60_000,
      );
    });
    for (const model of ['propensity-v1', 'propensity-v2', 'propensity-v3']) {
      await waitFor(
        async () => /deployed · ready/.test(await w.treeItemDescription('Models', model)),
        `the Models view did not show ${model} deployed and ready`,
        60_000,
      );
    }
  });

  it('simulates 1000 requests without drift', async function () {
    this.timeout(4 * 60_000);
    const text = await timed('simulate 1000 requests (95/5)', () => simulate('1000'));
    assert.match(text, /, 0 errors/, text);
    const counts = simulatedCounts(text);
    assert.ok(counts.v1 !== undefined && counts.v2 !== undefined, `per-variant counts in "${text}"`);
    assert.ok(counts.v2 < 150, `v2 got ${counts.v2} of 1000 at a weight of 5: ${text}`);
    const share = await waitFor(
      async () => {
        const s = await treeShare('v2');
        return s && s.observed > 0 ? s : undefined;
      },
      'the Experiments view did not show v2 with an observed share',
      60_000,
    );
    assert.equal(share.weight, 5);
    assert.ok(share.observed < 0.15, `v2 observed ${share.observed}`);
  });

  it("lists the deploy's run under Experiments › Runs; clicking it shows that run's report", async function () {
    this.timeout(2 * 60_000);
    const text = await currentRunReport();
    assert.match(text, new RegExp(`${EXPERIMENT} — run \\S+ \\(deploy [^]*v1\\s+baseline`), text);
  });

  it('opens the dashboard: charts drawn, A/B rows for v1 and v2, a verdict', async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await timed('open dashboard and wait for charts', async () => {
      await w.runCommand('Model Canary: Open Dashboard');
      await chartsDrawn('traffic', 90_000);
    });
    const charts = await probeCharts(await workbench().dashboardFrame(EXPERIMENT));
    console.log(`    [e2e] chart pixels in v1/v2 colours (longest runs): ${chartPixels(charts)}`);
    assert.deepEqual(
      charts.map((c) => c.kind),
      ['traffic', 'latency', 'errors'],
    );
    if ((charts.find((c) => c.kind === 'latency')?.series[1] ?? 0) < 50)
      console.log(
        '    [e2e] note: no latency line yet — the 1000 requests fit in one 10 s timeline bucket, ' +
          'and a one-point line is not drawn (point radius 0)',
      );
    for (const c of charts) assert.deepEqual(c.legend, ['v1', 'v2'], `${c.kind} legend`);

    const rows = await waitFor(async () => {
      const r = await abRows(await workbench().dashboardFrame(EXPERIMENT));
      return r.length >= 2 && r.every((x) => x.requests > 0) ? r : undefined;
    }, 'the A/B table has no rows with requests');
    assert.deepEqual(
      rows.map((r) => r.variant),
      ['v1', 'v2'],
    );
    assert.deepEqual(
      rows.map((r) => r.model),
      ['propensity-v1', 'propensity-v2'],
    );
    const v2 = rows.find((r) => r.variant === 'v2')!;
    const share = await legendShare(await workbench().dashboardFrame(EXPERIMENT), 'v2');
    assert.ok(share !== undefined && share > 0 && share < 0.15, `v2's observed share ${share}`);
    first = { share, requests: v2.requests };

    const verdict = await (
      await workbench().dashboardFrame(EXPERIMENT)
    ).$$eval('.mc-verdict-line', (lines) => lines.map((l) => (l.textContent ?? '').trim()));
    assert.ok(verdict.length > 0 && verdict.every((t) => t.length > 0), `verdict ${JSON.stringify(verdict)}`);
    assert.ok(
      verdict.some((t) => /^v2|v2/.test(t)),
      `the verdict speaks about v2: ${JSON.stringify(verdict)}`,
    );
    const header = await (
      await workbench().dashboardFrame(EXPERIMENT)
    ).$eval('.mc-header', (e) => e.textContent ?? '');
    assert.match(header, /local processes/);
  });

  it('takes the dark-theme screenshots of the trees and the dashboard', async function () {
    this.timeout(2 * 60_000);
    const w = workbench();
    assert.equal(await w.themeKind(), 'dark');
    await w.findTreeItem('Experiments', /^\s*v2 \(/);
    await shot('10-trees-dark');
    await dashboardScreenshot('11-dashboard-dark', 'traffic');
  });

  it('sets the split to 50/50 from the dashboard; the next 1000 requests move v2 up', async function () {
    this.timeout(4 * 60_000);
    assert.ok(first, 'the dashboard step did not record v2 before the change');
    let frame = await workbench().dashboardFrame(EXPERIMENT);
    await frame.locator('vscode-button', { hasText: /^\s*Set split\s*$/ }).click();
    const range = frame.locator('input.mc-range[aria-label="weight of v2 in percent"]');
    await range.waitFor({ state: 'visible', timeout: 15_000 });
    await range.fill('50');
    await waitFor(
      async () => {
        const values = await frame.$$eval('.mc-split-row', (rows) =>
          rows.map((r) => (r.textContent ?? '').replace(/\s+/g, ' ').trim()),
        );
        return values.some((v) => /^v2.*50%$/.test(v)) && values.some((v) => /^v1.*50%$/.test(v));
      },
      'the split editor did not show v1 50% and v2 50%',
      10_000,
    );
    await shot('12-dashboard-split-editor');
    await frame.locator('vscode-button', { hasText: /^\s*Apply/ }).click();
    const confirm = frame.locator('.mc-controls');
    await waitFor(
      async () => /Change the split\?/.test((await confirm.textContent()) ?? ''),
      'no confirmation step after Apply',
      10_000,
    );
    assert.match((await confirm.textContent()) ?? '', /from v1 95% · v2 5% to v1 50% · v2 50%/);
    await shot('13-dashboard-split-confirm');
    await frame.locator('vscode-button', { hasText: /^\s*Confirm\s*$/ }).click();
    await frame.locator('.mc-toast-ok').waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(
      (await frame.locator('.mc-toast-ok').textContent()) ?? '',
      /^split set: (?=.*\bv1=50\b)(?=.*\bv2=50\b)/,
    );
    await waitFor(
      async () => (await treeShare('v2'))?.weight === 50,
      'the Experiments view did not show v2 at weight 50',
      30_000,
    );
    frame = await workbench().dashboardFrame(EXPERIMENT);
    await waitFor(
      async () => /v1 50% · v2 50%/.test((await frame.locator('.mc-split').textContent()) ?? ''),
      'the dashboard header did not show the new split',
      30_000,
    );

    const text = await timed('simulate 1000 requests over gRPC (50/50)', () => simulate('1000', 'gRPC'));
    assert.match(text, /, 0 errors/, text);
    const v2Count = simulatedCounts(text).v2 ?? 0;
    assert.ok(v2Count > 350, `v2 got ${v2Count} of 1000 at a weight of 50: ${text}`);

    // Observed shares are over the whole experiment: ~5% of 1000, then ~50% of 1000 more → ~27%.
    const after = await waitFor(
      async () => {
        const s = await treeShare('v2');
        return s && s.observed > first!.share + 0.1 ? s : undefined;
      },
      `v2's observed share in the Experiments view did not move up from ${first.share}`,
      60_000,
    );
    console.log(
      `    [e2e] v2 observed share ${(first.share * 100).toFixed(1)}% → ${(after.observed * 100).toFixed(1)}%`,
    );
    await waitFor(
      async () => {
        const f = await workbench().dashboardFrame(EXPERIMENT);
        const share = await legendShare(f, 'v2');
        const v2 = (await abRows(f)).find((r) => r.variant === 'v2' && r.grpc > 300);
        return share !== undefined && share > first!.share + 0.1 && v2 && v2.requests > first!.requests + 300;
      },
      'the dashboard did not show v2 with more requests (over gRPC) and a higher observed share',
      60_000,
    );
    // Two simulations at least 10 s apart: every chart has a line now.
    const charts = await chartsDrawn('all');
    console.log(`    [e2e] chart pixels in v1/v2 colours (longest runs): ${chartPixels(charts)}`);
    // The "weights set" note stays until the next control action: Set split, Cancel clears it.
    frame = await workbench().dashboardFrame(EXPERIMENT);
    await frame.locator('vscode-button', { hasText: /^\s*Set split\s*$/ }).click();
    await frame.locator('.mc-controls vscode-button', { hasText: /^\s*Cancel\s*$/ }).click();
    await frame.locator('.mc-controls').waitFor({ state: 'hidden', timeout: 10_000 });
    await shot('14-trees-after-split-dark');
    const file = await dashboardScreenshot('15-dashboard-after-split-dark', 'all');
    fs.mkdirSync(MEDIA, { recursive: true });
    fs.copyFileSync(file, path.join(MEDIA, 'dashboard-dark.png'));
    // The models view for the README, with the dashboard beside it.
    fs.copyFileSync(await modelsViewScreenshot(), path.join(MEDIA, 'models-view.png'));
  });

  it('takes the light-theme screenshots of the trees and the dashboard', async function () {
    this.timeout(2 * 60_000);
    const w = workbench();
    await w.setColorTheme(lightTheme);
    // The webview follows the theme: its body gets vscode-light and the charts are redrawn.
    await waitFor(
      async () =>
        (await (
          await workbench().dashboardFrame(EXPERIMENT)
        ).$eval('body', (body) => body.classList.contains('vscode-light'))) || undefined,
      'the dashboard did not switch to the light theme',
      20_000,
    );
    await chartsDrawn('all');
    await shot('20-trees-light');
    const file = await dashboardScreenshot('21-dashboard-light', 'all');
    fs.copyFileSync(file, path.join(MEDIA, 'dashboard-light.png'));
    await w.setColorTheme(darkTheme);
  });

  it('shows free text from the workspace in the dashboard as text, never as markup', async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    assert.ok(loop.server);
    // Variant, experiment and model names are DNS labels; the metric name and the drift reference
    // path are free text that the dashboard shows. A second experiment carries markup in both.
    writeMarkupProbe(loop.server.folder, EXPERIMENT);
    await w.findTreeItem('Experiments', PROBE, 60_000);

    await w.clearNotifications();
    await timed('deploy the markup probe', async () => {
      await w.runCommand('Model Canary: Deploy Experiment');
      await w.pickQuickInputItem(PROBE, `the experiment pick did not offer ${PROBE}`).catch(async () => {
        await w.runCommand('Model Canary: Deploy Experiment');
        await w.pickQuickInputItem(PROBE, `the experiment pick did not offer ${PROBE}, twice`);
      });
      await workbench().waitForOutcome(
        new RegExp(`${PROBE} is live at`),
        `Deploy Experiment ${PROBE}`,
        2 * 60_000,
      );
    });
    await w.runCommandWithPicks('Model Canary: Open Dashboard', [
      [PROBE, `the experiment pick did not offer ${PROBE}`],
    ]);
    const texts = await waitFor(
      async () => {
        const f = await workbench().dashboardFrame(PROBE);
        const ab = await f.$eval('.mc-ab h2', (e) => e.textContent ?? '').catch(() => '');
        const drift = await f.$eval('.mc-drift .mc-sub', (e) => e.textContent ?? '').catch(() => '');
        return ab.includes(XSS_METRIC) && drift.includes(XSS_REFERENCE) ? { ab, drift } : undefined;
      },
      'the probe dashboard did not show the metric name and the reference path',
      60_000,
    );
    assert.equal(texts.ab, `A/B on ${XSS_METRIC}`);
    const frame = await workbench().dashboardFrame(PROBE);
    const markup = await frame.$eval('body', (body) => ({
      img: body.ownerDocument.querySelectorAll('img').length,
      onerror: body.ownerDocument.querySelectorAll('[onerror]').length,
      html: body.innerHTML.includes('&lt;img src=x onerror='),
    }));
    assert.deepEqual(markup, { img: 0, onerror: 0, html: true }, JSON.stringify(markup));
    for (const f of w.page.frames()) {
      const n = await f.$$eval('img[src="x"], [onerror]', (els) => els.length).catch(() => 0);
      assert.equal(n, 0, `markup from the workspace became elements in ${f.url()}`);
    }
    await sleep(500); // an onerror would fire right after the element loads
    assert.deepEqual(dialogs, []);
    await dashboardScreenshot('30-xss-probe-dashboard', 'no charts', PROBE);
  });

  it('stops the local environment and leaves no mlserver/router processes', async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    const running = environmentProcesses(root());
    assert.ok(
      running.some((p) => /router\.js/.test(p.args)),
      `no router process: ${JSON.stringify(running)}`,
    );
    for (const model of ['propensity-v1', 'propensity-v2', 'propensity-v3'])
      assert.ok(
        running.some((p) => /mlserver/.test(p.args) && p.args.includes(`${path.sep}${model}`)),
        `no MLServer process for ${model}: ${JSON.stringify(running)}`,
      );
    await w.clearNotifications();
    await timed('stop local environment', async () => {
      await w.runCommand('Model Canary: Stop Environment');
      await waitFor(
        async () => environmentProcesses(root()).length === 0,
        'processes of the local environment are still running',
        90_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(environmentProcesses(root()))}`);
      });
    });
    for (const p of running) assert.ok(!alive(p.pid), `pid ${p.pid} still alive: ${p.args}`);
    // The state file goes last, after every process has been stopped.
    await waitFor(
      async () => !fs.existsSync(path.join(loop.server!.folder, '.model-canary', 'state.json')),
      'the state file of the local environment is still there',
      30_000,
    );
    await waitFor(
      async () => /stopped/.test(await w.treeItemDescription('Environments', 'Local processes')),
      'the Environments view did not say stopped',
      30_000,
    );
    const failures = (await w.notificationTexts()).filter((t) => /Open Logs/.test(t));
    assert.deepEqual(failures, []);
    await shot('40-stopped');
    assert.ok(fs.existsSync(screenshotPath('40-stopped')));
  });
});
