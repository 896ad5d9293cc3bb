/** Where a rollout is: its phase, step, gates and history, and its form in the report and event log. */
import type { RolloutStatus } from '../../shared/report';
import type { RolloutSpec } from './spec';

export type RolloutPhase =
  'Initialized' | 'Progressing' | 'Paused' | 'Promoting' | 'Succeeded' | 'RolledBack' | 'Failed';

export interface RolloutTransition {
  ts: number;
  from: RolloutPhase;
  to: RolloutPhase;
  step: number;
  /** The candidate's weight after the transition. */
  weight: number;
  reason: string;
}

export interface RolloutState {
  experiment: string;
  baseline: string;
  candidate: string;
  phase: RolloutPhase;
  /** Index into spec.steps of the current step (-1 before the first). */
  stepIndex: number;
  stepStartedAt: number;
  /** Candidate requests when the current step started. */
  stepStartRequests: number;
  /** With an attribution window: the candidate's matured units when the current step started. */
  stepStartMatured?: number;
  awaitingApproval: boolean;
  /** A user approved leaving the current step (manual approval). */
  approved: boolean;
  reason: string;
  /** Gate results of the last evaluation, for the dashboard. */
  gates: GateResult[];
  history: RolloutTransition[];
}

export interface GateResult {
  name: 'guardrails' | 'srm' | 'drift' | 'detector' | 'metric' | 'samples' | 'duration' | 'approval';
  ok: boolean;
  detail: string;
}

export interface Evaluation {
  state: RolloutState;
  /** Weights to apply, when they change. */
  weights?: Record<string, number>;
  transition?: RolloutTransition;
}

const TERMINAL: readonly RolloutPhase[] = ['Succeeded', 'RolledBack', 'Failed'];

/** True when the rollout has ended. */
export function isTerminal(phase: RolloutPhase): boolean {
  return TERMINAL.includes(phase);
}

/** A new rollout of `candidate` against `baseline` (not started). */
export function initialRollout(
  experiment: string,
  baseline: string,
  candidate: string,
  now: number,
): RolloutState {
  return {
    experiment,
    baseline,
    candidate,
    phase: 'Initialized',
    stepIndex: -1,
    stepStartedAt: now,
    stepStartRequests: 0,
    awaitingApproval: false,
    approved: false,
    reason: 'not started',
    gates: [],
    history: [],
  };
}

/** The rollout as the report and the event log carry it. */
export function toStatus(state: RolloutState, spec: RolloutSpec): RolloutStatus {
  return {
    state: state.phase,
    baseline: state.baseline,
    candidate: state.candidate,
    stepIndex: state.stepIndex,
    steps: spec.steps,
    stepStartedAt: state.stepStartedAt,
    stepStartRequests: state.stepStartRequests,
    ...(state.stepStartMatured !== undefined ? { stepStartMatured: state.stepStartMatured } : {}),
    awaitingApproval: state.awaitingApproval,
    approved: state.approved,
    reason: state.reason,
    gates: state.gates,
    history: state.history,
  };
}

/** Back from the log's form (replay after a restart). */
export function fromStatus(experiment: string, status: RolloutStatus): RolloutState {
  return {
    experiment,
    baseline: status.baseline,
    candidate: status.candidate,
    phase: status.state as RolloutPhase,
    stepIndex: status.stepIndex,
    stepStartedAt: status.stepStartedAt,
    stepStartRequests: status.stepStartRequests,
    ...(status.stepStartMatured !== undefined ? { stepStartMatured: status.stepStartMatured } : {}),
    awaitingApproval: status.awaitingApproval,
    approved: status.approved,
    reason: status.reason,
    gates: status.gates as GateResult[],
    history: status.history as RolloutTransition[],
  };
}
