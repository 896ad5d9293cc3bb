/** activate(): build the services, register the trees and the command table, push every disposable. */
import * as vscode from 'vscode';
import type { WorkspaceScan } from './core/workspace/discover';
import { registerCommands } from './vscode/commands';
import { Config } from './vscode/config';
import { EnvironmentsTree, ExperimentsTree, ModelsTree } from './vscode/tree/providers';
import { WorkspaceModel } from './vscode/workspaceModel';
import type { TreeNode } from './vscode/tree/nodes';

/** What activate() returns, for the extension-host tests and other extensions. */
export interface ModelCanaryApi {
  /** Rescans the workspace and returns one scan per folder. */
  refresh(): Promise<WorkspaceScan[]>;
  readonly scans: readonly WorkspaceScan[];
  /** The tree providers behind the three views. */
  readonly trees: {
    readonly models: vscode.TreeDataProvider<TreeNode>;
    readonly experiments: vscode.TreeDataProvider<TreeNode>;
    readonly environments: vscode.TreeDataProvider<TreeNode>;
  };
}

export function activate(context: vscode.ExtensionContext): ModelCanaryApi {
  const log = vscode.window.createOutputChannel('Model Canary', { log: true });
  const config = new Config();
  const workspace = new WorkspaceModel(log);
  const models = new ModelsTree(workspace);
  const experiments = new ExperimentsTree(workspace);
  const environments = new EnvironmentsTree(() => config.settings);

  context.subscriptions.push(
    log,
    config,
    workspace,
    models,
    experiments,
    environments,
    vscode.window.registerTreeDataProvider('modelCanary.models', models),
    vscode.window.registerTreeDataProvider('modelCanary.experiments', experiments),
    vscode.window.registerTreeDataProvider('modelCanary.environments', environments),
    workspace.onDidChange(() => {
      models.refresh();
      experiments.refresh();
    }),
    config.onDidChange(() => environments.refresh()),
    ...registerCommands({ config, log, workspace, environments }),
  );
  void workspace.refresh();
  return {
    refresh: () => workspace.refresh(),
    get scans() {
      return workspace.current;
    },
    trees: { models, experiments, environments },
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
