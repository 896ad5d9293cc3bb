/** A rollout's settings: the experiment file's `rollout:` section with defaults. */

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

/** The rollout settings of an experiment file, with defaults for what it leaves out. */
export function rolloutSpecOf(rollout: Partial<RolloutSpec> | undefined): RolloutSpec {
  return {
    ...DEFAULT_ROLLOUT,
    ...Object.fromEntries(Object.entries(rollout ?? {}).filter(([, v]) => v !== undefined)),
  };
}
