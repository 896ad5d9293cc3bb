/**
 * Progressive rollout as a pure state machine: given the live report and the time (the
 * clock is injected), it says which phase the rollout is in, why, and which weights the
 * router should use. Flagger and Argo Rollouts gate on metric thresholds; we also gate on
 * the always-valid sequential test of the business metric, the sample-ratio check and drift.
 *
 * Gates, checked in this order at every evaluation while Progressing (./gates):
 *   1. guardrails of the candidate (error rate; p95 latency absolute and as a ratio to the
 *      baseline's; model metrics against the baseline's, from labels) → RolledBack;
 *   2. sample-ratio mismatch → Paused: the data cannot be trusted until someone looks;
 *   3. drift (dataset drift on the candidate or baseline) → Paused, or only a warning;
 *   4. the primary metric: significantly worse (always-valid p < alpha) → RolledBack;
 *   5. the step is done when it has `minSamplesPerStep` candidate requests (with an attribution
 *      window: units of the candidate that matured during the step) and lasted
 *      `minStepSeconds`: advance to the next step (after approval when required). The last
 *      step (normally 100%) is the promotion: it needs the candidate significantly better,
 *      or, when `promoteWhenEquivalent`, merely not worse after the step's samples (./steps),
 *      and no model guardrail still waiting for labels (src/core/analysis/modelGuardrails.ts).
 *
 * The state and its log form are in ./state, the settings in ./spec, starts and manual
 * controls in ./transitions.
 */
import type { Report } from '../../shared/report';
import { driftGate, guardrailsGate, maturedUnits, metricGate, srmGate } from './gates';
import { detectorGate } from './detectorGate';
import type { RolloutSpec } from './spec';
import type { Evaluation, GateResult, RolloutState } from './state';
import { completeStep } from './steps';
import { moveTo, pauseRollout } from './transitions';

export { SRM_MIN_EXPECTED } from './gates';
export { DEFAULT_ROLLOUT, rolloutSpecOf, type RolloutSpec } from './spec';
export {
  fromStatus,
  initialRollout,
  isTerminal,
  toStatus,
  type Evaluation,
  type GateResult,
  type RolloutPhase,
  type RolloutState,
  type RolloutTransition,
} from './state';
export { abortRollout, approveStep, pauseRollout, resumeRollout, startRollout } from './transitions';

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
    return moveTo(
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

  const guardrails = guardrailsGate(state, spec, report, candidate, baseline);
  gates.push(guardrails.gate);
  if (guardrails.stopReason !== undefined)
    return evaluated(moveTo(state, 'RolledBack', now, guardrails.stopReason, spec, variants));

  const srm = srmGate(report);
  gates.push(srm.gate);
  if (srm.stopReason !== undefined) return evaluated(pauseRollout(state, now, srm.stopReason));

  const drift = driftGate(state, spec, report);
  gates.push(drift.gate);
  if (drift.stopReason !== undefined) return evaluated(pauseRollout(state, now, drift.stopReason));
  const detector = detectorGate(state, report);
  if (detector) gates.push(detector.gate);
  if (detector?.stopReason !== undefined) return evaluated(pauseRollout(state, now, detector.stopReason));

  const metric = metricGate(state, spec, comparison);
  gates.push(metric.gate);
  if (metric.stopReason !== undefined)
    return evaluated(moveTo(state, 'RolledBack', now, metric.stopReason, spec, variants));

  // A model guardrail still waiting for labels holds the last step (the promotion).
  const pending = report.guardrails.find((g) => g.variant === state.candidate && g.pending);
  const atLast = state.stepIndex + 1 >= spec.steps.length - 1;
  if (pending && atLast)
    return evaluated({ state: { ...state, reason: `holding the promotion: ${pending.detail}` } });
  const matured = maturedUnits(report, state.candidate);
  return evaluated(completeStep(state, spec, candidate, comparison, variants, gates, now, matured));
}
