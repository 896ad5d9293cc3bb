/**
 * One command table: ids get their prefix here and nowhere else, and a test checks this
 * table against package.json's `contributes.commands` both ways.
 */
import * as vscode from 'vscode';
import { COMMAND_IDS, COMMAND_PREFIX, type CommandId } from './commandIds';
import { pickExperiment, type CommandContext } from './commands/context';
import * as cluster from './commands/cluster';
import * as local from './commands/local';
import type { DashboardActionHandler } from './dashboard/panels';
import { doctorCommand } from './doctor';

export type { CommandContext } from './commands/context';

type CommandHandler = (...args: never[]) => unknown;

/** Every command the extension registers, without the prefix. */
export const commandTable: Record<CommandId, (ctx: CommandContext) => CommandHandler> = {
  refresh: (ctx) => async () => {
    await ctx.workspace.refresh();
    await ctx.live.refresh();
    ctx.environmentsTree.refresh();
  },
  runDoctor: (ctx) => async () => {
    const report = await doctorCommand(ctx.config.settings, ctx.log);
    if (report) ctx.environmentsTree.setDoctorReport(report);
    return report;
  },
  showLogs: (ctx) => () => local.showLogs(ctx),
  openFile:
    () =>
    async (uri: vscode.Uri, line = 0) => {
      const editor = await vscode.window.showTextDocument(uri, { preview: true });
      const pos = new vscode.Position(line, 0);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    },
  startLocal: (ctx) => () => local.startLocal(ctx),
  stopLocal: (ctx) => () => local.stopLocal(ctx),
  deployExperiment: (ctx) => (arg?: unknown) => local.deployExperiment(ctx, arg),
  simulateTraffic: (ctx) => (arg?: unknown) => local.simulateTraffic(ctx, arg),
  setTrafficSplit: (ctx) => (arg?: unknown) => local.setTrafficSplit(ctx, arg),
  promoteCandidate: (ctx) => (arg?: unknown) => local.promoteCandidate(ctx, arg),
  rollBack: (ctx) => (arg?: unknown) => local.rollBack(ctx, arg),
  openDashboard: (ctx) => async (arg?: unknown) => {
    const experiment = await pickExperiment(ctx, arg);
    if (experiment) ctx.dashboards.open(experiment.metadata.name);
  },
  selectEnvironment: (ctx) => () => local.selectEnvironment(ctx),
  createKindCluster: (ctx) => () => cluster.createKindClusterCommand(ctx),
  deleteKindCluster: (ctx) => () => cluster.deleteKindClusterCommand(ctx),
  promoteToCluster: (ctx) => (arg?: unknown) => cluster.promoteToClusterCommand(ctx, arg),
  exportManifests: (ctx) => (arg?: unknown) => cluster.exportManifestsCommand(ctx, arg),
  startRollout: (ctx) => (arg?: unknown) => local.rolloutAction(ctx, 'start', arg),
  pauseRollout: (ctx) => (arg?: unknown) => local.rolloutAction(ctx, 'pause', arg),
  resumeRollout: (ctx) => (arg?: unknown) => local.rolloutAction(ctx, 'resume', arg),
  approveRollout: (ctx) => (arg?: unknown) => local.rolloutAction(ctx, 'approve', arg),
  abortRollout: (ctx) => (arg?: unknown) => local.rolloutAction(ctx, 'abort', arg),
};

/** Registers the table; a failing command logs its error and offers the logs, a cancel stays silent. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return COMMAND_IDS.map((name) => {
    const handler = commandTable[name](ctx) as (...args: unknown[]) => unknown;
    return vscode.commands.registerCommand(COMMAND_PREFIX + name, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        ctx.log.error(`${name} failed: ${(err as Error).stack ?? String(err)}`);
        const choice = await vscode.window.showErrorMessage(
          `Model Canary: ${(err as Error).message}`,
          'Open Logs',
        );
        if (choice === 'Open Logs') ctx.log.show(true);
        return undefined;
      }
    });
  });
}

/** The dashboard's confirmed actions, through the same paths as the commands. */
export function dashboardActionHandler(ctx: CommandContext): DashboardActionHandler {
  return async (action) => {
    switch (action.type) {
      case 'setWeights': {
        const experiment = await pickExperiment(ctx, action.experiment);
        if (!experiment) throw new Error(`unknown experiment ${action.experiment}`);
        if (!(await local.applyWeights(ctx, experiment, action.weights, 'split (dashboard)')))
          throw new Error('the router refused the weights — see the logs');
        return `weights set: ${Object.entries(action.weights)
          .map(([n, w]) => `${n} ${w}`)
          .join(', ')}`;
      }
      case 'promote':
        void local.promoteCandidate(ctx, action.experiment, { variant: action.variant, confirmed: true });
        return `promoting ${action.variant} in steps — progress in the notification`;
      case 'rollback':
        await local.rollBack(ctx, action.experiment, true);
        return 'rolled back to the baseline';
      case 'simulateTraffic':
        void vscode.commands.executeCommand('modelCanary.simulateTraffic', action.experiment);
        return 'simulation started';
      case 'openLogs':
        ctx.log.show(true);
        return 'logs opened';
    }
  };
}
