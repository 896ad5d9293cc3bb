/**
 * Sample-ratio mismatch: does the observed split of requests across arms fit the
 * configured weights? A mismatch means the assignment is broken (a router bug, sticky
 * keys that are not random, a variant that crashes before logging), and then no A/B
 * result can be trusted (R. Kohavi, D. Tang, Y. Xu, "Trustworthy Online Controlled
 * Experiments", 2020, ch. 21).
 *
 * Pearson's chi-square goodness-of-fit test with k − 1 degrees of freedom against the
 * weights normalised to the observed total, as scipy.stats.chisquare(f_obs, f_exp);
 * the upper tail comes from @stdlib's regularized incomplete gamma function. Flagged
 * when p < 0.001, the conventional SRM threshold (strict, because the check runs on
 * every report).
 *
 * Arms with weight 0 (a drained variant, a shadow, traffic forced by header) are left
 * out: no share is expected of them, so they say nothing about the split. Arms with a
 * positive weight count even when they received nothing — a canary that gets no traffic
 * is exactly the failure to catch. With fewer than two positive-weight arms, or no
 * traffic at all, there is nothing to test: chi2 0, p 1, no mismatch.
 */
import gammainc from '@stdlib/math-base-special-gammainc';

export interface SrmResult {
  chi2: number;
  pValue: number;
  mismatch: boolean;
}

/** Chi-square test of observed requests per arm against configured weights; mismatch when p < threshold. */
export function sampleRatioMismatch(
  observed: readonly number[],
  weights: readonly number[],
  threshold = 0.001,
): SrmResult {
  if (observed.length !== weights.length) {
    throw new RangeError(`observed has ${observed.length} arms but weights has ${weights.length}`);
  }
  const obs: number[] = [];
  const w: number[] = [];
  observed.forEach((o, i) => {
    const weight = weights[i] ?? 0;
    if (!(o >= 0 && Number.isFinite(o))) throw new RangeError(`observed[${i}] must be a count ≥ 0, got ${o}`);
    if (!(weight >= 0 && Number.isFinite(weight))) {
      throw new RangeError(`weights[${i}] must be a finite number ≥ 0, got ${weight}`);
    }
    if (weight > 0) {
      obs.push(o);
      w.push(weight);
    }
  });
  const total = obs.reduce((s, o) => s + o, 0);
  const weightTotal = w.reduce((s, x) => s + x, 0);
  if (obs.length < 2 || total === 0) return { chi2: 0, pValue: 1, mismatch: false };
  let chi2 = 0;
  obs.forEach((o, i) => {
    const expected = ((w[i] ?? 0) / weightTotal) * total;
    chi2 += ((o - expected) * (o - expected)) / expected;
  });
  const pValue = gammainc(chi2 / 2, (obs.length - 1) / 2, true, true);
  return { chi2, pValue, mismatch: pValue < threshold };
}
