/**
 * Progressive rollout as a pure state machine: given the live report and the time (the
 * clock is injected), it says which phase the rollout is in, why, and which weights the
 * router should use. Flagger and Argo Rollouts gate on metric thresholds; we also gate on
 * the always-valid sequential test of the business metric, the sample-ratio check and drift.
 *
 * Gates, checked in this order at every evaluation while Progressing:
 *   1. guardrails of the candidate (error rate; p95 latency absolute and as a ratio to the
 *      baseline's) → RolledBack;
 *   2. sample-ratio mismatch → Paused: the data cannot be trusted until someone looks;
 *   3. drift (dataset drift on the candidate or baseline) → Paused, or only a warning;
 *   4. the primary metric: significantly worse (always-valid p < alpha) → RolledBack;
 *   5. the step is done when it has `minSamplesPerStep` candidate requests and lasted
 *      `minStepSeconds`: advance to the next step (after approval when required). The last
 *      step (normally 100%) is the promotion: it needs the candidate significantly better,
 *      or, when `promoteWhenEquivalent`, merely not worse after the step's samples.
 */
import type { Comparison, Report, RolloutStatus } from '../../shared/report';

export type RolloutPhase =
  'Initialized' | 'Progressing' | 'Paused' | 'Promoting' | 'Succeeded' | 'RolledBack' | 'Failed';

export interface RolloutSpec {
  steps: number[];
  minSamplesPerStep: number;
  minStepSeconds: number;
  alpha: number;
  /** Candidate p95 may be at most this multiple of the baseline's (e.g. 1.5). */
  latencyP95Ratio?: number;
  drift: 'pause' | 'warn' | 'ignore';
  /**
   * A feature holds a rollout only when its drift p-value is below this (the report's own
   * flag for distance tests). Far stricter than the report's threshold on purpose: the gate
   * looks every second at overlapping windows, and real drift gives p-values near zero.
   */
  driftPValue: number;
  /** Wait for `approve` before every step after the first. */
  manualApproval: boolean;
  /** Promote at the last step when the candidate is not worse, even if not significantly better. */
  promoteWhenEquivalent: boolean;
}

export const DEFAULT_ROLLOUT: RolloutSpec = {
  steps: [5, 25, 50, 100],
  minSamplesPerStep: 2000,
  minStepSeconds: 30,
  alpha: 0.05,
  latencyP95Ratio: undefined,
  drift: 'pause',
  driftPValue: 1e-4,
  manualApproval: false,
  promoteWhenEquivalent: false,
};

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
  awaitingApproval: boolean;
  /** A user approved leaving the current step (manual approval). */
  approved: boolean;
  reason: string;
  /** Gate results of the last evaluation, for the dashboard. */
  gates: GateResult[];
  history: RolloutTransition[];
}

export interface GateResult {
  name: 'guardrails' | 'srm' | 'drift' | 'metric' | 'samples' | 'duration' | 'approval';
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

/** The sample-ratio gate judges only once the smallest arm expects this many requests. */
export const SRM_MIN_EXPECTED = 100;

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

function weightsAt(state: RolloutState, candidateWeight: number, variants: string[]): Record<string, number> {
  return Object.fromEntries(
    variants.map((v) => [
      v,
      v === state.candidate ? candidateWeight : v === state.baseline ? 100 - candidateWeight : 0,
    ]),
  );
}

function move(
  state: RolloutState,
  to: RolloutPhase,
  now: number,
  reason: string,
  spec: RolloutSpec,
  variants: string[],
  stepIndex = state.stepIndex,
  candidateRequests = state.stepStartRequests,
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
  return move(
    state,
    'Progressing',
    now,
    `started at ${spec.steps[0]}%`,
    spec,
    report.variants.map((v) => v.name),
    0,
    candidateRequests,
  );
}

/** Manual controls. */
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

export function abortRollout(
  state: RolloutState,
  now: number,
  variants: string[],
  spec: RolloutSpec,
  reason = 'aborted by a user',
): Evaluation {
  if (isTerminal(state.phase)) return { state };
  return move(state, 'RolledBack', now, reason, spec, variants);
}

/** One evaluation against the live report: gates, and the transition they call for. */
export function evaluateRollout(
  state: RolloutState,
  spec: RolloutSpec,
  report: Report,
  now: number,
): Evaluation {
  if (state.phase !== 'Progressing') return { state };
  const variants = report.variants.map((v) => v.name);
  const candidate = report.variants.find((v) => v.name === state.candidate);
  const baseline = report.variants.find((v) => v.name === state.baseline);
  if (!candidate || !baseline)
    return move(
      state,
      'Failed',
      now,
      `the report has no variant ${!candidate ? state.candidate : state.baseline}`,
      spec,
      variants,
    );
  const comparison = report.comparisons.find((c) => c.variant === state.candidate);
  const gates: GateResult[] = [];
  const evaluated = (e: Evaluation): Evaluation => ({ ...e, state: { ...e.state, gates } });

  // 1. Guardrails.
  // A limit the baseline breaches as well says the environment is slow or failing, not the
  // candidate: rolling the candidate back would not help, so it only shows in the gate.
  const baselineBroken = new Set(
    report.guardrails.filter((g) => g.variant === state.baseline && !g.ok).map((g) => g.name),
  );
  const shared = report.guardrails.filter(
    (g) => g.variant === state.candidate && !g.ok && baselineBroken.has(g.name),
  );
  const broken = report.guardrails.filter(
    (g) => g.variant === state.candidate && !g.ok && !baselineBroken.has(g.name),
  );
  const ratio = spec.latencyP95Ratio;
  const latencyRatio = baseline.latencyMs.p95 > 0 ? candidate.latencyMs.p95 / baseline.latencyMs.p95 : NaN;
  const enough = candidate.requests - state.stepStartRequests >= Math.min(100, spec.minSamplesPerStep);
  const ratioBroken = ratio !== undefined && enough && Number.isFinite(latencyRatio) && latencyRatio > ratio;
  const guardrailDetail = broken.length
    ? broken.map((g) => `${g.name} ${fmt(g.value)} > ${fmt(g.limit)}`).join('; ')
    : ratioBroken
      ? `p95 latency ${fmt(latencyRatio)}× the baseline's (limit ${ratio}×)`
      : shared.length
        ? `the baseline breaches ${shared.map((g) => g.name).join(', ')} too — an environment problem, not the candidate's`
        : 'all within limits';
  gates.push({ name: 'guardrails', ok: !(broken.length && enough) && !ratioBroken, detail: guardrailDetail });
  if ((broken.length && enough) || ratioBroken)
    return evaluated(
      move(state, 'RolledBack', now, `guardrail breached: ${guardrailDetail}`, spec, variants),
    );

  // 2. Sample-ratio mismatch — once the smallest arm expects SRM_MIN_EXPECTED requests. Requests
  // are logged when they complete, so early on a slow variant's in-flight requests are missing
  // from the counts; with enough traffic that bias is too small to flag.
  const total = report.variants.reduce((n, v) => n + v.requests, 0);
  const weightSum = report.variants.reduce((n, v) => n + v.weight, 0);
  const smallestShare = Math.min(
    ...report.variants.filter((v) => v.weight > 0).map((v) => v.weight / weightSum),
  );
  const srmJudged = total * smallestShare >= SRM_MIN_EXPECTED;
  const srmBroken = report.srm.mismatch && srmJudged;
  gates.push({
    name: 'srm',
    ok: !srmBroken,
    detail: `p = ${fmt(report.srm.pValue)}${srmJudged ? '' : ' (too few requests to judge yet)'}`,
  });
  if (srmBroken)
    return evaluated(
      pauseRollout(
        state,
        now,
        `halted: sample-ratio mismatch (p = ${fmt(report.srm.pValue)}) — the observed split does not match the weights, so the data cannot be trusted`,
      ),
    );

  // 3. Drift.
  const drifting =
    report.drift?.features
      .filter(
        (f) =>
          (f.variant === state.candidate || f.variant === state.baseline) &&
          f.drift &&
          (Number.isFinite(f.pValue) ? f.pValue < spec.driftPValue : true),
      )
      .map((f) => `${f.name}@${f.variant}`) ?? [];
  gates.push({
    name: 'drift',
    ok: drifting.length === 0 || spec.drift !== 'pause',
    detail: drifting.length ? `drifting: ${drifting.join(', ')}` : 'no drift',
  });
  if (drifting.length && spec.drift === 'pause')
    return evaluated(
      pauseRollout(state, now, `paused: input drift (${drifting.join(', ')}) — check the data, then resume`),
    );

  // 4. The primary metric.
  const worse = isSignificant(comparison, spec.alpha) && (comparison?.absoluteLift ?? 0) < 0;
  const better = isSignificant(comparison, spec.alpha) && (comparison?.absoluteLift ?? 0) > 0;
  gates.push({
    name: 'metric',
    ok: !worse,
    detail: comparison
      ? `${comparison.metric} ${pctSigned(comparison.absoluteLift)}, always-valid p = ${fmt(comparison.sequentialPValue)}`
      : 'no comparison yet',
  });
  if (worse)
    return evaluated(
      move(
        state,
        'RolledBack',
        now,
        `${state.candidate} is significantly worse on ${comparison!.metric} (${pctSigned(comparison!.absoluteLift)}, always-valid p = ${fmt(comparison!.sequentialPValue)})`,
        spec,
        variants,
      ),
    );

  // 5. Step completion.
  const samples = candidate.requests - state.stepStartRequests;
  const seconds = (now - state.stepStartedAt) / 1000;
  gates.push({
    name: 'samples',
    ok: samples >= spec.minSamplesPerStep,
    detail: `${samples.toLocaleString('en-US')} of ${spec.minSamplesPerStep.toLocaleString('en-US')}`,
  });
  gates.push({
    name: 'duration',
    ok: seconds >= spec.minStepSeconds,
    detail: `${Math.floor(seconds)} of ${spec.minStepSeconds} s`,
  });
  const nextIndex = state.stepIndex + 1;
  const isLast = nextIndex >= spec.steps.length - 1;
  if (samples < spec.minSamplesPerStep || seconds < spec.minStepSeconds) {
    // The last move can come early: the always-valid test may be peeked at any time.
    if (!(isLast && better && samples > 0))
      return evaluated({
        state: { ...state, reason: `step ${spec.steps[state.stepIndex]}%: collecting evidence` },
      });
  }
  if (isLast) {
    if (better || spec.promoteWhenEquivalent) {
      const why = better
        ? `${state.candidate} is significantly better on ${comparison!.metric} (${pctSigned(comparison!.absoluteLift)}, always-valid p = ${fmt(comparison!.sequentialPValue)})`
        : `${state.candidate} is not worse after ${samples.toLocaleString('en-US')} samples and the stopping rule accepts equivalence`;
      return evaluated(
        move(
          state,
          'Succeeded',
          now,
          `promoted: ${why}`,
          spec,
          variants,
          spec.steps.length - 1,
          candidate.requests,
        ),
      );
    }
    return evaluated({
      state: {
        ...state,
        reason: `waiting at ${spec.steps[state.stepIndex]}% for ${state.candidate} to be significantly better (${comparison?.reason ?? 'no comparison yet'})`,
      },
    });
  }
  if (spec.manualApproval) {
    gates.push({
      name: 'approval',
      ok: state.approved,
      detail: state.approved ? 'approved' : 'waiting for approval',
    });
    if (!state.approved)
      return evaluated({
        state: {
          ...state,
          awaitingApproval: true,
          reason: `step ${spec.steps[state.stepIndex]}% passed its gates; waiting for approval to go to ${spec.steps[nextIndex]}%`,
        },
      });
  }
  return evaluated(
    move(
      state,
      'Progressing',
      now,
      `step ${spec.steps[state.stepIndex]}% passed its gates (${samples.toLocaleString('en-US')} samples, ${Math.floor(seconds)} s): advancing to ${spec.steps[nextIndex]}%`,
      spec,
      variants,
      nextIndex,
      candidate.requests,
    ),
  );
}

function isSignificant(c: Comparison | undefined, alpha: number): boolean {
  return c !== undefined && Number.isFinite(c.sequentialPValue) && c.sequentialPValue < alpha;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return Math.abs(x) >= 0.001 || x === 0 ? String(Number(x.toPrecision(3))) : x.toExponential(1);
}

function pctSigned(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
}

/** The rollout settings of an experiment file, with defaults for what it leaves out. */
export function rolloutSpecOf(rollout: Partial<RolloutSpec> | undefined): RolloutSpec {
  return {
    ...DEFAULT_ROLLOUT,
    ...Object.fromEntries(Object.entries(rollout ?? {}).filter(([, v]) => v !== undefined)),
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
    awaitingApproval: status.awaitingApproval,
    approved: status.approved,
    reason: status.reason,
    gates: status.gates as GateResult[],
    history: status.history as RolloutTransition[],
  };
}
