/**
 * A plan of the primary metric's test (contract: docs/planning.md): what `model-canary plan`
 * prints before any traffic, and what each comparison of the report carries as `plan`.
 * Field names here are relied on by checks; add, don't rename.
 */

/** Units (users with a sticky key, else requests) the candidate, the baseline and the experiment need. */
export interface PlanUnits {
  candidate: number;
  baseline: number;
  /** All the experiment's randomised units (every arm, at the split's shares). */
  total: number;
}

export interface TestPlan {
  kind: 'proportion' | 'continuous';
  /** The baseline's rate (proportions) or mean (continuous) the plan assumes. */
  baselineRate: number;
  /** The metric's standard deviation per unit (continuous metrics). */
  sd?: number;
  /** Baseline units per candidate unit (the split: 19 for 95/5). */
  ratio: number;
  /** The candidate's share of the experiment's units (0.05 for 95/5). */
  candidateShare: number;
  /** The minimum detectable effect: absolute (rate points or the metric's unit) and relative to the baseline. */
  mde: { absolute: number; relative: number; source: 'spec' | 'default' };
  alpha: number;
  power: number;
  /** The fixed-horizon test's sample size at the MDE (statsmodels' formula), rounded up. */
  fixedHorizon: PlanUnits;
  /** The always-valid test's stopping time if the true lift is the MDE (simulated, docs/planning.md). */
  sequential: {
    /** Expected (mean) units at which it decides. */
    expected: PlanUnits;
    /** 10th and 90th percentiles of where it decides. */
    p10: PlanUnits;
    p90: PlanUnits;
    /** Units by which it has decided with the planned power (its power-quantile). */
    atPower: PlanUnits;
    /** Probability that it has decided by the fixed-horizon sample size. */
    detectByFixedHorizon: number;
    /** Probability that it has decided by a horizon asked for (`plan --within`), in units of the experiment. */
    detectByHorizon?: { total: number; probability: number };
    /** Simulated experiments behind these figures. */
    paths: number;
  };
}

/** How long a plan takes at a traffic rate (seconds). */
export interface PlanDurations {
  /** Randomised units per second the experiment gets (all arms together). */
  unitsPerSecond: number;
  fixedHorizon: number;
  expected: number;
  p10: number;
  p90: number;
  atPower: number;
}

/** "3.2 days", "5.0 hours", "40 minutes", "12 s" — the unit a person would pick. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'never (no traffic)';
  if (seconds >= 2 * 86_400) return `${(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 2 * 3_600) return `${(seconds / 3_600).toFixed(1)} hours`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.max(0, Math.round(seconds))} s`;
}
