/**
 * The plan a report shows for a candidate: the test planned at the weights in force and the
 * baseline observed so far, and how long its figures still take at the current rate.
 */
import type { PlanDurations, PlanUnits, TestPlan } from '../../shared/plan';
import type { Experiment } from '../spec/experiment';
import { decisionAlpha, plannedEffect, plannedPower } from '../spec/planning';
import { planTest } from './plan';
import type { ArmLook } from './sequentialTests';

export interface LiveArms {
  baseline: ArmLook;
  candidate: ArmLook;
  /** The weights in force; the experiment file's when absent. */
  weights?: Record<string, number> | undefined;
  firstTs: number;
  now: number;
}

/** The candidate's plan and time to decision, or undefined while the baseline cannot be planned from. */
export function livePlan(
  experiment: Experiment,
  baseline: { name: string },
  candidate: { name: string },
  arms: LiveArms,
): { plan: TestPlan; timeToDecision?: PlanDurations } | undefined {
  const weights = arms.weights ?? Object.fromEntries(experiment.spec.variants.map((v) => [v.name, v.weight]));
  const wb = weights[baseline.name] ?? 0;
  const wc = weights[candidate.name] ?? 0;
  const sum = Object.values(weights).reduce((a, w) => a + (w > 0 ? w : 0), 0);
  if (!(wb > 0 && wc > 0 && sum > 0)) return undefined;
  const kind = experiment.spec.metrics.primary.kind;
  const { requests: n, metric } = arms.baseline;
  if (n < 2) return undefined;
  const mean = kind === 'proportion' ? (metric?.successes ?? 0) / n : (metric?.sum ?? 0) / n;
  const sd =
    kind === 'continuous'
      ? Math.sqrt(Math.max(0, (metric?.sumSq ?? 0) - (metric?.sum ?? 0) * mean) / (n - 1))
      : undefined;
  let plan: TestPlan;
  try {
    plan = planTest({
      kind,
      baselineRate: mean,
      ...(sd !== undefined ? { sd } : {}),
      effect: plannedEffect(experiment),
      alpha: decisionAlpha(experiment),
      power: plannedPower(experiment),
      ratio: wb / wc,
      candidateShare: wc / sum,
    });
  } catch (err) {
    // A rate of 0 or 1 so far, or no spread yet: nothing to plan from until more data comes.
    if (err instanceof RangeError) return undefined;
    throw err;
  }
  const have = arms.candidate.requests;
  const elapsed = (arms.now - arms.firstTs) / 1000;
  if (!(Number.isFinite(elapsed) && elapsed > 0 && have > 0)) return { plan };
  const perSecond = have / elapsed;
  const left = (u: PlanUnits): number => Math.max(0, u.candidate - have) / perSecond;
  const s = plan.sequential;
  return {
    plan,
    timeToDecision: {
      unitsPerSecond: perSecond / plan.candidateShare,
      fixedHorizon: left(plan.fixedHorizon),
      expected: left(s.expected),
      p10: left(s.p10),
      p90: left(s.p90),
      atPower: left(s.atPower),
    },
  };
}
