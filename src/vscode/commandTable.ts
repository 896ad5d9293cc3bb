/**
 * The command handlers and the dashboard's actions. They live in the lazily loaded bundle
 * (dist/engine.js, ./engine.ts) with the operations they call, so activation does not parse or
 * evaluate them: ./commands.ts registers every id up front and loads this on the first call.
 */
import * as vscode from 'vscode';
import type { CommandId } from './commandIds';
import { pickExperiment, type CommandContext } from './commands/context';
import * as cluster from './commands/cluster';
import * as environment from './commands/environment';
import * as plan from './commands/plan';
import * as rollout from './commands/rollout';
import * as traffic from './commands/traffic';
import { showReportCommand } from './commands/reports';
import { dashboardLocation } from '../operations/dashboard';
import type { DashboardActionHandler } from './dashboard/panels';
import { doctorCommand } from './doctor';
import { formatSplit } from '../shared/weights';

type CommandHandler = (...args: never[]) => unknown;

/**
 * Every command the extension registers, without the prefix; a test checks it against
 * package.json's `contributes.commands` both ways.
 */
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
  showLogs: (ctx) => () => environment.showLogsCommand(ctx),
  openFile:
    () =>
    async (uri: vscode.Uri, line = 0) => {
      const editor = await vscode.window.showTextDocument(uri, { preview: true });
      const pos = new vscode.Position(line, 0);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    },
  startLocal: (ctx) => () => environment.startEnvironmentCommand(ctx),
  stopLocal: (ctx) => () => environment.stopEnvironmentCommand(ctx),
  deployExperiment: (ctx) => (arg?: unknown) => environment.deployExperimentCommand(ctx, arg),
  simulateTraffic: (ctx) => (arg?: unknown) => traffic.simulateTrafficCommand(ctx, arg),
  planExperiment: (ctx) => (arg?: unknown) => plan.planExperimentCommand(ctx, arg),
  setTrafficSplit: (ctx) => (arg?: unknown) => traffic.setTrafficSplitCommand(ctx, arg),
  promoteCandidate: (ctx) => (arg?: unknown) => rollout.promoteCandidateCommand(ctx, arg),
  rollBack: (ctx) => (arg?: unknown) => rollout.rollBackCommand(ctx, arg),
  openDashboard: (ctx) => async (arg?: unknown) => {
    const experiment = await pickExperiment(ctx, arg);
    if (!experiment) return undefined;
    ctx.dashboards.open(experiment.metadata.name);
    // The same location `model-canary dashboard` prints (for a browser beside the panel).
    return dashboardLocation(ctx.environments.runtime(), { experiment: experiment.metadata.name }).catch(
      () => undefined,
    );
  },
  showReport: (ctx) => (arg?: unknown) => showReportCommand(ctx, arg),
  selectEnvironment: (ctx) => () => environment.selectEnvironmentCommand(ctx),
  createKindCluster: (ctx) => () => cluster.createKindClusterCommand(ctx),
  deleteKindCluster: (ctx) => () => cluster.deleteKindClusterCommand(ctx),
  promoteToCluster: (ctx) => (arg?: unknown) => cluster.promoteToClusterCommand(ctx, arg),
  exportManifests: (ctx) => (arg?: unknown) => cluster.exportManifestsCommand(ctx, arg),
  startRollout: (ctx) => (arg?: unknown) => rollout.rolloutActionCommand(ctx, 'start', arg),
  pauseRollout: (ctx) => (arg?: unknown) => rollout.rolloutActionCommand(ctx, 'pause', arg),
  resumeRollout: (ctx) => (arg?: unknown) => rollout.rolloutActionCommand(ctx, 'resume', arg),
  approveRollout: (ctx) => (arg?: unknown) => rollout.rolloutActionCommand(ctx, 'approve', arg),
  abortRollout: (ctx) => (arg?: unknown) => rollout.rolloutActionCommand(ctx, 'abort', arg),
};

/** The dashboard's confirmed actions, through the same paths as the commands. */
export function dashboardActionHandler(ctx: CommandContext): DashboardActionHandler {
  return async (action) => {
    switch (action.type) {
      case 'setWeights': {
        const weights = await traffic.applySplit(ctx, action.experiment, action.weights, 'split (dashboard)');
        if (!weights) throw new Error('the router refused the weights — see the notification');
        return `split set: ${formatSplit(weights)}`;
      }
      case 'promote': {
        const status = await rollout.promoteCandidateCommand(ctx, action.experiment, {
          variant: action.variant,
          confirmed: true,
        });
        if (!status)
          throw new Error(`the promotion of ${action.variant} did not start — see the notification`);
        return `promoting ${action.variant}: rollout ${status.state} — ${status.reason}`;
      }
      case 'rollback': {
        const status = await rollout.rollBackCommand(ctx, action.experiment, true);
        if (!status) throw new Error('the roll back failed — see the notification');
        return `rolled back: ${status.reason}`;
      }
      case 'simulateTraffic':
        void vscode.commands.executeCommand('modelCanary.simulateTraffic', action.experiment);
        return 'simulation started';
      case 'openLogs':
        ctx.log.show(true);
        return 'logs opened';
    }
  };
}
