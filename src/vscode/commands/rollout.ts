/**
 * Promote Candidate, Roll Back and the rollout commands: each asks what the operation needs and
 * confirms, then the router's rollout controller does the work (nothing ramps here).
 */
import * as vscode from 'vscode';
import type { Experiment } from '../../core/spec/experiment';
import { baselineOf } from '../../core/spec/experiment';
import { promoteCandidate } from '../../operations/promoteCandidate';
import { rollBack } from '../../operations/rollBack';
import { rolloutAction, rolloutSteps } from '../../operations/rollout';
import type { RolloutStatus } from '../../shared/report';
import type { RolloutAction } from '../../shared/routerApi';
import { pickExperiment, showFailure, type CommandContext } from './context';

const candidatesOf = (e: Experiment): string[] =>
  e.spec.variants.filter((v) => v.role === 'candidate').map((v) => v.name);

/** The candidate: the tree's variant node, the only candidate, or the user's pick. */
async function pickCandidate(
  experiment: Experiment,
  arg: unknown,
  title: string,
): Promise<string | undefined> {
  const candidates = candidatesOf(experiment);
  const node = arg as { kind?: string; variant?: { name: string } } | undefined;
  if (node?.kind === 'variant' && node.variant && candidates.includes(node.variant.name))
    return node.variant.name;
  if (candidates.length === 1) return candidates[0];
  return vscode.window.showQuickPick(candidates, { title });
}

/** Runs an operation that answers a rollout state, and tells the user where it stands. */
async function reportRollout(
  ctx: CommandContext,
  experiment: string,
  run: () => Promise<RolloutStatus>,
): Promise<RolloutStatus | undefined> {
  try {
    const status = await run();
    ctx.log.info(`rollout of ${experiment}: ${status.state} — ${status.reason}`);
    void vscode.window
      .showInformationMessage(
        `Model Canary: rollout of ${status.candidate} in ${experiment} is ${status.state} — ${status.reason}`,
        'Open Dashboard',
      )
      .then((c) => {
        if (c) void vscode.commands.executeCommand('modelCanary.openDashboard', experiment);
      });
    return status;
  } catch (err) {
    void showFailure(ctx, (err as Error).message);
    return undefined;
  } finally {
    void ctx.live.refresh();
  }
}

/** Promote Candidate: a rollout of the candidate by the router's controller, to 100% unless a gate stops it. */
export async function promoteCandidateCommand(
  ctx: CommandContext,
  arg?: unknown,
  preselected?: { variant: string; confirmed: boolean },
): Promise<RolloutStatus | undefined> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return undefined;
  const candidate =
    preselected && candidatesOf(experiment).includes(preselected.variant)
      ? preselected.variant
      : await pickCandidate(experiment, arg, 'Promote which candidate?');
  if (!candidate) return undefined;
  if (!preselected?.confirmed) {
    const steps = rolloutSteps(experiment.spec.rollout);
    const ok = await vscode.window.showWarningMessage(
      `Promote ${candidate} in ${experiment.metadata.name}: the router takes it through ${steps.join('% → ')}% of traffic; a breached guardrail, a sample-ratio mismatch or drift stops it, and a worse candidate is rolled back.`,
      { modal: true },
      'Promote',
    );
    if (ok !== 'Promote') return undefined;
  }
  const name = experiment.metadata.name;
  return reportRollout(ctx, name, () =>
    promoteCandidate(ctx.environments.runtime(), { experiment: name, candidate }),
  );
}

/** Roll Back: all traffic to the baseline, through the router's controller (aborting any rollout). */
export async function rollBackCommand(
  ctx: CommandContext,
  arg?: unknown,
  confirmed = false,
): Promise<RolloutStatus | undefined> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return undefined;
  if (!confirmed) {
    const ok = await vscode.window.showWarningMessage(
      `Roll back ${experiment.metadata.name}: send all traffic to the baseline ${baselineOf(experiment).name}?`,
      { modal: true },
      'Roll Back',
    );
    if (ok !== 'Roll Back') return undefined;
  }
  const name = experiment.metadata.name;
  return reportRollout(ctx, name, () => rollBack(ctx.environments.runtime(), { experiment: name }));
}

/** Start, pause, resume, approve or abort the router's rollout of an experiment. */
export async function rolloutActionCommand(
  ctx: CommandContext,
  action: RolloutAction,
  arg?: unknown,
): Promise<RolloutStatus | undefined> {
  const experiment = await pickExperiment(ctx, arg, { deployed: true });
  if (!experiment) return undefined;
  let candidate: string | undefined;
  if (action === 'start') {
    candidate = await pickCandidate(experiment, arg, 'Roll out which candidate?');
    if (!candidate) return undefined;
    const steps = rolloutSteps(experiment.spec.rollout);
    const ok = await vscode.window.showWarningMessage(
      `Start an automatic rollout of ${candidate} in ${experiment.metadata.name} (${steps.join('% → ')}%)? The router moves the weights by itself, gated on guardrails, SRM, drift and the always-valid test.`,
      { modal: true },
      'Start Rollout',
    );
    if (ok !== 'Start Rollout') return undefined;
  }
  if (action === 'abort') {
    const ok = await vscode.window.showWarningMessage(
      `Abort the rollout of ${experiment.metadata.name} and send all traffic back to the baseline?`,
      { modal: true },
      'Abort',
    );
    if (ok !== 'Abort') return undefined;
  }
  const name = experiment.metadata.name;
  return reportRollout(ctx, name, () =>
    rolloutAction(ctx.environments.runtime(), { experiment: name, action, candidate }),
  );
}
