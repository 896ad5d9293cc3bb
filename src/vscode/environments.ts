/**
 * Which environment the commands act on — local processes, the local kind cluster, or a
 * kubeconfig context — and the Runtime for it. The choice is remembered per workspace.
 */
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ProcessRuntime } from '../runtime/processRuntime';
import type { Runtime } from '../runtime/runtime';
import type { Config } from './config';
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
    const key = JSON.stringify([env, this.workspaceRoot(), settings.routerPort, settings.pythonPath]);
    if (this.cached?.key === key) return this.cached.runtime;
    if (env.kind !== 'local') {
      throw new Error(
        `running experiments on ${env.context} is not available yet — select "local processes" (Model Canary: Select Environment)`,
      );
    }
    const runtime = new ProcessRuntime({
      workspace: this.workspaceRoot(),
      // dist/extension.js and dist/router.js sit side by side in the package.
      routerScript: join(__dirname, 'router.js'),
      cacheDir: this.context.globalStorageUri.fsPath,
      python: settings.pythonPath || undefined,
      routerPort: settings.routerPort,
    });
    this.cached = { key, runtime };
    return runtime;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
