/**
 * `plan`: before any traffic, what an experiment can detect and how long it takes: the split,
 * the MDE, α and power, the fixed-horizon sample size (statsmodels' formula at the split's
 * ratio) and the always-valid test's expected sample size at the MDE with its range, at a
 * traffic rate (docs/planning.md). Every default of the verb is here.
 */
import { planDurations, planTest } from '../core/analysis/plan';
import type { Experiment } from '../core/spec/experiment';
import { decisionAlpha, plannedEffect, plannedPower } from '../core/spec/planning';
import { count } from '../shared/format';
import { formatDuration, type PlanDurations, type TestPlan } from '../shared/plan';
import { mdeText, planLines } from '../shared/planText';
import { usageError } from './errors';

/** Randomised units per second when none is given. */
export const DEFAULT_PLAN_RPS = 10;
/** The baseline conversion rate a proportion is planned at when none is given. */
export const DEFAULT_BASELINE_RATE = 0.1;
/** The baseline mean of a continuous metric when none is given. */
export const DEFAULT_BASELINE_MEAN = 1;

export interface PlanInput {
  experiment: Experiment;
  /** Randomised units (requests, or new users with a sticky key) per second, all arms together; default 10. */
  rps?: number | undefined;
  /** Proportions: the baseline's conversion rate, in (0, 1); default 0.1. */
  baselineRate?: number | undefined;
  /** Continuous metrics: the baseline's mean (default 1) and standard deviation per unit (default |mean|, or 1 at a mean of 0). */
  baselineMean?: number | undefined;
  baselineSd?: number | undefined;
  /** The candidate to plan for; default each candidate with weight. */
  candidate?: string | undefined;
  /** A horizon in seconds: the plan gives the chance that the test decides within it. */
  withinSeconds?: number | undefined;
}

export interface CandidatePlan {
  candidate: string;
  /** The candidate's and the baseline's weights. */
  weights: { baseline: number; candidate: number };
  plan: TestPlan;
  durations: PlanDurations;
}

export interface PlanResult {
  experiment: string;
  metric: string;
  kind: 'proportion' | 'continuous';
  baseline: string;
  /** What a unit is: users (the experiment has a sticky key) or requests. */
  unit: 'user' | 'request';
  /** Where each setting came from: the experiment file or the default. */
  sources: {
    mde: 'spec' | 'default';
    alpha: 'spec' | 'default';
    power: 'spec' | 'default';
    rps: 'flag' | 'default';
  };
  candidates: CandidatePlan[];
  /** The horizon asked for (seconds), when one was. */
  withinSeconds?: number;
}

/** Plans the experiment's primary metric for each candidate (or the one named). */
export function planExperiment(input: PlanInput): PlanResult {
  const { experiment } = input;
  const primary = experiment.spec.metrics.primary;
  const rps = input.rps ?? DEFAULT_PLAN_RPS;
  if (!(rps > 0 && Number.isFinite(rps))) throw usageError(`--rps must be a number > 0, got ${input.rps}`);
  if (input.withinSeconds !== undefined && !(input.withinSeconds > 0 && Number.isFinite(input.withinSeconds)))
    throw usageError(`--within must be a duration > 0 such as 7d, 12h or 90m`);
  let baselineRate: number;
  let sd: number | undefined;
  if (primary.kind === 'proportion') {
    if (input.baselineMean !== undefined || input.baselineSd !== undefined)
      throw usageError(
        `${primary.name} is a proportion: give its baseline as --baseline-rate (e.g. 0.1), not a mean and sd`,
      );
    baselineRate = input.baselineRate ?? DEFAULT_BASELINE_RATE;
    if (!(baselineRate > 0 && baselineRate < 1))
      throw usageError(`--baseline-rate must be a conversion rate in (0, 1), e.g. 0.1, got ${baselineRate}`);
  } else {
    if (input.baselineRate !== undefined)
      throw usageError(
        `${primary.name} is continuous: give its baseline as --baseline-mean and --baseline-sd, not a rate`,
      );
    baselineRate = input.baselineMean ?? DEFAULT_BASELINE_MEAN;
    sd = input.baselineSd ?? (baselineRate !== 0 ? Math.abs(baselineRate) : 1);
    if (!Number.isFinite(baselineRate)) throw usageError(`--baseline-mean must be a number`);
    if (!(sd > 0 && Number.isFinite(sd))) throw usageError(`--baseline-sd must be a number > 0, got ${sd}`);
  }
  const variants = experiment.spec.variants;
  const baseline = variants.find((v) => v.role === 'baseline')!;
  const total = variants.reduce((a, v) => a + v.weight, 0);
  const named = input.candidate;
  if (named !== undefined && !variants.some((v) => v.role === 'candidate' && v.name === named))
    throw usageError(
      `no candidate "${named}" in ${experiment.metadata.name} — its candidates are ${variants
        .filter((v) => v.role === 'candidate')
        .map((v) => v.name)
        .join(', ')}`,
    );
  const candidates = variants.filter(
    (v) => v.role === 'candidate' && (named !== undefined ? v.name === named : v.weight > 0),
  );
  if (candidates.length === 0)
    throw usageError(
      `${experiment.metadata.name} has no candidate with weight — give its weight in the file, or name one with --candidate`,
    );
  if (!(baseline.weight > 0))
    throw usageError(`the baseline ${baseline.name} has weight 0: nothing to compare the candidate with`);
  const primaryFields = primary as { alpha?: number; power?: number; minimumDetectableEffect?: unknown };
  const plans = candidates.map((c): CandidatePlan => {
    if (!(c.weight > 0))
      throw usageError(`the candidate ${c.name} has weight 0 in the file: it would never get a sample`);
    let plan: TestPlan;
    try {
      plan = planTest({
        kind: primary.kind,
        baselineRate,
        ...(sd !== undefined ? { sd } : {}),
        effect: plannedEffect(experiment),
        alpha: decisionAlpha(experiment),
        power: plannedPower(experiment),
        ratio: baseline.weight / c.weight,
        candidateShare: c.weight / total,
        horizonTotal: input.withinSeconds !== undefined ? input.withinSeconds * rps : undefined,
      });
    } catch (err) {
      if (err instanceof RangeError)
        throw usageError(
          `cannot plan ${c.name}: ${err.message} — check spec.metrics.primary.minimumDetectableEffect and the baseline flags`,
        );
      throw err;
    }
    return {
      candidate: c.name,
      weights: { baseline: baseline.weight, candidate: c.weight },
      plan,
      durations: planDurations(plan, rps),
    };
  });
  return {
    experiment: experiment.metadata.name,
    metric: primary.name,
    kind: primary.kind,
    baseline: baseline.name,
    unit: experiment.spec.routing?.sticky ? 'user' : 'request',
    sources: {
      mde: primaryFields.minimumDetectableEffect !== undefined ? 'spec' : 'default',
      alpha:
        primaryFields.alpha !== undefined || experiment.spec.rollout?.alpha !== undefined
          ? 'spec'
          : 'default',
      power: primaryFields.power !== undefined ? 'spec' : 'default',
      rps: input.rps !== undefined ? 'flag' : 'default',
    },
    candidates: plans,
    ...(input.withinSeconds !== undefined ? { withinSeconds: input.withinSeconds } : {}),
  };
}

/** The plan as lines of text, the same in the terminal and in VS Code's output. */
export function planText(result: PlanResult): string {
  const units = result.unit === 'user' ? 'users' : 'requests';
  const from = (s: 'spec' | 'default'): string => (s === 'spec' ? 'experiment file' : 'default');
  const first = result.candidates[0]!.plan;
  const baseline =
    result.kind === 'proportion'
      ? `baseline rate ${(first.baselineRate * 100).toFixed(2)}%`
      : `baseline mean ${first.baselineRate}, sd ${first.sd}`;
  const lines = [
    `${result.experiment}: plan for ${result.metric} (${result.kind}, ${baseline}), one unit = one ${result.unit}`,
    `  MDE from the ${from(result.sources.mde)}, α from the ${from(result.sources.alpha)}, power from the ${from(result.sources.power)}; ` +
      `${result.candidates[0]!.durations.unitsPerSecond} ${units}/s${result.sources.rps === 'flag' ? '' : ' (the default; give --rps)'}`,
  ];
  for (const c of result.candidates) {
    lines.push(
      '',
      `${c.candidate} against ${result.baseline} (weights ${c.weights.baseline}/${c.weights.candidate}), at ${c.durations.unitsPerSecond} ${units}/s:`,
      ...planLines(c.plan, units, c.durations).map((l) => `  ${l}`),
      `  about ${formatDuration(c.durations.expected)} to detect ${mdeText(c.plan)} (expected; ${formatDuration(c.durations.atPower)} for power ${c.plan.power})`,
    );
    const h = c.plan.sequential.detectByHorizon;
    if (h && result.withinSeconds !== undefined)
      lines.push(
        `  ${Math.round(h.probability * 100)}% chance to detect ${mdeText(c.plan)} within ${formatDuration(result.withinSeconds)} (${count(h.total)} ${units})`,
      );
  }
  return lines.join('\n');
}
