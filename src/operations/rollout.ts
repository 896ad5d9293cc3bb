/**
 * `rollout start|pause|resume|approve|abort` / the rollout palette commands: actions on the
 * router's rollout controller, which runs in the router (in its Pod on Kubernetes), so a rollout
 * goes on after the command returns. Promote Candidate and Roll Back are rollouts too.
 */
import { rolloutSpecOf } from '../core/rollout';
import type { OperationOptions, Runtime } from '../runtime/runtime';
import type { Report, RolloutStatus } from '../shared/report';
import { ROLLOUT_ACTIONS, type RolloutAction, type RolloutOverrides } from '../shared/routerApi';
import { usageError } from './errors';

export interface RolloutInput {
  experiment: string;
  action: RolloutAction;
  /** Start: the candidate to roll out (required when the experiment has several). */
  candidate?: string;
  overrides?: RolloutOverrides;
}

/** The states a rollout has ended in. */
export const TERMINAL_ROLLOUT_STATES: readonly string[] = ['Succeeded', 'RolledBack', 'Failed'];

export function isRolloutAction(action: string): action is RolloutAction {
  return (ROLLOUT_ACTIONS as readonly string[]).includes(action);
}

/** The candidate an action is about: the one named, else the only one; a usage error names the choices. */
export function chooseCandidate(report: Report, named: string | undefined): string {
  const candidates = report.variants.filter((v) => v.role === 'candidate').map((v) => v.name);
  if (named !== undefined) {
    if (!candidates.includes(named))
      throw usageError(
        `${named} is not a candidate of ${report.experiment} — choose one of ${candidates.join(', ') || '(none)'}`,
      );
    return named;
  }
  if (candidates.length === 1) return candidates[0]!;
  throw usageError(
    candidates.length === 0
      ? `${report.experiment} has no candidate`
      : `${report.experiment} has several candidates: name one (${candidates.join(', ')})`,
  );
}

/** The steps a rollout of this experiment takes (spec.rollout.steps, else the default). */
export function rolloutSteps(
  spec: Parameters<typeof rolloutSpecOf>[0],
  overrides?: RolloutOverrides,
): number[] {
  return overrides?.steps ?? rolloutSpecOf(spec).steps;
}

export async function rolloutAction(
  runtime: Runtime,
  input: RolloutInput,
  options: OperationOptions = {},
): Promise<RolloutStatus> {
  if (!isRolloutAction(input.action))
    throw usageError(
      `the rollout action must be one of ${ROLLOUT_ACTIONS.join(', ')}, got "${String(input.action)}"`,
    );
  const candidate =
    input.action === 'start'
      ? chooseCandidate(await runtime.report(input.experiment, options), input.candidate)
      : undefined;
  const status = await runtime.rollout(input.experiment, input.action, {
    candidate,
    overrides: input.overrides,
    signal: options.signal,
  });
  options.onProgress?.(`rollout of ${input.experiment}: ${status.state} — ${status.reason}`);
  return status;
}
