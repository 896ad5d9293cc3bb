/**
 * Registration of the command table (./commandTable.ts): ids get their prefix here and nowhere
 * else. Every id is registered at activation; its handler is loaded on its first call.
 */
import * as vscode from 'vscode';
import { COMMAND_IDS, COMMAND_PREFIX } from './commandIds';
import type { CommandContext } from './commands/context';
import type { DashboardActionHandler } from './dashboard/panels';
import { loadEngine } from './engine';

export type { CommandContext } from './commands/context';

/** Registers the table; a failing command logs its error and offers the logs, a cancel stays silent. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return COMMAND_IDS.map((name) => {
    let handler: ((...args: unknown[]) => unknown) | undefined;
    return vscode.commands.registerCommand(COMMAND_PREFIX + name, async (...args: unknown[]) => {
      try {
        handler ??= loadEngine().commandTable[name](ctx) as (...args: unknown[]) => unknown;
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

/** The dashboard's confirmed actions (./commandTable.ts), loaded on the first one. */
export function dashboardActionHandler(ctx: CommandContext): DashboardActionHandler {
  let handler: DashboardActionHandler | undefined;
  return (action) => (handler ??= loadEngine().dashboardActionHandler(ctx))(action);
}
