/**
 * The plan of a primary metric's test at a split: the minimum detectable effect, the
 * fixed-horizon sample size (statsmodels' formulas, with the real split ratio) and the
 * always-valid test's stopping time at the MDE, simulated (src/core/stats/sequentialPlan.ts).
 * `model-canary plan` prints it before any traffic; the report carries it per comparison.
 */
import type { PlanDurations, PlanUnits, TestPlan } from '../../shared/plan';
import { absoluteEffect, requiredSampleSize, type Effect } from '../stats/power';
import { requiredSampleSizeMeans } from '../stats/powerMeans';
import { simulateStopping, stoppedBy, stoppingQuantile } from '../stats/sequentialPlan';
import { minimumDetectableEffect, minimumDetectableMeanEffect, SEQUENTIAL_WARMUP } from './sequentialTests';

/** Simulated experiments behind a plan's sequential figures. */
export const PLAN_PATHS = 1000;

export interface PlanInput {
  kind: 'proportion' | 'continuous';
  /** The baseline's rate (proportions, in (0, 1)) or mean (continuous). */
  baselineRate: number;
  /** The metric's standard deviation per unit (continuous metrics; taken equal in both arms). */
  sd?: number;
  /** The experiment's minimum detectable effect; undefined for the default rule. */
  effect?: Effect | undefined;
  alpha: number;
  power: number;
  /** Baseline units per candidate unit. */
  ratio: number;
  /** The candidate's share of the experiment's units; default 1 / (1 + ratio). */
  candidateShare?: number;
  /** A horizon in the experiment's units (all arms): the plan gives the chance of deciding by then. */
  horizonTotal?: number | undefined;
}

/** The absolute MDE of a metric at its baseline: the experiment's, else the default rule. */
export function absoluteMde(
  kind: 'proportion' | 'continuous',
  baselineRate: number,
  sd: number,
  effect: Effect | undefined,
): number {
  if (effect) return Math.abs(absoluteEffect(Math.abs(baselineRate), effect));
  return kind === 'proportion'
    ? minimumDetectableEffect(baselineRate)
    : minimumDetectableMeanEffect(baselineRate, sd);
}

/** The test's plan, or a RangeError saying which input cannot be planned for. */
export function planTest(input: PlanInput): TestPlan {
  const { kind, baselineRate: mean, alpha, power, ratio } = input;
  if (!(ratio > 0 && Number.isFinite(ratio)))
    throw new RangeError(`the split gives the candidate no traffic (ratio ${ratio})`);
  const share = input.candidateShare ?? 1 / (1 + ratio);
  const sd = input.sd ?? NaN;
  const delta = absoluteMde(kind, mean, sd, input.effect);
  if (!(delta > 0 && Number.isFinite(delta)))
    throw new RangeError('the minimum detectable effect is 0 at this baseline — give an absolute one');
  let fixed: number;
  let perUnitVariance: number;
  let kappa: number;
  if (kind === 'proportion') {
    if (!(mean > 0 && mean < 1)) throw new RangeError(`the baseline rate must be in (0, 1), got ${mean}`);
    // Near a rate of 1 plan for a fall instead.
    const signed = mean + delta < 1 ? delta : -delta;
    const pv = mean + signed;
    if (!(pv > 0)) throw new RangeError(`the effect ${delta} is too large for the baseline rate ${mean}`);
    fixed = requiredSampleSize({
      baselineRate: mean,
      minimumDetectableEffect: { absolute: signed },
      alpha,
      power,
      ratio,
    });
    perUnitVariance = pv * (1 - pv) + (mean * (1 - mean)) / ratio;
    const pooled = (pv + ratio * mean) / (1 + ratio);
    kappa = (pooled * (1 - pooled) * (1 + 1 / ratio)) / perUnitVariance;
  } else {
    if (!(sd > 0 && Number.isFinite(sd)))
      throw new RangeError(`the standard deviation must be > 0, got ${input.sd}`);
    fixed = requiredSampleSizeMeans({ difference: delta, sd, alpha, power, ratio });
    perUnitVariance = sd * sd * (1 + 1 / ratio);
    kappa = 1 + (delta * delta * ratio) / ((1 + ratio) ** 2 * sd * sd);
  }
  // Information s per candidate unit, and where the test starts (its warm-up on the baseline).
  const perUnit = (delta * delta) / perUnitVariance;
  const start = Math.min(100, Math.max(1e-3, round1((SEQUENTIAL_WARMUP / ratio) * perUnit)));
  const stops = simulateStopping({
    alpha,
    // κ to 0.02 (a change of 0.02 moves the stopping times by under 1%), so the cache serves a live report.
    kappa: Math.round(kappa * 50) / 50,
    start,
    paths: PLAN_PATHS,
  });
  const units = (candidate: number): PlanUnits => ({
    candidate: Math.ceil(candidate),
    baseline: Math.ceil(candidate * ratio),
    total: Math.ceil(candidate / share),
  });
  const at = (q: number): PlanUnits => units(stoppingQuantile(stops, q) / perUnit);
  return {
    kind,
    baselineRate: mean,
    ...(kind === 'continuous' ? { sd } : {}),
    ratio,
    candidateShare: share,
    mde: {
      absolute: delta,
      relative: mean !== 0 ? delta / Math.abs(mean) : NaN,
      source: input.effect ? 'spec' : 'default',
    },
    alpha,
    power,
    fixedHorizon: units(fixed),
    sequential: {
      expected: units(stops.mean / perUnit),
      p10: at(0.1),
      p90: at(0.9),
      atPower: at(power),
      detectByFixedHorizon: stoppedBy(stops, Math.ceil(fixed) * perUnit),
      ...(input.horizonTotal !== undefined
        ? {
            detectByHorizon: {
              total: input.horizonTotal,
              probability: stoppedBy(stops, input.horizonTotal * share * perUnit),
            },
          }
        : {}),
      paths: stops.times.length,
    },
  };
}

/** The plan's figures in seconds at a rate of randomised units per second (all arms together). */
export function planDurations(plan: TestPlan, unitsPerSecond: number): PlanDurations {
  const t = (u: PlanUnits): number => (unitsPerSecond > 0 ? u.total / unitsPerSecond : Infinity);
  const s = plan.sequential;
  return {
    unitsPerSecond,
    fixedHorizon: t(plan.fixedHorizon),
    expected: t(s.expected),
    p10: t(s.p10),
    p90: t(s.p90),
    atPower: t(s.atPower),
  };
}

function round1(x: number): number {
  return Number(x.toPrecision(1));
}
