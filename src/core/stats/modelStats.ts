/**
 * Statistics of model quality from ground truth: the mean of per-label losses with a normal
 * interval, RMSE with an interval from the mean squared error's, and ROC AUC with DeLong's
 * interval computed on a fixed score histogram.
 *
 * AUC. DeLong, DeLong & Clarke-Pearson (1988) estimate the variance of the Mann–Whitney AUC
 * from its structural components: for a positive with score s, V10 = (negatives below s +
 * ½ negatives at s) / negatives; for a negative, V01 = (positives above + ½ at) / positives.
 * Sun & Xu (2014) compute them from midranks in O(n log n). Here the scores are binned into
 * AUC_BINS equal bins of [0, 1] and every score in a bin is a tie, so the components of a bin
 * are shared and the whole computation is O(AUC_BINS) over two count arrays: memory stays
 * fixed however long the router runs, a label can be replaced (latest wins) by moving one
 * count, and the result is the exact DeLong AUC and variance of the binned scores. Binning
 * changes the AUC only through pairs of a positive and a negative in the same bin (counted as
 * ½): at most half the share of such pairs, under 1e-4 for scores spread over [0, 1].
 * Hand-rolled because no library keeps DeLong's components incrementally; the reference is an
 * independent Python implementation of Sun & Xu (test/fixtures/model-metrics/).
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** Width of the AUC's score bins is 1 / AUC_BINS. */
export const AUC_BINS = 10_000;

/** An estimate with its (1 − alpha) interval; NaN when there are too few observations. */
export interface Estimate {
  value: number;
  ci95: [number, number];
  /** Standard error of `value` (NaN when unknown). */
  se: number;
}

const NONE: Estimate = { value: NaN, ci95: [NaN, NaN], se: NaN };

const z = (alpha: number): number => normalQuantile(1 - alpha / 2, 0, 1);

/** Running sum and sum of squares of a per-label loss; an add with weight −1 removes one. */
export class LossSums {
  n = 0;
  sum = 0;
  sumSq = 0;

  add(x: number, weight = 1): void {
    this.n += weight;
    this.sum += weight * x;
    this.sumSq += weight * x * x;
  }

  /** Mean loss with a normal (CLT) interval over labels: mean ± z·s/√n, s with n − 1. */
  mean(alpha = 0.05): Estimate {
    if (this.n < 2) return this.n === 1 ? { ...NONE, value: this.sum } : NONE;
    const mean = this.sum / this.n;
    const variance = Math.max(0, (this.sumSq - this.n * mean * mean) / (this.n - 1));
    const se = Math.sqrt(variance / this.n);
    return { value: mean, ci95: [mean - z(alpha) * se, mean + z(alpha) * se], se };
  }
}

/**
 * Root mean squared error from the squared errors' sums: √MSE, with the interval of MSE
 * (normal, as for any mean) mapped through the square root (clipped at 0), and the delta
 * method's standard error se(MSE) / (2·√MSE).
 */
export function rmseFromSquares(squares: LossSums, alpha = 0.05): Estimate {
  const mse = squares.mean(alpha);
  if (!Number.isFinite(mse.value)) return NONE;
  const value = Math.sqrt(Math.max(0, mse.value));
  if (!Number.isFinite(mse.se)) return { ...NONE, value };
  return {
    value,
    ci95: [Math.sqrt(Math.max(0, mse.ci95[0])), Math.sqrt(Math.max(0, mse.ci95[1]))],
    se: value > 0 ? mse.se / (2 * value) : NaN,
  };
}

/** Scores of positives and negatives counted in AUC_BINS bins of [0, 1]. */
export class AucHistogram {
  private readonly pos = new Float64Array(AUC_BINS);
  private readonly neg = new Float64Array(AUC_BINS);
  positives = 0;
  negatives = 0;

  /** The bin of a score (scores outside [0, 1] are clipped into it). */
  static bin(score: number): number {
    return Math.min(AUC_BINS - 1, Math.max(0, Math.floor(score * AUC_BINS)));
  }

  /** Counts a scored label (`weight` −1 takes one back). */
  add(score: number, positive: boolean, weight = 1): void {
    const b = AucHistogram.bin(score);
    if (positive) {
      this.pos[b]! += weight;
      this.positives += weight;
    } else {
      this.neg[b]! += weight;
      this.negatives += weight;
    }
  }

  /** AUC with DeLong's variance and normal interval (clipped to [0, 1]); NaN without two of each class. */
  auc(alpha = 0.05): Estimate {
    const m = this.positives;
    const n = this.negatives;
    if (m < 1 || n < 1) return NONE;
    // V10 of a bin's positives: negatives strictly below plus half of the tied ones.
    let negBelow = 0;
    let sum10 = 0;
    let sumSq10 = 0;
    for (let b = 0; b < AUC_BINS; b++) {
      const p = this.pos[b]!;
      const q = this.neg[b]!;
      if (p > 0) {
        const v10 = (negBelow + q / 2) / n;
        sum10 += p * v10;
        sumSq10 += p * v10 * v10;
      }
      negBelow += q;
    }
    let posAbove = 0;
    let sumSq01 = 0;
    let sum01 = 0;
    for (let b = AUC_BINS - 1; b >= 0; b--) {
      const p = this.pos[b]!;
      const q = this.neg[b]!;
      if (q > 0) {
        const v01 = (posAbove + p / 2) / m;
        sum01 += q * v01;
        sumSq01 += q * v01 * v01;
      }
      posAbove += p;
    }
    const auc = sum10 / m;
    if (m < 2 || n < 2) return { ...NONE, value: auc };
    const s10 = Math.max(0, (sumSq10 - m * auc * auc) / (m - 1));
    const mean01 = sum01 / n;
    const s01 = Math.max(0, (sumSq01 - n * mean01 * mean01) / (n - 1));
    const se = Math.sqrt(s10 / m + s01 / n);
    const h = z(alpha) * se;
    return { value: auc, ci95: [Math.max(0, auc - h), Math.min(1, auc + h)], se };
  }
}

/**
 * Candidate − baseline for estimates of independent arms (unpaired: the arms hold different
 * requests, so DeLong's covariance term is zero): difference ± z·√(se₁² + se₂²).
 */
export function differenceOf(candidate: Estimate, baseline: Estimate, alpha = 0.05): Estimate {
  const value = candidate.value - baseline.value;
  const se = Math.hypot(candidate.se, baseline.se);
  if (!Number.isFinite(value) || !Number.isFinite(se)) return { ...NONE, value };
  return { value, ci95: [value - z(alpha) * se, value + z(alpha) * se], se };
}
