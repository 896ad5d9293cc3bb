/**
 * Which environment the commands act on — local processes, the local kind cluster, or a
 * kubeconfig context — and the Runtime for it. The choice is remembered per workspace.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadEngine } from './engine';
import type { Runtime } from '../runtime/runtime';
import type { Config } from './config';
import { KubeEnvironmentRuntime, kubeRuntimeOptions, type KubeTarget } from './kubeEnvironment';
import { loadKube } from './kubeLoader';
import type { WorkspaceModel } from './workspaceModel';

export type EnvironmentId = { kind: 'local' } | { kind: 'context'; context: string };

const STATE_KEY = 'modelCanary.environment';

export class Environments implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<EnvironmentId>();
  readonly onDidChange = this.changed.event;
  private cached: { key: string; runtime: Runtime } | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly workspace: WorkspaceModel,
  ) {}

  get current(): EnvironmentId {
    return this.context.workspaceState.get<EnvironmentId>(STATE_KEY) ?? { kind: 'local' };
  }

  /** The environment in the user's words. */
  label(env: EnvironmentId = this.current): string {
    return env.kind === 'local' ? 'local processes' : env.context;
  }

  async select(env: EnvironmentId): Promise<void> {
    await this.context.workspaceState.update(STATE_KEY, env);
    this.cached = undefined;
    this.changed.fire(env);
  }

  /** The workspace folder the local environment runs from: the one holding the models. */
  workspaceRoot(): string {
    const scans = this.workspace.current;
    const withModels = scans.find((s) => s.models.length > 0) ?? scans[0];
    const root = withModels?.root ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!root) throw new Error('open a folder with model versions (model-settings.json) first');
    return root;
  }

  /** The Runtime of the current environment. */
  runtime(): Runtime {
    const env = this.current;
    const settings = this.config.settings;
    const key = JSON.stringify([
      env,
      this.workspaceRoot(),
      settings,
      env.kind === 'context' ? kubeconfigStamp() : '',
    ]);
    if (this.cached?.key === key) return this.cached.runtime;
    const runtime = env.kind === 'local' ? this.localRuntime() : this.kubeRuntime(env.context);
    this.cached = { key, runtime };
    return runtime;
  }

  private localRuntime(): Runtime {
    const settings = this.config.settings;
    return new (loadEngine().ProcessRuntime)({
      workspace: this.workspaceRoot(),
      // dist/extension.js and dist/router.js sit side by side in the package.
      routerScript: join(__dirname, 'router.js'),
      cacheDir: this.context.globalStorageUri.fsPath,
      python: settings.pythonPath || undefined,
      routerPort: settings.routerPort,
    });
  }

  // The Kubernetes runtime comes from dist/kube.js, loaded on first use (client-node stays out of activation).
  private kubeRuntime(context: string): KubeEnvironmentRuntime {
    const kube = loadKube();
    const settings = this.config.settings;
    const kc = kube.loadKubeConfig();
    const known = kube.listContexts(kc).find((c) => c.name === context);
    if (!known)
      throw new Error(
        `the kubeconfig has no context "${context}" any more (read from ${kube.kubeconfigPaths().join(', ')}) — pick another one with Model Canary: Select Environment`,
      );
    const platform = kube.isKindContext(kc, context) ? 'kind' : 'remote';
    const options = kubeRuntimeOptions({
      context,
      platform,
      workspace: this.workspaceRoot(),
      routerScript: join(__dirname, 'router.js'),
      settings,
    });
    const target: KubeTarget = {
      context,
      server: known.server,
      platform,
      namespace: options.namespace ?? settings.kubeNamespace,
      modelUriBase: options.modelUriBase,
    };
    const probe = async () => {
      const res = await kube.kubeRequest(kc, context, '/version', { timeoutMs: 5_000 });
      return res.status === 200
        ? { ok: true as const }
        : { ok: false as const, status: res.status, cause: kube.statusMessage(res) };
    };
    return new KubeEnvironmentRuntime(new kube.KubeRuntime({ ...options, kubeconfig: kc }), target, probe);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Changes when a kubeconfig file changes (new credentials, contexts), so the runtime is built again. */
function kubeconfigStamp(): string {
  return loadKube()
    .kubeconfigPaths()
    .map((file) => {
      try {
        return `${file}@${statSync(file).mtimeMs}`;
      } catch {
        return `${file}@-`;
      }
    })
    .join(',');
}
