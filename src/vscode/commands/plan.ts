/** Plan Experiment: what an experiment can detect and how long it takes, before any traffic. */
import * as vscode from 'vscode';
import { isCancel, OperationError } from '../../operations/errors';
import { DEFAULT_PLAN_RPS, planExperiment, planText } from '../../operations/plan';
import { formatDuration } from '../../shared/plan';
import { mdeText } from '../../shared/planText';
import { pickExperiment, type CommandContext } from './context';

export async function planExperimentCommand(ctx: CommandContext, arg?: unknown): Promise<string | undefined> {
  const experiment = await pickExperiment(ctx, arg);
  if (!experiment) return undefined;
  const rps = await vscode.window.showInputBox({
    title: `Plan ${experiment.metadata.name}: how much traffic will the experiment get?`,
    prompt: 'Randomised units per second, all arms together (new users per second with a sticky key)',
    value: String(DEFAULT_PLAN_RPS),
    validateInput: (v) => (Number(v) > 0 && Number.isFinite(Number(v)) ? undefined : 'a number > 0, e.g. 10'),
  });
  if (rps === undefined) return undefined;
  try {
    const result = planExperiment({ experiment, rps: Number(rps) });
    const text = planText(result);
    ctx.log.info(text);
    const doc = await vscode.workspace.openTextDocument({ content: `${text}\n`, language: 'plaintext' });
    await vscode.window.showTextDocument(doc, { preview: true });
    const first = result.candidates[0]!;
    void vscode.window.showInformationMessage(
      `Model Canary: about ${formatDuration(first.durations.expected)} to detect ${mdeText(first.plan)} on ${result.metric} (expected, at ${rps} per second).`,
    );
    return text;
  } catch (err) {
    if (isCancel(err)) return undefined;
    const message = err instanceof OperationError ? err.message : String(err);
    void vscode.window.showErrorMessage(`Model Canary: cannot plan ${experiment.metadata.name}: ${message}`);
    return undefined;
  }
}
