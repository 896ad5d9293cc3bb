/**
 * How much traffic an experiment needs, and how long that takes at the canary's share.
 *
 * Sample size is the classical normal-approximation formula for two independent
 * proportions — pooled variance under H0, unpooled under H1 (J. L. Fleiss, B. Levin,
 * M. C. Paik, "Statistical Methods for Rates and Proportions", 3rd ed., ch. 4, the form
 * without continuity correction) — which is what statsmodels computes in
 * `samplesize_proportions_2indep_onetail(diff, prop2, power, ratio, alpha)`:
 *
 *   n_variant = ((z_{1−α/2} · σ0 + z_{power} · σ1) / δ)²,
 *   σ0² = p̄(1 − p̄)(1 + 1/r),  p̄ = (p_v + r·p_b)/(1 + r),   σ1² = p_v(1 − p_v) + p_b(1 − p_b)/r,
 *
 * with r = n_baseline / n_variant (1 for equal arms). For 10% → 10.5%, α 0.05, power 0.8
 * and equal arms it gives 57,762.65 (statsmodels the same), which we round UP to 57,763:
 * rounding down would leave the test just short of the power asked for. (Using the pooled
 * variance for both terms gives 57,763.8; the unpooled for both, 57,759.9.)
 *
 * The effect is given either as an absolute difference of rates ({ absolute: 0.005 },
 * 10% → 10.5%) or relative to the baseline rate ({ relative: 0.05 }, the same here);
 * both are accepted because product people think in relative lifts and the formula in
 * absolute ones.
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** A difference in conversion rate: absolute (rate points) or relative to the baseline rate. */
export type Effect = { absolute: number } | { relative: number };

/** The absolute difference of rates an effect means at this baseline rate. */
export function absoluteEffect(baselineRate: number, effect: Effect): number {
  return 'absolute' in effect ? effect.absolute : baselineRate * effect.relative;
}

export interface SampleSizeOptions {
  /** Conversion rate of the baseline, in (0, 1). */
  baselineRate: number;
  /** The smallest lift worth detecting; its sign does not matter for a two-sided test. */
  minimumDetectableEffect: Effect;
  /** Two-sided significance level; default 0.05. */
  alpha?: number;
  /** Probability of detecting the effect when it is real; default 0.8. */
  power?: number;
  /** Baseline trials per variant trial (19 for a 95/5 split); default 1, equal arms. */
  ratio?: number;
}

/** Variant trials needed, unrounded (statsmodels samplesize_proportions_2indep_onetail); the baseline needs ratio × this. */
export function requiredSampleSize(options: SampleSizeOptions): number {
  const { baselineRate: pb, alpha = 0.05, power = 0.8, ratio = 1 } = options;
  const delta = absoluteEffect(pb, options.minimumDetectableEffect);
  const pv = pb + delta;
  if (!(pb > 0 && pb < 1)) throw new RangeError(`baselineRate must be in (0, 1), got ${pb}`);
  if (!(pv > 0 && pv < 1)) {
    throw new RangeError(`baselineRate + effect must stay in (0, 1), got ${pv} — choose a smaller effect`);
  }
  if (delta === 0) throw new RangeError('minimumDetectableEffect must not be 0');
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  if (!(ratio > 0 && Number.isFinite(ratio))) throw new RangeError(`ratio must be > 0, got ${ratio}`);
  const pooled = (pv + ratio * pb) / (1 + ratio);
  const sdNull = Math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio));
  const sdAlt = Math.sqrt(pv * (1 - pv) + (pb * (1 - pb)) / ratio);
  const zAlpha = -normalQuantile(alpha / 2, 0, 1);
  const zPower = normalQuantile(power, 0, 1);
  const numerator = Math.max(0, zAlpha * sdNull + zPower * sdAlt);
  return (numerator / delta) ** 2;
}

/** Trials per arm (the variant's, when ratio ≠ 1) to detect the effect: requiredSampleSize rounded up. */
export function sampleSizePerArm(options: SampleSizeOptions): number {
  return Math.ceil(requiredSampleSize(options));
}

export interface TimeToDecisionOptions {
  /** Trials the limiting arm needs (sampleSizePerArm). */
  required: number;
  /** Trials the limiting arm (usually the canary) has so far. */
  observedPerArm: number;
  /** Requests per second reaching the experiment, all arms together. */
  requestsPerSecond: number;
  /** The limiting arm's share of those requests, e.g. 0.05 for a 5% canary. */
  share: number;
}

/** Seconds until the limiting arm reaches the required trials: 0 when it has, Infinity when it gets no traffic. */
export function timeToDecision(options: TimeToDecisionOptions): number {
  const { required, observedPerArm, requestsPerSecond, share } = options;
  const remaining = Math.max(0, required - observedPerArm);
  if (remaining === 0) return 0;
  const perSecond = requestsPerSecond * share;
  if (!(perSecond > 0)) return Infinity;
  return remaining / perSecond;
}
