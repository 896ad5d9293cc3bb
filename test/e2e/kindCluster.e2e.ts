// A real kind cluster from the palette, once, in code-server with the packaged VSIX: Create kind
// Cluster (the offline node image through the setting modelCanary.kind.nodeImage; the workspace
// mounted; the router's NodePort on 127.0.0.1), Select It, Start Environment and Deploy Experiment
// on real Pods, and the Environments view shows the cluster running. The cluster tier
// (test/cluster) covers the rest of the loop through the CLI.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort } from '../harness/clusterCli';
import { clusterContainers, loadImages, offlineNodeImage, removeLeftoverClusters } from '../harness/kindNode';
import { stackImages } from '../harness/kindPods';
import { kindBinary } from '../harness/tools';
import { ensureCodeServer, requireVsix, startCodeServer, type CodeServer } from './codeServer';
import { dumpOnFailure } from './diagnostics';
import { launchChromium, waitFor, Workbench } from './workbench';

const CLUSTER = 'mc-e2e';
const CONTEXT = `kind-${CLUSTER}`;
const TREE_LABEL = `kind: ${CLUSTER}`;

describe('Create kind Cluster and Deploy Experiment from the palette (real kind cluster)', function () {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let wb: Workbench | undefined;
  let dir = '';
  let broken: string | undefined;
  const savedKubeconfig = process.env.KUBECONFIG;
  const workbench = (): Workbench => {
    assert.ok(wb, 'the workbench did not open (see the "before all" hook failure)');
    return wb;
  };

  before(async function () {
    this.timeout(20 * 60_000);
    const image = offlineNodeImage();
    removeLeftoverClusters([CLUSTER]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-e2e-kind-'));
    process.env.KUBECONFIG = path.join(dir, 'kubeconfig'); // kind writes it; the extension reads it
    delete process.env.DOCKER_HOST;
    const install = ensureCodeServer();
    server = await startCodeServer({
      install,
      vsix: [requireVsix()],
      settings: {
        'modelCanary.kind.path': kindBinary(),
        'modelCanary.kind.clusterName': CLUSTER,
        'modelCanary.kind.nodeImage': image,
        'modelCanary.router.port': await freePort(),
        'modelCanary.refreshIntervalSeconds': 2,
      },
    });
    const launched = await launchChromium(install.chromium);
    browser = launched;
    wb = await Workbench.open(launched, server);
  });

  beforeEach(function () {
    if (broken != null) this.skip();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') broken ??= this.currentTest.title;
    await dumpOnFailure(this, wb, server);
  });

  after(async function () {
    this.timeout(5 * 60_000);
    await wb?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server?.stop();
    removeLeftoverClusters([CLUSTER]);
    assert.deepEqual(clusterContainers(CLUSTER), [], 'no container of the cluster is left');
    if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = savedKubeconfig;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Create kind Cluster creates the cluster, and Select It makes it the environment', async function () {
    this.timeout(10 * 60_000);
    const w = workbench();
    await w.openViewContainer('Model Canary');
    await w.clearNotifications();
    await w.runCommand('Model Canary: Create kind Cluster');
    const text = await w.waitForNotification(
      new RegExp(`kind cluster ready — context ${CONTEXT}`),
      8 * 60_000,
    );
    assert.match(text, new RegExp(CONTEXT));
    const toast = w.page.locator('.notifications-toasts .notification-toast', {
      hasText: 'kind cluster ready',
    });
    await toast.first().locator('.monaco-button', { hasText: 'Select It' }).click({ timeout: 10_000 });
    // The tree names it by the cluster (`kind: mc-e2e`); the status bar by its context.
    await waitFor(
      async () => /stopped/.test(await w.treeItemDescription('Environments', TREE_LABEL)),
      `the Environments view did not show ${TREE_LABEL}`,
      60_000,
    );
    // No registry here: the stack's images go into the node as `kind load docker-image` puts them.
    loadImages(CLUSTER, stackImages());
    await w.screenshot('kind-01-created');
  });

  it('Start Environment and Deploy Experiment run real Pods; the Environments view shows the cluster running', async function () {
    this.timeout(10 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Start Environment');
    await w.waitForOutcome(new RegExp(`environment on ${CONTEXT} running`), 'Start Environment', 5 * 60_000);
    await w.clearNotifications();
    await w.runCommand('Model Canary: Deploy Experiment');
    const text = await w.waitForOutcome(/propensity is live at/, 'Deploy Experiment', 5 * 60_000);
    assert.match(text, /propensity is live at http:\/\/127\.0\.0\.1:\d+\/v2\/models\/propensity\/infer/);
    await waitFor(
      async () => /running/.test(await w.treeItemDescription('Environments', TREE_LABEL)),
      `the Environments view did not show ${CONTEXT} running`,
      120_000,
    );
    await w.screenshot('kind-02-deployed');
  });
});
