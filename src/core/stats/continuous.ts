/**
 * Continuous metrics (revenue per request, latency, scores): running moments and Welch's
 * t-test on them.
 *
 * Moments are kept with Welford's update (B. P. Welford, "Note on a method for
 * calculating corrected sums of squares and products", Technometrics 4, 1962) and merged
 * with the pairwise formula of Chan, Golub & LeVeque ("Algorithms for computing the
 * sample variance", The American Statistician 37, 1983), so per-bucket aggregates can be
 * combined without keeping samples and without the cancellation of Σx² − n·mean².
 *
 * The test is Welch's unequal-variance t-test with Welch–Satterthwaite degrees of
 * freedom, matching scipy.stats.ttest_ind(b, a, equal_var=False) and its
 * confidence_interval(); p-values and quantiles of Student's t come from @stdlib.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Count, mean and sum of squared deviations from the mean (m2) of a sample. */
export interface MomentSummary {
  n: number;
  mean: number;
  m2: number;
}

/** A mergeable accumulator of count, mean and m2 (Welford). */
export class Moments implements MomentSummary {
  n = 0;
  mean = 0;
  m2 = 0;

  /** Moments of the given values. */
  static of(values: Iterable<number>): Moments {
    const m = new Moments();
    for (const v of values) m.add(v);
    return m;
  }

  /** Adds one observation. */
  add(x: number): this {
    this.n += 1;
    const delta = x - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (x - this.mean);
    return this;
  }

  /** Adds another sample's moments (Chan et al.), as if its observations had been added one by one. */
  merge(other: MomentSummary): this {
    if (other.n === 0) return this;
    if (this.n === 0) {
      this.n = other.n;
      this.mean = other.mean;
      this.m2 = other.m2;
      return this;
    }
    const n = this.n + other.n;
    const delta = other.mean - this.mean;
    this.mean += (delta * other.n) / n;
    this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
    this.n = n;
    return this;
  }

  /** Sample variance (n − 1 denominator); NaN below two observations. */
  get variance(): number {
    return this.n > 1 ? this.m2 / (this.n - 1) : NaN;
  }

  /** A plain-object copy, e.g. for JSON. */
  summary(): MomentSummary {
    return { n: this.n, mean: this.mean, m2: this.m2 };
  }
}

export interface WelchResult {
  /** (b.mean − a.mean) / standard error. */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  pValue: number;
  /** b.mean − a.mean. */
  diff: number;
  /** (1 − alpha) confidence interval of diff (95% with the default alpha). */
  ci95: [number, number];
}

/**
 * Welch's t-test of b.mean − a.mean (scipy ttest_ind(b, a, equal_var=False)). With fewer
 * than two observations in either sample: t 0, p 1, df and interval NaN. With both
 * samples constant: t 0 and p 1 if the means are equal, else t ±Infinity and p 0.
 */
export function welchTTest(a: MomentSummary, b: MomentSummary, alpha = 0.05): WelchResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const diff = a.n > 0 && b.n > 0 ? b.mean - a.mean : NaN;
  if (a.n < 2 || b.n < 2) return { t: 0, df: NaN, pValue: 1, diff, ci95: [NaN, NaN] };
  const va = a.m2 / (a.n - 1) / a.n;
  const vb = b.m2 / (b.n - 1) / b.n;
  const se2 = va + vb;
  if (se2 === 0) {
    return diff === 0
      ? { t: 0, df: NaN, pValue: 1, diff, ci95: [diff, diff] }
      : { t: diff > 0 ? Infinity : -Infinity, df: NaN, pValue: 0, diff, ci95: [diff, diff] };
  }
  const se = Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const t = diff / se;
  const pValue = Math.min(1, 2 * tCdf(-Math.abs(t), df));
  const half = tQuantile(1 - alpha / 2, df) * se;
  return { t, df, pValue, diff, ci95: [diff - half, diff + half] };
}
