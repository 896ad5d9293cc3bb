/**
 * Step completion, once every gate has passed: a step is done when it has `minSamplesPerStep`
 * candidate requests and lasted `minStepSeconds`; with an attribution window the samples are the
 * candidate's units that matured during the step, the units the metric gate has judged, so a
 * step waits for its evidence to mature before the weight goes up; then the rollout advances to the next step
 * (after approval when required). The last step (normally 100%) is the promotion: it needs the
 * candidate significantly better, or, when `promoteWhenEquivalent`, merely not worse after the
 * step's samples.
 */
import type { Comparison, VariantReport } from '../../shared/report';
import { formatLift, formatValue } from './format';
import { isSignificant } from './gates';
import type { RolloutSpec } from './spec';
import type { Evaluation, GateResult, RolloutState } from './state';
import { moveTo } from './transitions';

/** Where the current step stands: still collecting, waiting, or moving on; adds its gates to `gates`. */
export function completeStep(
  state: RolloutState,
  spec: RolloutSpec,
  candidate: VariantReport,
  comparison: Comparison | undefined,
  variants: string[],
  gates: GateResult[],
  now: number,
  /** The candidate's matured units, under an attribution window. */
  matured?: number,
): Evaluation {
  const better = isSignificant(comparison, spec.alpha) && (comparison?.absoluteLift ?? 0) > 0;
  const samples =
    matured !== undefined
      ? matured - (state.stepStartMatured ?? 0)
      : candidate.requests - state.stepStartRequests;
  const seconds = (now - state.stepStartedAt) / 1000;
  gates.push({
    name: 'samples',
    ok: samples >= spec.minSamplesPerStep,
    detail: `${samples.toLocaleString('en-US')} of ${spec.minSamplesPerStep.toLocaleString('en-US')}${matured !== undefined ? ' matured' : ''}`,
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
      return { state: { ...state, reason: `step ${spec.steps[state.stepIndex]}%: collecting evidence` } };
  }
  if (isLast) {
    if (better || spec.promoteWhenEquivalent) {
      const why = better
        ? `${state.candidate} is significantly better on ${comparison!.metric} (${formatLift(comparison!.absoluteLift)}, always-valid p = ${formatValue(comparison!.sequentialPValue)})`
        : `${state.candidate} is not worse after ${samples.toLocaleString('en-US')} samples and the stopping rule accepts equivalence`;
      return moveTo(
        state,
        'Succeeded',
        now,
        `promoted: ${why}`,
        spec,
        variants,
        spec.steps.length - 1,
        candidate.requests,
      );
    }
    return {
      state: {
        ...state,
        reason: `waiting at ${spec.steps[state.stepIndex]}% for ${state.candidate} to be significantly better (${comparison?.reason ?? 'no comparison yet'})`,
      },
    };
  }
  if (spec.manualApproval) {
    gates.push({
      name: 'approval',
      ok: state.approved,
      detail: state.approved ? 'approved' : 'waiting for approval',
    });
    if (!state.approved)
      return {
        state: {
          ...state,
          awaitingApproval: true,
          reason: `step ${spec.steps[state.stepIndex]}% passed its gates; waiting for approval to go to ${spec.steps[nextIndex]}%`,
        },
      };
  }
  return moveTo(
    state,
    'Progressing',
    now,
    `step ${spec.steps[state.stepIndex]}% passed its gates (${samples.toLocaleString('en-US')} samples, ${Math.floor(seconds)} s): advancing to ${spec.steps[nextIndex]}%`,
    spec,
    variants,
    nextIndex,
    candidate.requests,
    matured,
  );
}
