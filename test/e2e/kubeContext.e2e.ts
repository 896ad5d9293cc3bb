// A kubeconfig context as the environment, in a real VS Code (code-server) with the packaged VSIX:
// a real kube-apiserver (+ etcd) and a stand-in deployment controller play the cluster, and
// KUBECONFIG (three files, merged as kubectl does) names it under three contexts — staging-cluster,
// prod-east (the same API server, a protected name) and offline-cluster (a closed port). From the
// palette: Select Environment → staging-cluster, Start Environment (the router's Deployment,
// Service and ConfigMap appear in the API server, the Environments view shows the router), Deploy
// without a model URI base (the error names the setting); then, with the setting written to
// settings.json and the router stand-ins running (test/harness/kubeRouterStandIn.ts: the real
// router process watching its ConfigMap, a kubelet copying the experiment files late, a Pod and an
// EndpointSlice for the service proxy), Deploy Experiment (the model servers appear in the API
// server, the Experiments view shows the experiment live), Open Dashboard (the cluster router's
// report: 95/5 and the shadow), Set Traffic Split v1=80 v2=20 (the router ConfigMap, the router and
// the dashboard follow); Stop Environment (they are gone); offline-cluster shows why it cannot be
// read; Promote to Cluster… prod-east with the diff editor and the typed confirmation; Export
// Manifests… through code-server's folder input.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Report } from '../../src/shared/report';
import { listObjects } from '../../src/kube';
import { stackNames } from '../../src/manifests';
import { hostAddress, kubeRouterStandIn, type KubeRouterStandIn } from '../harness/kubeRouterStandIn';
import { dumpOnFailure } from './diagnostics';
import {
  EXPERIMENT,
  KubeContextSession,
  MODEL_URI_BASE,
  NS,
  OFFLINE,
  PROD,
  STAGING,
} from './kubeContextSession';
import { sleep, waitFor } from './workbench';

const PROMOTED_FROM = 'modelcanary.dev/promoted-from';

describe('Model Canary on a kubeconfig context in code-server (packaged VSIX, real kube-apiserver)', function () {
  const session = new KubeContextSession();
  const { workbench, live, routerObjects, dashboardSplit, configMapWeights } = session;
  const { setModelUriBaseFromTheFailure, selectEnvironment, typeIntoInput } = session;
  let cluster: KubeRouterStandIn | undefined;
  let broken: string | undefined;
  const names = stackNames();

  before(async function () {
    this.timeout(20 * 60_000); // a cold install of code-server takes a few minutes
    await session.open();
  });

  beforeEach(function () {
    // The steps build on each other: after a failure the rest is skipped (after() cleans up).
    if (broken != null) this.skip();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      broken ??= this.currentTest.title;
      const out = cluster?.router?.output();
      if (out)
        console.log(`    [e2e] the stand-in router's output (last 3000 characters):\n${out.slice(-3000)}`);
    }
    await dumpOnFailure(this, session.wb, session.server);
  });

  after(async function () {
    this.timeout(60_000);
    await session.close(cluster);
  });

  it('lists the contexts of every KUBECONFIG file and selects staging-cluster', async function () {
    const w = workbench();
    await w.openViewContainer('Model Canary');
    await w.setSideBarWidth(560).catch((err: Error) => console.log(`    [e2e] ${err.message}`));
    await w.findTreeItem('Experiments', EXPERIMENT, 60_000);
    for (const context of [STAGING, PROD, OFFLINE]) await w.findTreeItem('Environments', context);
    await selectEnvironment(STAGING);
    await waitFor(
      async () => /stopped/.test(await w.treeItemDescription('Environments', STAGING)),
      'staging-cluster was not shown stopped before Start Environment',
    );
  });

  it('Start Environment applies the router to the API server and the Environments view shows it', async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Start Environment');
    const text = await workbench().waitForOutcome(
      /environment on staging-cluster running/,
      'Start Environment',
      120_000,
    );
    assert.match(
      text,
      new RegExp(`router at ${session.api!.url}/api/v1/namespaces/${NS}/services/${names.router}:http/proxy`),
    );

    const objects = await routerObjects();
    assert.ok(objects.statefulSet, `StatefulSet ${NS}/${names.router} exists`);
    assert.ok(objects.service, `Service ${NS}/${names.router} exists`);
    assert.ok(objects.configMap, `ConfigMap ${NS}/${names.routerConfig} exists`);
    assert.equal(objects.statefulSet.metadata?.labels?.['app.kubernetes.io/managed-by'], 'model-canary');

    await waitFor(
      async () =>
        /● selected · running · 1\/1 ready · .*namespace mc-e2e$/.test(
          await w.treeItemDescription('Environments', STAGING),
        ),
      'the Environments view did not show staging-cluster running',
    );
    assert.match(await w.treeItemDescription('Environments', 'router'), /router · ready/);
    await w.clearNotifications();
    await w.screenshot('kube-01-started-on-staging');
  });

  it('Deploy Experiment on a remote context without a model URI base says which setting to set', async function () {
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Deploy Experiment');
    const text = await w.waitForNotification(/modelCanary\.kubernetes\.modelUriBase/, 30_000);
    assert.match(text, /staging-cluster cannot see your workspace/);
    await w.screenshot('kube-02-deploy-needs-model-uri-base');
    const servers = await listObjects(session.kc, STAGING, 'apps/v1', 'Deployment', NS);
    assert.deepEqual(
      servers.map((d) => d.metadata?.name),
      [],
      'no model server was applied',
    );
  });

  it('Deploy Experiment with a model URI base: the model servers in the API server, the experiment live in the Experiments view', async function () {
    this.timeout(5 * 60_000);
    if (!hostAddress()) this.skip(); // the API server's service proxy does not reach loopback addresses
    const w = workbench();
    // What the cluster would run: the router process (its ConfigMap seen with this machine's paths
    // and port), a kubelet copying the experiment files late, the router's Pod and EndpointSlice.
    cluster = await kubeRouterStandIn({
      kc: session.kc,
      context: STAGING,
      namespace: NS,
      api: session.api!,
      dir: path.join(session.kubeDir, 'router-stand-in'),
      paths: 'pod',
    });
    await cluster.startRouter();
    await setModelUriBaseFromTheFailure();
    await w.screenshot('kube-03-model-uri-base-setting');
    await w.runCommand('View: Close All Editors');

    await w.clearNotifications();
    await w.runCommand('Model Canary: Deploy Experiment');
    const text = await workbench().waitForOutcome(
      new RegExp(`${EXPERIMENT} is live at`),
      'Deploy Experiment',
      180_000,
    );
    assert.match(
      text,
      new RegExp(
        `${EXPERIMENT} is live at ${session.api!.url}/api/v1/namespaces/${NS}/services/${names.router}:http/proxy/v2/models/${EXPERIMENT}/infer`,
      ),
    );
    assert.ok(cluster.syncs >= 1, 'the kubelet stand-in copied the experiment files');
    assert.match(cluster.router!.output(), new RegExp(`new experiment on /v2/models/${EXPERIMENT}/infer`));

    const deployments = await listObjects(session.kc, STAGING, 'apps/v1', 'Deployment', NS);
    assert.deepEqual(deployments.map((d) => d.metadata?.name).sort(), [
      'propensity-v1',
      'propensity-v2',
      'propensity-v3',
    ]);
    const v2 = deployments.find((d) => d.metadata?.name === 'propensity-v2');
    assert.match(JSON.stringify(v2), /https:\/\/models\.example\.com\/sample-models\/propensity-v2/);

    await waitFor(
      async () => /live/.test(await w.treeItemDescription('Experiments', EXPERIMENT)),
      'the Experiments view did not show propensity live',
      60_000,
    );
    await waitFor(
      async () =>
        /propensity-v2 · weight 5 · observed/.test(await w.treeItemDescription('Experiments', /^\s*v2 \(/)),
      "the Experiments view did not show v2's live weight",
      30_000,
    );
    await w.clearNotifications();
    await w.screenshot('kube-04-deployed-on-staging');
  });

  it("Open Dashboard shows the report of the cluster's router", async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Open Dashboard');
    await dashboardSplit(/^v1 95% · v2 5% · v3 shadow$/);
    const env = await (
      await workbench().dashboardFrame(EXPERIMENT)
    ).$eval('.mc-header .mc-env', (e) => e.textContent ?? '');
    assert.match(env, new RegExp(STAGING));
    // What the dashboard shows is the router's own report: the experiment file reached it through
    // the experiments ConfigMap (its guardrails are in the report).
    const res = await fetch(`http://127.0.0.1:${cluster!.port}/api/v1/experiments/${EXPERIMENT}/report`);
    const report = (await res.json()) as Report;
    assert.deepEqual(
      report.variants.map((v) => [v.name, v.weight]),
      [
        ['v1', 95],
        ['v2', 5],
      ],
    );
    assert.ok(report.guardrails.length > 0, JSON.stringify(report.guardrails));
    await w.clearNotifications();
    await w.screenshot('kube-05-dashboard-from-the-cluster');
  });

  it('Set Traffic Split v1=80 v2=20: the router ConfigMap, the router and the dashboard follow', async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Set Traffic Split');
    await typeIntoInput('v1=80 v2=20');
    await waitFor(
      async () => {
        const weights = await configMapWeights();
        return weights.v1 === 80 && weights.v2 === 20 ? true : undefined;
      },
      'the router ConfigMap did not get v1=80 v2=20',
      60_000,
    );
    let seen = '';
    const routerWeights = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${cluster!.port}/api/v1/experiments/${EXPERIMENT}/weights`);
        seen = await res.text();
        const body = JSON.parse(seen) as { weights: Record<string, number> };
        return body.weights.v1 === 80 && body.weights.v2 === 20 ? body.weights : undefined;
      },
      'the router did not apply v1=80 v2=20',
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it answers ${seen}`);
    });
    assert.deepEqual(routerWeights, { v1: 80, v2: 20 });
    await dashboardSplit(/^v1 80% · v2 20% · v3 shadow$/);
    await waitFor(
      async () => /weight 20 · observed/.test(await w.treeItemDescription('Experiments', /^\s*v2 \(/)),
      'the Experiments view did not show v2 at 20',
      30_000,
    );
    await w.clearNotifications();
    await w.screenshot('kube-06-split-80-20');
    await w.runCommand('View: Close All Editors').catch(() => undefined);
  });

  it('Stop Environment deletes the router objects', async function () {
    this.timeout(2 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Stop Environment');
    await workbench().waitForOutcome(/environment on staging-cluster stopped/, 'Stop Environment', 60_000);
    // The cluster's part goes with it: the router process, its Pod and EndpointSlice.
    await cluster?.stop();
    cluster = undefined;
    const objects = await routerObjects();
    assert.equal(objects.statefulSet, undefined, 'the router StatefulSet is gone');
    assert.equal(objects.service, undefined, 'the router Service is gone');
    assert.equal(objects.configMap, undefined, 'the router ConfigMap is gone');
    await waitFor(
      async () => /● selected · stopped/.test(await w.treeItemDescription('Environments', STAGING)),
      'the Environments view did not show staging-cluster stopped',
    );
  });

  it('an unreachable context shows why in the Environments view', async function () {
    const w = workbench();
    await selectEnvironment(OFFLINE);
    await waitFor(
      async () => /unreachable/.test(await w.treeItemDescription('Environments', OFFLINE)),
      'offline-cluster was not shown unreachable',
    );
    const row = await w.findTreeItem(
      'Environments',
      /cannot reach the Kubernetes API server of context "offline-cluster"/,
    );
    const label = (await row.locator('.label-name').first().textContent()) ?? '';
    assert.match(label, /https:\/\/127\.0\.0\.1:\d+/);
    assert.match(label, /ECONNREFUSED/);
    assert.match(label, /kubectl --context offline-cluster get namespaces/);
    await w.clearNotifications();
    await w.screenshot('kube-07-unreachable-context');
    await selectEnvironment(STAGING);
  });

  it('Promote to Cluster… prod-east: diff editor, typed confirmation, objects annotated with their source', async function () {
    this.timeout(3 * 60_000);
    const w = workbench();
    await w.clearNotifications();
    await w.runCommand('Model Canary: Promote to Cluster…');
    await w.pickQuickInputItem(PROD, 'Promote to Cluster… did not offer prod-east');
    await w.pickQuickInputItem('canary', 'the plan pick did not offer canary');
    await typeIntoInput(MODEL_URI_BASE);
    // The dry-run diff opens in the diff editor before anything is applied.
    const diffTab = w.page.locator('.tabs-container .tab', { hasText: `Promotion to ${PROD}` });
    await diffTab.first().waitFor({ state: 'visible', timeout: 60_000 });
    await w.page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 30_000 });
    const confirm = w.page.locator('.quick-input-widget');
    await waitFor(
      async () =>
        /prod-east is a protected context/.test((await confirm.textContent().catch(() => '')) ?? ''),
      'no typed confirmation for the protected context',
      30_000,
    );
    assert.equal(
      await live('apps/v1', 'StatefulSet', names.router),
      undefined,
      'nothing applied before the confirmation',
    );
    await w.screenshot('kube-08-promotion-diff-and-confirmation');
    await typeIntoInput(PROD);
    await workbench().waitForOutcome(/promotion to prod-east: applied/, 'Promote to Cluster…', 120_000);

    const deployments = await listObjects(session.kc, PROD, 'apps/v1', 'Deployment', NS);
    assert.deepEqual(deployments.map((d) => d.metadata?.name).sort(), [
      'propensity-v1',
      'propensity-v2',
      'propensity-v3',
    ]);
    for (const d of deployments)
      assert.match(
        d.metadata?.annotations?.[PROMOTED_FROM] ?? '',
        new RegExp(`^${STAGING}/${NS}$`),
        `${d.metadata?.name} records its source`,
      );
    const v2 = deployments.find((d) => d.metadata?.name === 'propensity-v2');
    assert.match(JSON.stringify(v2), /https:\/\/models\.example\.com\/sample-models\/propensity-v2/);
    const config = await live('v1', 'ConfigMap', names.routerConfig);
    assert.match(JSON.stringify(config), /weight: 95.*weight: 5/s, 'the canary plan: v2 at 5%');
    await w.clearNotifications();
    await w.screenshot('kube-09-promoted');
  });

  it('Export Manifests… writes the stack to a folder picked in code-server', async function () {
    const w = workbench();
    const out = path.join(session.server!.folder, 'exported');
    fs.mkdirSync(out);
    await w.clearNotifications();
    await w.runCommand('Model Canary: Export Manifests…');
    await w.pickQuickInputItem('builtin', 'Export Manifests… did not offer builtin');
    await typeIntoInput(MODEL_URI_BASE);
    // code-server has no native dialog: VS Code's own folder input opens (a path in a quick input).
    const input = w.page.locator('.quick-input-widget input');
    await waitFor(
      async () => ((await input.inputValue().catch(() => '')) || '').startsWith('/'),
      'no folder input for the export',
      30_000,
    );
    await w.screenshot('kube-10-export-folder-input');
    await input.fill(`${out}/`);
    await sleep(500);
    await w.page.keyboard.press('Enter');
    const text = await workbench().waitForOutcome(/wrote \d+ file\(s\) to /, 'Export Manifests…', 60_000);
    assert.match(text, new RegExp(`to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const written = fs.readdirSync(out, { recursive: true }).map(String);
    assert.ok(written.length > 0, 'files were written');
    const all = written
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => fs.readFileSync(path.join(out, f), 'utf8'))
      .join('\n');
    assert.match(all, /kind: Deployment/);
    assert.match(all, /propensity-v2/);
  });
});
