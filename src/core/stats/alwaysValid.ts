/**
 * Always-valid inference for a difference of means: the mixture sequential probability ratio
 * test (mSPRT) with a normal mixture and a plug-in variance, and the confidence sequence it
 * inverts to. Hand-rolled for the same reason as ./sequential.ts: closed forms, and no
 * maintained JavaScript library has them.
 *
 * The estimate θ̂ = mean_v − mean_b is taken as N(θ, V) with V = s_v²/n_v + s_b²/n_b, the
 * unbiased sample variances of the two arms (Welch's standard error, squared). Mixing the
 * alternatives θ ~ N(θ0, τ²) gives
 *
 *   Λ(θ0) = sqrt(V / (V + τ²)) · exp(τ² (θ̂ − θ0)² / (2V(V + τ²)))
 *
 * (H. Robbins, "Statistical methods related to the law of the iterated logarithm", Ann. Math.
 * Statist. 41, 1970; R. Johari, L. Pekelis, D. Walsh, "Always valid inference: continuous
 * monitoring of A/B tests", Operations Research 70(3), 2022, which uses this statistic with a
 * plug-in variance for non-normal metrics). Under H0: θ = θ0 and a known V, Λ is a martingale
 * and Ville's inequality gives P(sup_t Λ_t ≥ 1/α) ≤ α. The always-valid p-value is
 * min(1, 1/max Λ(0)) over the looks; the (1 − α) confidence sequence is the set of θ0 whose
 * Λ(θ0) stayed below 1/α at every look, the running intersection of
 *
 *   θ̂ ± sqrt(2V(V + τ²)/τ² · (log(1/α) + ½ log((V + τ²)/V))).
 *
 * With V estimated, validity is asymptotic: I. Waudby-Smith, D. Arbour, R. Sinha, E. H.
 * Kennedy, A. Ramdas, "Time-uniform central limit theory and asymptotic confidence
 * sequences", Annals of Statistics 52(6), 2024, show that this normal-mixture boundary with a
 * plug-in variance is an asymptotic confidence sequence for i.i.d. observations with a finite
 * moment beyond the second (Theorem 2.2, with τ² = ρ²·σ²). Skewed and heavy-tailed metrics
 * (revenue) satisfy it when their variance is finite; the seeded A/A simulation in
 * test/unit/stats.alwaysValid.test.ts measures the false-positive rate at canary sizes.
 */
import type { MomentSummary } from './continuous';

export interface NormalMixtureLook {
  /** The mixture likelihood ratio against θ = 0 (may be Infinity). */
  lambda: number;
  /** min(1, 1/Λ) at this look. */
  pValue: number;
  /** θ̂, the estimated difference. */
  estimate: number;
  /** V, the estimate's variance (NaN when it cannot be estimated). */
  variance: number;
}

/** log Λ(θ0) of an estimate θ̂ ~ N(θ, V) under a N(θ0, τ²) mixture; 0 (Λ 1) when V is not positive. */
export function normalMixtureLogLambda(estimate: number, variance: number, tau2: number, theta0 = 0): number {
  if (!(variance > 0) || !(tau2 > 0) || !Number.isFinite(estimate)) return 0;
  const d = estimate - theta0;
  return 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * d * d) / (2 * variance * (variance + tau2));
}

/** Half-width of the (1 − α) normal-mixture confidence sequence at one look; NaN when V is not positive. */
export function normalMixtureHalfWidth(variance: number, tau2: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(variance > 0) || !(tau2 > 0)) return NaN;
  const v = variance;
  return Math.sqrt(((2 * v * (v + tau2)) / tau2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + tau2) / v)));
}

/** The mSPRT for mean_b − mean_a with the plug-in variance s_a²/n_a + s_b²/n_b; Λ 1 and p 1 below two observations per arm. */
export function msprtMeans(a: MomentSummary, b: MomentSummary, options: { tau2: number }): NormalMixtureLook {
  const { tau2 } = options;
  if (!(tau2 >= 0 && Number.isFinite(tau2)))
    throw new RangeError(`tau2 must be a finite number ≥ 0, got ${tau2}`);
  if (a.n < 2 || b.n < 2) return { lambda: 1, pValue: 1, estimate: NaN, variance: NaN };
  const estimate = b.mean - a.mean;
  const variance = a.m2 / (a.n - 1) / a.n + b.m2 / (b.n - 1) / b.n;
  const log = normalMixtureLogLambda(estimate, variance, tau2);
  return { lambda: Math.exp(log), pValue: Math.min(1, Math.exp(-log)), estimate, variance };
}

/**
 * One comparison's always-valid state across looks: the running minimum of the p-value and the
 * running intersection of the confidence sequence. It depends only on the looks fed to it, in
 * order, so replaying the same looks gives the same state.
 */
export class AlwaysValidState {
  private minP = 1;
  private lo = -Infinity;
  private hi = Infinity;
  private looks = 0;

  constructor(
    readonly tau2: number,
    readonly alpha: number,
  ) {
    if (!(tau2 > 0 && Number.isFinite(tau2)))
      throw new RangeError(`tau2 must be a finite number > 0, got ${tau2}`);
    if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  }

  /**
   * Takes one look: the p-value from `testVariance` (the variance under H0, pooled for
   * proportions), the interval from `intervalVariance` (the unpooled one; the same for means).
   */
  look(estimate: number, testVariance: number, intervalVariance: number = testVariance): void {
    if (!Number.isFinite(estimate)) return;
    this.looks++;
    const p = Math.min(1, Math.exp(-normalMixtureLogLambda(estimate, testVariance, this.tau2)));
    if (p < this.minP) this.minP = p;
    const half = normalMixtureHalfWidth(intervalVariance, this.tau2, this.alpha);
    if (!Number.isFinite(half)) return;
    const lo = Math.max(this.lo, estimate - half);
    const hi = Math.min(this.hi, estimate + half);
    // An empty intersection happens with probability ≤ α (or when the model is wrong): keep the last non-empty one.
    if (lo <= hi) {
      this.lo = lo;
      this.hi = hi;
    }
  }

  /** The always-valid p-value so far (1 before any look). */
  get pValue(): number {
    return this.minP;
  }

  /** The (1 − α) confidence sequence so far; [NaN, NaN] before a look with a variance. */
  get interval(): [number, number] {
    return Number.isFinite(this.lo) && Number.isFinite(this.hi) ? [this.lo, this.hi] : [NaN, NaN];
  }

  /** Looks taken so far. */
  get lookCount(): number {
    return this.looks;
  }
}
