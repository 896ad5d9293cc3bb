// The session kubeContext.e2e.ts runs in: a real kube-apiserver (+ etcd) and a stand-in deployment
// controller as the cluster, named under three contexts by three KUBECONFIG files (staging-cluster,
// prod-east — the same API server, a protected name — and offline-cluster, a closed port); the
// packaged VSIX in code-server; and the steps the suite takes in the workbench more than once.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import { parse } from 'yaml';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { loadKubeConfig, readLive } from '../../src/kube';
import { ROUTER_CONFIG_KEY, stackNames } from '../../src/manifests';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { fakeDeploymentController } from '../harness/kubeFakeController';
import type { CodeServer } from './codeServer';
import { ensureCodeServer, freePort, requireVsix, startCodeServer } from './codeServer';
import { launchChromium, waitFor, Workbench } from './workbench';

export const STAGING = 'staging-cluster';
export const PROD = 'prod-east';
export const OFFLINE = 'offline-cluster';
export const NS = 'mc-e2e';
export const EXPERIMENT = 'propensity';
export const MODEL_URI_BASE = 'https://models.example.com/sample-models';
export const MODEL_URI_SETTING = 'modelCanary.kubernetes.modelUriBase';

const names = stackNames();

export class KubeContextSession {
  api: KubeApiServer | undefined;
  kc!: KubeConfig;
  controller: { stop(): Promise<void> } | undefined;
  server: CodeServer | undefined;
  browser: Browser | undefined;
  wb: Workbench | undefined;
  kubeDir = '';
  private readonly savedKubeconfig = process.env.KUBECONFIG;

  readonly workbench = (): Workbench => {
    assert.ok(this.wb, 'the workbench did not open (see the "before all" hook failure)');
    return this.wb;
  };

  /** A live object of the stack in the test namespace, read with the project's own kube functions. */
  readonly live = (apiVersion: string, kind: string, name: string) =>
    readLive<KubernetesObject>(this.kc, STAGING, { apiVersion, kind, metadata: { name, namespace: NS } });

  readonly routerObjects = async () => ({
    statefulSet: await this.live('apps/v1', 'StatefulSet', names.router),
    service: await this.live('v1', 'Service', names.router),
    configMap: await this.live('v1', 'ConfigMap', names.routerConfig),
  });

  /** The dashboard header's configured split ("v1 95% · v2 5% · v3 shadow"), once it matches `want`. */
  readonly dashboardSplit = async (want: RegExp, timeoutMs = 60_000): Promise<string> => {
    let last = '';
    return waitFor(
      async () => {
        last = await (
          await this.workbench().dashboardFrame(EXPERIMENT)
        )
          .$eval('.mc-header .mc-split', (e) => e.textContent ?? '')
          .catch(() => last);
        return want.test(last) ? last : undefined;
      },
      `the dashboard did not show the split ${String(want)} (it shows "${last}")`,
      timeoutMs,
    );
  };

  /** The weights of EXPERIMENT in the router ConfigMap the cluster holds. */
  readonly configMapWeights = async (): Promise<Record<string, number>> => {
    const cm = (await this.live('v1', 'ConfigMap', names.routerConfig)) as V1ConfigMap | undefined;
    const config = parse(cm?.data?.[ROUTER_CONFIG_KEY] ?? '{}') as RouterConfigInput;
    const entry = config.experiments?.find((e) => e.name === EXPERIMENT);
    return Object.fromEntries((entry?.variants ?? []).map((v) => [v.name, v.weight]));
  };

  /**
   * What a user does after Deploy said which setting is missing: Open Settings on that notification,
   * narrow the Settings editor to the setting and type the URL. (The Settings editor writes
   * settings.json and reloads the configuration itself; code-server does not notice a settings.json
   * written behind its back.)
   */
  readonly setModelUriBaseFromTheFailure = async () => {
    const w = this.workbench();
    const toast = w.page.locator('.notifications-toasts .notification-toast', { hasText: MODEL_URI_SETTING });
    await toast.first().locator('.monaco-button', { hasText: 'Open Settings' }).click({ timeout: 10_000 });
    const editor = w.page.locator('.settings-editor');
    await editor.waitFor({ state: 'visible', timeout: 30_000 });
    await editor.locator('.settings-header .monaco-editor').first().click();
    await w.page.keyboard.press('Control+A');
    await w.page.keyboard.type(MODEL_URI_SETTING);
    const input = editor
      .locator('.setting-item-contents', { hasText: /Model Uri Base/i })
      .first()
      .locator('.setting-item-control input')
      .first();
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill(MODEL_URI_BASE);
    await w.page.keyboard.press('Tab');
    const file = path.join(this.server!.userDataDir, 'User', 'settings.json');
    await waitFor(
      async () => (fs.readFileSync(file, 'utf8').includes(MODEL_URI_BASE) ? true : undefined),
      `the Settings editor did not write ${MODEL_URI_SETTING} to ${file}`,
      30_000,
    );
  };

  readonly selectEnvironment = async (context: string) => {
    const w = this.workbench();
    await w.runCommand('Model Canary: Select Environment');
    await w.pickQuickInputItem(context, `Select Environment did not offer ${context}`);
    await waitFor(
      async () => /● selected/.test(await w.treeItemDescription('Environments', context)),
      `the Environments view did not mark ${context} selected`,
    );
  };

  /** Types into the open quick input (an input box) and accepts it. */
  readonly typeIntoInput = async (text: string) => {
    const input = this.workbench().page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill(text);
    await this.workbench().page.keyboard.press('Enter');
  };

  /** Starts the API server and the controller, writes the KUBECONFIG files, starts code-server, opens the workbench. */
  async open(): Promise<void> {
    const install = ensureCodeServer();
    const vsix = requireVsix();
    const api = await startKubeApiServer();
    this.api = api;
    this.kubeDir = fs.mkdtempSync(path.join(path.dirname(api.dir), 'model-canary-e2e-kubeconfig-'));
    // Three files, as KUBECONFIG=a:b:c: the extension merges them the way kubectl does.
    const closedPort = await freePort();
    const files = {
      [STAGING]: api.kubeconfigFor(STAGING, 'staging', 'staging-admin'),
      [PROD]: api.kubeconfigFor(PROD, 'prod-east', 'prod-admin'),
      [OFFLINE]: api
        .kubeconfigFor(OFFLINE, 'offline', 'offline-admin')
        .replace(api.url, `https://127.0.0.1:${closedPort}`),
    };
    const paths = Object.entries(files).map(([name, text]) => {
      const file = path.join(this.kubeDir, `${name}.yaml`);
      fs.writeFileSync(file, text, { mode: 0o600 });
      return file;
    });
    const kubeconfig = paths.join(path.delimiter);
    this.kc = loadKubeConfig({ KUBECONFIG: kubeconfig });
    this.controller = fakeDeploymentController(this.kc, STAGING, NS);
    process.env.KUBECONFIG = kubeconfig; // code-server, and so the extension host, inherit it
    const server = await startCodeServer({
      install,
      vsix: [vsix],
      settings: { 'modelCanary.kubernetes.namespace': NS, 'modelCanary.refreshIntervalSeconds': 2 },
    });
    this.server = server;
    this.browser = await launchChromium(install.chromium);
    this.wb = await Workbench.open(this.browser, server);
    console.log(`    [e2e] workspace ${server.folder}, kube-apiserver ${api.url}, KUBECONFIG ${kubeconfig}`);
  }

  /** Stops everything `open` started, and `cluster` (the router stand-ins) if a step left it running. */
  async close(cluster: { stop(): Promise<void> } | undefined): Promise<void> {
    if (this.savedKubeconfig === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = this.savedKubeconfig;
    await this.wb?.close().catch(() => undefined);
    await this.browser?.close().catch(() => undefined);
    await this.server?.stop();
    await cluster?.stop();
    await this.controller?.stop();
    await this.api?.stop();
    if (this.kubeDir) fs.rmSync(this.kubeDir, { recursive: true, force: true });
  }
}
