/** Moving a rollout between phases and steps: starts, manual controls and the weights each move sets. */
import type { Report } from '../../shared/report';
import { maturedUnits } from './gates';
import type { RolloutSpec } from './spec';
import {
  isTerminal,
  type Evaluation,
  type RolloutPhase,
  type RolloutState,
  type RolloutTransition,
} from './state';

function weightsAt(state: RolloutState, candidateWeight: number, variants: string[]): Record<string, number> {
  return Object.fromEntries(
    variants.map((v) => [
      v,
      v === state.candidate ? candidateWeight : v === state.baseline ? 100 - candidateWeight : 0,
    ]),
  );
}

/** The rollout in phase `to` (at step `stepIndex`), with the transition recorded and the weights it sets when they change. */
export function moveTo(
  state: RolloutState,
  to: RolloutPhase,
  now: number,
  reason: string,
  spec: RolloutSpec,
  variants: string[],
  stepIndex = state.stepIndex,
  candidateRequests = state.stepStartRequests,
  candidateMatured = state.stepStartMatured,
): Evaluation {
  const weight =
    to === 'RolledBack' ? 0 : to === 'Succeeded' || to === 'Promoting' ? 100 : (spec.steps[stepIndex] ?? 0);
  const transition: RolloutTransition = { ts: now, from: state.phase, to, step: stepIndex, weight, reason };
  const stepChanged = stepIndex !== state.stepIndex;
  const next: RolloutState = {
    ...state,
    phase: to,
    stepIndex,
    stepStartedAt: stepChanged ? now : state.stepStartedAt,
    stepStartRequests: stepChanged ? candidateRequests : state.stepStartRequests,
    ...((stepChanged ? candidateMatured : state.stepStartMatured) !== undefined
      ? { stepStartMatured: stepChanged ? candidateMatured : state.stepStartMatured }
      : {}),
    awaitingApproval: false,
    approved: false,
    reason,
    history: [...state.history, transition],
  };
  const weightsChange = to === 'RolledBack' || to === 'Succeeded' || to === 'Promoting' || stepChanged;
  return { state: next, transition, weights: weightsChange ? weightsAt(next, weight, variants) : undefined };
}

/** Starts the rollout at its first step. */
export function startRollout(
  state: RolloutState,
  spec: RolloutSpec,
  report: Report,
  now: number,
): Evaluation {
  if (state.phase !== 'Initialized') return { state };
  const candidateRequests = report.variants.find((v) => v.name === state.candidate)?.requests ?? 0;
  return moveTo(
    state,
    'Progressing',
    now,
    `started at ${spec.steps[0]}%`,
    spec,
    report.variants.map((v) => v.name),
    0,
    candidateRequests,
    maturedUnits(report, state.candidate),
  );
}

/** Pauses a progressing rollout: a user's pause, or a gate that halts it. */
export function pauseRollout(state: RolloutState, now: number, reason = 'paused by a user'): Evaluation {
  if (state.phase !== 'Progressing') return { state };
  const transition: RolloutTransition = {
    ts: now,
    from: state.phase,
    to: 'Paused',
    step: state.stepIndex,
    weight: -1,
    reason,
  };
  return {
    state: { ...state, phase: 'Paused', reason, history: [...state.history, transition] },
    transition,
  };
}

/** Resumes a paused rollout at the step it paused in. */
export function resumeRollout(state: RolloutState, now: number): Evaluation {
  if (state.phase !== 'Paused') return { state };
  const reason = 'resumed by a user';
  const transition: RolloutTransition = {
    ts: now,
    from: state.phase,
    to: 'Progressing',
    step: state.stepIndex,
    weight: -1,
    reason,
  };
  return {
    state: {
      ...state,
      phase: 'Progressing',
      reason,
      awaitingApproval: false,
      history: [...state.history, transition],
    },
    transition,
  };
}

/** Lets a rollout that waits for approval leave its current step at the next evaluation. */
export function approveStep(state: RolloutState): Evaluation {
  if (!state.awaitingApproval) return { state };
  return {
    state: {
      ...state,
      awaitingApproval: false,
      approved: true,
      reason: 'approved: advancing at the next evaluation',
    },
  };
}

/** Ends a rollout that has not ended by rolling it back (all traffic to the baseline). */
export function abortRollout(
  state: RolloutState,
  now: number,
  variants: string[],
  spec: RolloutSpec,
  reason = 'aborted by a user',
): Evaluation {
  if (isTerminal(state.phase)) return { state };
  return moveTo(state, 'RolledBack', now, reason, spec, variants);
}
