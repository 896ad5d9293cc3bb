/** What commands may use (built once in activate()) and the pickers they share. */
import * as vscode from 'vscode';
import type { Experiment } from '../../core/spec/experiment';
import type { Config } from '../config';
import type { DashboardPanels } from '../dashboard/panels';
import type { Environments } from '../environments';
import type { LiveState } from '../liveState';
import type { EnvironmentsTree } from '../tree/environmentsTree';
import type { TreeNode } from '../tree/nodes';
import type { WorkspaceModel } from '../workspaceModel';

export interface CommandContext {
  extension: vscode.ExtensionContext;
  config: Config;
  log: vscode.LogOutputChannel;
  workspace: WorkspaceModel;
  environments: Environments;
  environmentsTree: EnvironmentsTree;
  live: LiveState;
  dashboards: DashboardPanels;
}

/** The experiment a command acts on: the tree node it was invoked on, else the user's pick. */
export async function pickExperiment(
  ctx: CommandContext,
  arg: unknown,
  options: { deployed?: boolean } = {},
): Promise<Experiment | undefined> {
  const node = arg as TreeNode | undefined;
  const fromNode =
    node?.kind === 'experiment'
      ? node.entry.experiment
      : node?.kind === 'variant' ||
          node?.kind === 'shadow' ||
          node?.kind === 'alerts' ||
          node?.kind === 'alert'
        ? findByFile(ctx, node.experimentFile)
        : undefined;
  if (fromNode) return fromNode;
  if (typeof arg === 'string') return all(ctx).find((e) => e.metadata.name === arg);
  const deployed = new Set(ctx.live.current.status?.experiments.map((e) => e.name) ?? []);
  const candidates = all(ctx).filter((e) => !options.deployed || deployed.has(e.metadata.name));
  if (candidates.length === 0) {
    void vscode.window.showWarningMessage(
      options.deployed
        ? 'No experiment is deployed — run Model Canary: Deploy Experiment first.'
        : 'No valid experiment file in the workspace (kind: Experiment).',
    );
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((e) => ({
      label: e.metadata.name,
      description: vscode.workspace.asRelativePath(e.file),
      experiment: e,
    })),
    { title: 'Which experiment?' },
  );
  return picked?.experiment;
}

function all(ctx: CommandContext): Experiment[] {
  return ctx.workspace.current.flatMap((s) =>
    s.experiments.flatMap((e) => (e.experiment ? [e.experiment] : [])),
  );
}

function findByFile(ctx: CommandContext, file: string): Experiment | undefined {
  return all(ctx).find((e) => e.file === file);
}

/** Shows a failure with the actions users expect (Open Logs, Open Settings, Retry). */
export async function showFailure(
  ctx: CommandContext,
  message: string,
  retry?: () => unknown,
): Promise<void> {
  const actions = ['Open Logs', 'Open Settings', ...(retry ? ['Retry'] : [])];
  const choice = await vscode.window.showErrorMessage(`Model Canary: ${message}`, ...actions);
  if (choice === 'Open Logs') ctx.log.show(true);
  else if (choice === 'Open Settings')
    void vscode.commands.executeCommand('workbench.action.openSettings', 'modelCanary');
  else if (choice === 'Retry') void retry?.();
}
