/**
 * Always-valid p-values for the difference of two conversion rates, so that the
 * dashboard can be watched continuously without inflating false positives: the mixture
 * sequential probability ratio test (mSPRT, H. Robbins, "Statistical methods related to
 * the law of the iterated logarithm", Ann. Math. Statist. 41, 1970) in the form used for
 * A/B tests by R. Johari, P. Koomen, L. Pekelis, D. Walsh, "Peeking at A/B tests: why it
 * matters, and what to do about it", KDD 2017 (also R. Johari, L. Pekelis, D. Walsh,
 * "Always valid inference: continuous monitoring of A/B tests", Operations Research
 * 70(3), 2022). Hand-rolled: it is a closed form, and no maintained JavaScript library has it.
 *
 * Normal approximation. The estimate θ̂ = p̂_v − p̂_b is taken as N(θ, V) with
 * V = p̄(1 − p̄)(1/nb + 1/nv), the pooled variance under H0: θ = 0 (the z-test's). Mixing
 * the alternatives θ ~ N(0, τ²) gives the likelihood ratio
 *
 *   Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2V(V + τ²))).
 *
 * With n trials per arm and per-trial variance σ², V = 2σ²/n and this is the paper's
 * two-sample statistic sqrt(2σ²/(2σ² + nτ²)) · exp(n²τ²θ̂² / (4σ²(2σ² + nτ²))). Under H0,
 * Λ is a martingale, so by Ville's inequality P(sup_n Λ_n ≥ 1/α) ≤ α, and
 * p_n = min(1, 1 / max_{k≤n} Λ_k) is a p-value valid at any stopping time. Because V is
 * estimated and the rates are only approximately normal, validity holds asymptotically;
 * the A/A simulation in test/unit/stats.test.ts checks it at canary sizes.
 *
 * The mixing variance τ² sets where the test is most powerful. Johari et al. advise
 * matching the mixing distribution to the effects one expects (the deployed system fits
 * it to the effects seen in past experiments). We have no such history, so we use the
 * effect the experiment is meant to detect: for an observed θ̂ = δ, Λ is largest at
 * τ² = δ² − V, which tends to δ² as data accrue, so τ² = δ² (δ the minimum detectable
 * effect, by default a 5% relative lift) makes the test quickest to reject around δ.
 * τ² must be fixed before looking at the outcome data (from the experiment's plan, or
 * from the baseline rate known before the canary started); choosing it from the
 * observed lift would break validity.
 */
import { absoluteEffect, type Effect } from './power';
import { checkCounts } from './counts';

export interface MsprtOptions {
  /** Variance of the normal mixing distribution over effects (absolute rate difference, squared). */
  tau2: number;
}

export interface MsprtResult {
  /** The mixture likelihood ratio Λ (may be Infinity for overwhelming evidence). */
  lambda: number;
  /** min(1, 1/Λ). */
  pValue: number;
}

/** Mixture-SPRT likelihood ratio and p-value at one look; Λ 1, p 1 when an arm has no trials or the pooled rate is 0 or 1. */
export function msprtPValue(
  xb: number,
  nb: number,
  xv: number,
  nv: number,
  options: MsprtOptions,
): MsprtResult {
  checkCounts('baseline', xb, nb);
  checkCounts('variant', xv, nv);
  const { tau2 } = options;
  if (!(tau2 >= 0 && Number.isFinite(tau2)))
    throw new RangeError(`tau2 must be a finite number ≥ 0, got ${tau2}`);
  const n = nb + nv;
  const x = xb + xv;
  if (tau2 === 0 || nb === 0 || nv === 0 || x === 0 || x === n) return { lambda: 1, pValue: 1 };
  const v = ((x * (n - x)) / (n * n)) * (1 / nb + 1 / nv);
  const theta = xv / nv - xb / nb;
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * theta * theta) / (2 * v * (v + tau2));
  return { lambda: Math.exp(logLambda), pValue: Math.min(1, Math.exp(-logLambda)) };
}

/** τ² = δ², δ the absolute minimum detectable effect at this baseline rate (default a 5% relative lift); 0 when that is 0. */
export function defaultMixingVariance(
  baselineRate: number,
  minimumDetectableEffect: Effect = { relative: 0.05 },
): number {
  if (!(baselineRate >= 0 && baselineRate <= 1)) {
    throw new RangeError(`baselineRate must be in [0, 1], got ${baselineRate}`);
  }
  const delta = absoluteEffect(baselineRate, minimumDetectableEffect);
  if (!Number.isFinite(delta)) throw new RangeError(`minimumDetectableEffect must be finite, got ${delta}`);
  return delta * delta;
}

export interface SequentialLook extends MsprtResult {
  /** This look's min(1, 1/Λ), before taking the running minimum. */
  pValueAtLook: number;
}

/**
 * One experiment's sequential test across looks: feed it the cumulative counts each time
 * the report is computed; its p-value is the running minimum, so it never goes up.
 */
export class SequentialTest {
  private minPValue = 1;
  private last = { nb: 0, nv: 0 };

  constructor(private readonly options: MsprtOptions) {
    if (!(options.tau2 >= 0 && Number.isFinite(options.tau2))) {
      throw new RangeError(`tau2 must be a finite number ≥ 0, got ${options.tau2}`);
    }
  }

  /** Takes the cumulative counts at a new look and returns Λ now and the always-valid p-value so far. */
  update(xb: number, nb: number, xv: number, nv: number): SequentialLook {
    if (nb < this.last.nb || nv < this.last.nv) {
      throw new RangeError(
        `counts went down (baseline ${this.last.nb} → ${nb}, variant ${this.last.nv} → ${nv}); ` +
          'a SequentialTest takes cumulative counts — start a new one for a new experiment',
      );
    }
    this.last = { nb, nv };
    const look = msprtPValue(xb, nb, xv, nv, this.options);
    this.minPValue = Math.min(this.minPValue, look.pValue);
    return { lambda: look.lambda, pValue: this.minPValue, pValueAtLook: look.pValue };
  }

  /** The always-valid p-value after the looks so far (1 before any). */
  get pValue(): number {
    return this.minPValue;
  }
}
