/** activate(): build the services, register the trees and the command table, push every disposable. */
import * as vscode from 'vscode';
import type { WorkspaceScan } from './core/workspace/discover';
import { dashboardActionHandler, registerCommands } from './vscode/commands';
import type { CommandContext } from './vscode/commands/context';
import { AlertNotifier } from './vscode/alerts';
import { Config } from './vscode/config';
import { DashboardPanels } from './vscode/dashboard/panels';
import { Environments } from './vscode/environments';
import { LiveState } from './vscode/liveState';
import { StatusBar } from './vscode/statusBar';
import type { TreeNode } from './vscode/tree/nodes';
import { EnvironmentsTree } from './vscode/tree/environmentsTree';
import { ExperimentsTree } from './vscode/tree/experimentsTree';
import { ModelsTree } from './vscode/tree/modelsTree';
import { WorkspaceModel } from './vscode/workspaceModel';

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
  const environments = new Environments(context, config, workspace);
  const live = new LiveState(environments, config, log);
  const models = new ModelsTree(workspace, live);
  const experiments = new ExperimentsTree(workspace, live);
  const environmentsTree = new EnvironmentsTree(() => config.settings, environments, live);
  const dashboards = new DashboardPanels(context.extensionUri, live, environments, workspace);
  const ctx: CommandContext = {
    extension: context,
    config,
    log,
    workspace,
    environments,
    environmentsTree,
    live,
    dashboards,
  };
  dashboards.handleAction = dashboardActionHandler(ctx);

  context.subscriptions.push(
    log,
    config,
    workspace,
    environments,
    live,
    models,
    experiments,
    environmentsTree,
    dashboards,
    new StatusBar(live, environments),
    new AlertNotifier(live, log),
    vscode.window.registerTreeDataProvider('modelCanary.models', models),
    vscode.window.registerTreeDataProvider('modelCanary.experiments', experiments),
    vscode.window.registerTreeDataProvider('modelCanary.environments', environmentsTree),
    workspace.onDidChange(() => {
      models.refresh();
      experiments.refresh();
    }),
    live.onDidChange(() => {
      models.refresh();
      experiments.refresh();
      environmentsTree.refresh();
      void vscode.commands.executeCommand(
        'setContext',
        'modelCanary.running',
        live.current.status?.up ?? false,
      );
    }),
    config.onDidChange(() => environmentsTree.refresh()),
    ...registerCommands(ctx),
  );
  void workspace.refresh().then(() => live.refresh());
  return {
    refresh: () => workspace.refresh(),
    get scans() {
      return workspace.current;
    },
    trees: { models, experiments, environments: environmentsTree },
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
