/**
 * One command table: ids get their prefix here and nowhere else, and a test checks this
 * table against package.json's `contributes.commands` both ways.
 */
import * as vscode from 'vscode';
import type { Config } from './config';
import { doctorCommand } from './doctor';
import type { EnvironmentsTree } from './tree/providers';
import type { WorkspaceModel } from './workspaceModel';
import { COMMAND_IDS, COMMAND_PREFIX, type CommandId } from './commandIds';

/** What commands may use; built once in activate(). */
export interface CommandContext {
  config: Config;
  log: vscode.LogOutputChannel;
  workspace: WorkspaceModel;
  environments: EnvironmentsTree;
}

type CommandHandler = (...args: never[]) => unknown;

/** Every command the extension registers, without the prefix. */
export const commandTable: Record<CommandId, (ctx: CommandContext) => CommandHandler> = {
  refresh: (ctx) => async () => {
    await ctx.workspace.refresh();
    ctx.environments.refresh();
  },
  runDoctor: (ctx) => async () => {
    const report = await doctorCommand(ctx.config.settings, ctx.log);
    if (report) ctx.environments.setDoctorReport(report);
    return report;
  },
  showLogs: (ctx) => () => ctx.log.show(),
  openFile:
    () =>
    async (uri: vscode.Uri, line = 0) => {
      const editor = await vscode.window.showTextDocument(uri, { preview: true });
      const pos = new vscode.Position(line, 0);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    },
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
