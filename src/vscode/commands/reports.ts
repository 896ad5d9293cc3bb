/** Show Report of a Run: the text report of an experiment's current or earlier run, in an editor. */
import * as vscode from 'vscode';
import { formatReportText } from '../../core/analysis/format';
import { experimentReport } from '../../operations/report';
import { experimentRuns } from '../../operations/runs';
import { runText } from '../../shared/format';
import type { TreeNode } from '../tree/nodes';
import { pickExperiment, type CommandContext } from './context';
import { longRunning } from './longRunning';

/** From a run in the Experiments tree, or the palette (which experiment, then which run). */
export async function showReportCommand(ctx: CommandContext, arg?: unknown): Promise<string | undefined> {
  const node = arg as TreeNode | undefined;
  let target: { experiment: string; run: string } | undefined;
  if (node?.kind === 'run') target = { experiment: node.experiment, run: node.run.id };
  else {
    const experiment = await pickExperiment(ctx, arg, { deployed: true });
    if (!experiment) return undefined;
    const run = await pickRun(ctx, experiment.metadata.name);
    if (!run) return undefined;
    target = { experiment: experiment.metadata.name, run };
  }
  const { experiment, run } = target;
  const report = await longRunning(ctx, `Model Canary: report of ${experiment}, run ${run}`, (signal) =>
    experimentReport(ctx.environments.runtime(), { experiment, run }, { signal }),
  );
  if (!report) return undefined;
  const text = formatReportText(report);
  const document = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  await vscode.window.showTextDocument(document, { preview: true });
  return text;
}

/** The run to show: the only one, or the user's pick (newest first, the current one marked). */
async function pickRun(ctx: CommandContext, experiment: string): Promise<string | undefined> {
  const known = ctx.live.current.runs.get(experiment);
  const runs = known ?? (await experimentRuns(ctx.environments.runtime(), { experiment }));
  if (runs.runs.length === 0) {
    void vscode.window.showWarningMessage(
      `Model Canary: ${experiment} has no runs yet — deploy it first (each deploy starts a run).`,
    );
    return undefined;
  }
  if (runs.runs.length === 1) return runs.runs[0]!.id;
  const picked = await vscode.window.showQuickPick(
    [...runs.runs].reverse().map((run) => ({
      label: run.id,
      description: runText({ ...run, id: '' }, run.id === runs.current),
      run: run.id,
    })),
    { title: `Which run of ${experiment}?` },
  );
  return picked?.run;
}
