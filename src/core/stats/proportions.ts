/**
 * A/B statistics for a conversion-style metric: baseline with xb successes in nb trials
 * against a variant with xv in nv. Every function compares variant − baseline.
 *
 * The methods and their edge cases follow statsmodels, so that the report matches what
 * an analyst gets in Python (statsmodels.stats.proportion, checked case by case in
 * test/unit/stats.test.ts against fixtures made by test/fixtures/stats/make_stats_fixtures.py):
 * - z-test: `proportions_ztest([xv, xb], [nv, nb])`, two-sided, pooled variance under H0.
 * - absolute-lift interval: `confint_proportions_2indep(xv, nv, xb, nb, compare='diff',
 *   method='newcomb')`, Newcombe's hybrid score interval built from two Wilson intervals
 *   (R. G. Newcombe, "Interval estimation for the difference between independent
 *   proportions", Statistics in Medicine 17, 1998, method 10).
 * - relative-lift interval: `compare='ratio', method='log'` (Katz log risk-ratio interval)
 *   minus 1.
 * - chance to beat: P(p_v > p_b) under independent Beta(1 + x, 1 + n − x) posteriors
 *   (uniform priors), computed exactly or by quadrature in betaSuperiority.ts.
 *
 * Where statsmodels answers nan, we answer as documented on each function; NaN reaches
 * JSON as null.
 */
import erfc from '@stdlib/math-base-special-erfc';
import expm1 from '@stdlib/math-base-special-expm1';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { betaSuperiority } from './betaSuperiority';
import { checkAlpha, checkCounts } from './counts';

export interface ZTestResult {
  /** (variantRate − baselineRate) / pooled standard error; positive when the variant converts better. */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
}

/** Two-sided pooled two-proportion z-test; z 0 and p 1 when an arm has no trials or the pooled rate is 0 or 1. */
export function twoProportionZTest(xb: number, nb: number, xv: number, nv: number): ZTestResult {
  checkCounts('baseline', xb, nb);
  checkCounts('variant', xv, nv);
  const n = nb + nv;
  const x = xb + xv;
  if (nb === 0 || nv === 0 || x === 0 || x === n) return { z: 0, pValue: 1 };
  // p̄(1 − p̄) from the counts, so that 1 − p̄ keeps its digits when p̄ is near 1.
  const pooledVariance = (x * (n - x)) / (n * n);
  const se = Math.sqrt(pooledVariance * (1 / nb + 1 / nv));
  const z = (xv / nv - xb / nb) / se;
  return { z, pValue: erfc(Math.abs(z) / Math.SQRT2) };
}

/** Two-sided (1 − alpha) Wilson score interval for x successes in n trials, clipped to [0, 1] as statsmodels does. */
export function wilsonInterval(x: number, n: number, alpha = 0.05): [number, number] {
  checkCounts('wilsonInterval', x, n);
  checkAlpha(alpha);
  if (n === 0) return [NaN, NaN];
  const c = criticalValue(alpha);
  const c2 = c * c;
  const q = x / n;
  const denom = 1 + c2 / n;
  const center = (q + c2 / (2 * n)) / denom;
  const dist = (c * Math.sqrt((q * (1 - q)) / n + c2 / (4 * n * n))) / denom;
  return [clamp01(center - dist), clamp01(center + dist)];
}

/**
 * Newcombe hybrid score (1 − alpha) interval for variantRate − baselineRate; [NaN, NaN]
 * when an arm has no trials.
 */
export function newcombeDiffCI(
  xb: number,
  nb: number,
  xv: number,
  nv: number,
  alpha = 0.05,
): [number, number] {
  checkCounts('baseline', xb, nb);
  checkCounts('variant', xv, nv);
  checkAlpha(alpha);
  if (nb === 0 || nv === 0) return [NaN, NaN];
  const pb = xb / nb;
  const pv = xv / nv;
  const [lb, ub] = wilsonInterval(xb, nb, alpha);
  const [lv, uv] = wilsonInterval(xv, nv, alpha);
  const diff = pv - pb;
  return [diff - Math.hypot(pv - lv, ub - pb), diff + Math.hypot(pb - lb, uv - pv)];
}

/**
 * (1 − alpha) interval for variantRate / baselineRate − 1 from the log risk ratio
 * (statsmodels `method='log'`). With zero successes in either arm the log ratio is
 * undefined (statsmodels' 'log' returns nan or a degenerate bound); then, and only then,
 * we switch to statsmodels' `method='log-adjusted'`, which adds 0.5 to both successes
 * and trials of each arm. [NaN, NaN] when an arm has no trials. 100% conversion in both
 * arms gives the zero-width interval [0, 0], as statsmodels does.
 */
export function relativeLiftCI(
  xb: number,
  nb: number,
  xv: number,
  nv: number,
  alpha = 0.05,
): [number, number] {
  checkCounts('baseline', xb, nb);
  checkCounts('variant', xv, nv);
  checkAlpha(alpha);
  if (nb === 0 || nv === 0) return [NaN, NaN];
  const half = xb === 0 || xv === 0 ? 0.5 : 0;
  const xb_ = xb + half;
  const nb_ = nb + half;
  const xv_ = xv + half;
  const nv_ = nv + half;
  const logRatio = Math.log(xv_ / nv_) - Math.log(xb_ / nb_);
  const variance = Math.max(0, 1 / xv_ - 1 / nv_ + 1 / xb_ - 1 / nb_);
  const d = criticalValue(alpha) * Math.sqrt(variance);
  return [expm1(logRatio - d), expm1(logRatio + d)];
}

/**
 * P(variantRate > baselineRate) under Beta(1 + x, 1 + n − x) posteriors, accurate to
 * about 1e-9; counts must be integers. 0.5 when neither arm has trials.
 */
export function chanceToBeatBaseline(xb: number, nb: number, xv: number, nv: number): number {
  checkCounts('baseline', xb, nb);
  checkCounts('variant', xv, nv);
  for (const [name, v] of [
    ['xb', xb],
    ['nb', nb],
    ['xv', xv],
    ['nv', nv],
  ] as const) {
    if (!Number.isInteger(v))
      throw new RangeError(`chanceToBeatBaseline: ${name} must be an integer, got ${v}`);
  }
  return betaSuperiority(1 + xv, 1 + nv - xv, 1 + xb, 1 + nb - xb);
}

/** z_{1 − alpha/2}, the two-sided critical value of the standard normal. */
function criticalValue(alpha: number): number {
  return -normalQuantile(alpha / 2, 0, 1);
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}
