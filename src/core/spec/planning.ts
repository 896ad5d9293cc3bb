/**
 * What an experiment is planned to detect: `spec.metrics.primary.minimumDetectableEffect`,
 * `power` and `alpha` (docs/planning.md). `alpha` is the one significance level of the
 * decisions and the rollout; `spec.rollout.alpha`, its older place, is still accepted.
 */
import { z } from 'zod';
import type { Effect } from '../stats/power';

/** The default significance level of the decisions (two-sided). */
export const DEFAULT_ALPHA = 0.05;
/** The default probability of detecting the minimum detectable effect when it is real. */
export const DEFAULT_POWER = 0.8;

const EFFECT = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%|pp)?\s*$/;

/** The planning fields of `spec.metrics.primary` (spread into its schema). */
export const planningFields = {
  /** `10%` (relative to the baseline), `0.5pp` (absolute, proportions) or a number (absolute, continuous). */
  minimumDetectableEffect: z
    .union([
      z.number().positive('must be > 0 (the smallest lift worth detecting)'),
      z
        .string()
        .regex(
          EFFECT,
          'must be a relative lift like "10%", an absolute one like "0.5pp" (percentage points), or a number in the metric\'s unit',
        ),
    ])
    .optional(),
  power: z
    .number()
    .gt(0.5, 'must be in (0.5, 1), e.g. 0.8')
    .lt(1, 'must be in (0.5, 1), e.g. 0.8')
    .optional(),
  alpha: z
    .number()
    .gt(0, 'must be in (0, 0.5), e.g. 0.05')
    .lt(0.5, 'must be in (0, 0.5), e.g. 0.05')
    .optional(),
};

type RawEffect = string | number | undefined;
type Kind = 'proportion' | 'continuous';

/** The effect a `minimumDetectableEffect` value means, or a message saying how to write it. */
export function parseEffect(raw: string | number, kind: Kind): Effect | { error: string } {
  if (typeof raw === 'number') {
    if (kind === 'proportion')
      return {
        error: `a number is ambiguous for a proportion — write "${raw * 100}pp" (absolute, percentage points) or "${raw * 100}%" (relative to the baseline rate)`,
      };
    return { absolute: raw };
  }
  const m = EFFECT.exec(raw);
  if (!m) return { error: `cannot read "${raw}": write "10%" (relative) or "0.5pp" (absolute)` };
  const value = Number(m[1]);
  if (!(value > 0)) return { error: 'must be > 0 (the smallest lift worth detecting)' };
  if (m[2] === '%') return { relative: value / 100 };
  if (m[2] === 'pp') {
    if (kind === 'continuous')
      return {
        error: `"pp" (percentage points) is for proportions — for a continuous metric write "${value}%" (relative) or ${value} (absolute, in the metric's unit)`,
      };
    if (value >= 100) return { error: 'an absolute lift must be below 100pp' };
    return { absolute: value / 100 };
  }
  if (kind === 'proportion')
    return {
      error: `"${raw}" has no unit — write "${value}pp" (absolute, percentage points) or "${value}%" (relative)`,
    };
  return { absolute: value };
}

interface PlannedSpec {
  metrics: { primary: { kind: Kind; minimumDetectableEffect?: RawEffect; power?: number; alpha?: number } };
  rollout?: { alpha?: number | undefined } | undefined;
}

/** Problems of the planning fields, as (path under spec, message) pairs; empty when they are fine. */
export function planningProblems(spec: PlannedSpec): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const primary = spec.metrics.primary;
  if (primary.minimumDetectableEffect !== undefined) {
    const effect = parseEffect(primary.minimumDetectableEffect, primary.kind);
    if ('error' in effect)
      problems.push({ path: ['metrics', 'primary', 'minimumDetectableEffect'], message: effect.error });
  }
  const old = spec.rollout?.alpha;
  if (primary.alpha !== undefined && old !== undefined && old !== primary.alpha)
    problems.push({
      path: ['rollout', 'alpha'],
      message: `says ${old} but spec.metrics.primary.alpha says ${primary.alpha} — there is one alpha: keep spec.metrics.primary.alpha and remove spec.rollout.alpha (its older place)`,
    });
  return problems;
}

/** The significance level of the decisions: spec.metrics.primary.alpha, else spec.rollout.alpha, else 0.05. */
export function decisionAlpha(experiment: { spec: PlannedSpec }): number {
  return experiment.spec.metrics.primary.alpha ?? experiment.spec.rollout?.alpha ?? DEFAULT_ALPHA;
}

/** The power the experiment is planned for: spec.metrics.primary.power, else 0.8. */
export function plannedPower(experiment: { spec: PlannedSpec }): number {
  return experiment.spec.metrics.primary.power ?? DEFAULT_POWER;
}

/** The minimum detectable effect the experiment file gives, or undefined for the default rule. */
export function plannedEffect(experiment: { spec: PlannedSpec }): Effect | undefined {
  const { minimumDetectableEffect: raw, kind } = experiment.spec.metrics.primary;
  if (raw === undefined) return undefined;
  const effect = parseEffect(raw, kind);
  // The loader refuses an unreadable effect, so this only happens with a hand-built experiment.
  if ('error' in effect) throw new RangeError(`minimumDetectableEffect: ${effect.error}`);
  return effect;
}

/** The experiment's rollout settings with the one alpha in them (for rolloutSpecOf). */
export function rolloutSection<R extends { alpha?: number | undefined }>(experiment: {
  spec: PlannedSpec & { rollout?: R | undefined };
}): Partial<R> & { alpha: number } {
  return { ...(experiment.spec.rollout ?? ({} as Partial<R>)), alpha: decisionAlpha(experiment) };
}
