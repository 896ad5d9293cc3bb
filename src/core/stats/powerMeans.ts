/**
 * Sample size for a difference of means (a continuous primary metric) with unequal arms: the
 * two-sided normal (z) test, as statsmodels computes it in
 * `NormalIndPower().solve_power(effect_size=δ/σ, alpha, power, ratio)`:
 *
 *   power(n) = Φ(d·sqrt(n_eff) − z_{1−α/2}) + Φ(−d·sqrt(n_eff) − z_{1−α/2}),
 *   n_eff = 1 / (1/n + 1/(r·n)),   d = δ/σ,
 *
 * solved for the variant's n (the baseline has r·n). The second term (detecting the effect
 * with the wrong sign) is included, as in statsmodels, so the result matches it and not only
 * the one-tail closed form ((z_{1−α/2} + z_power)/d)² (1 + 1/r), its starting point. The
 * t-test's figure (statsmodels `tt_ind_solve_power`) is at most a few units larger at the
 * sizes an online experiment needs (test/fixtures/stats/planning.py records both).
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

export interface MeansSampleSizeOptions {
  /** The smallest difference of means worth detecting, in the metric's unit (its sign does not matter). */
  difference: number;
  /** Standard deviation of the metric per unit (taken equal in both arms). */
  sd: number;
  /** Two-sided significance level; default 0.05. */
  alpha?: number;
  /** Default 0.8. */
  power?: number;
  /** Baseline units per variant unit (19 for a 95/5 split); default 1. */
  ratio?: number;
}

/** Variant units needed, unrounded (statsmodels NormalIndPower.solve_power); the baseline needs ratio × this. */
export function requiredSampleSizeMeans(options: MeansSampleSizeOptions): number {
  const { alpha = 0.05, power = 0.8, ratio = 1, sd } = options;
  const delta = Math.abs(options.difference);
  if (!(delta > 0 && Number.isFinite(delta)))
    throw new RangeError(`difference must be a finite number ≠ 0, got ${options.difference}`);
  if (!(sd > 0 && Number.isFinite(sd))) throw new RangeError(`sd must be > 0, got ${sd}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  if (!(ratio > 0 && Number.isFinite(ratio))) throw new RangeError(`ratio must be > 0, got ${ratio}`);
  const d = delta / sd;
  const crit = -normalQuantile(alpha / 2, 0, 1);
  const powerAt = (n: number): number => {
    const shift = d * Math.sqrt(n / (1 + 1 / ratio));
    return normalCdf(shift - crit, 0, 1) + normalCdf(-shift - crit, 0, 1);
  };
  // The one-tail closed form overshoots by the other tail's tiny share; bisect below it.
  let hi = ((crit + normalQuantile(power, 0, 1)) / d) ** 2 * (1 + 1 / ratio);
  let lo = 0;
  if (!(hi > 0)) return 0;
  for (let i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (powerAt(mid) < power) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
