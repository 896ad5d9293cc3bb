/**
 * Multiple-testing corrections for per-feature drift p-values, following Alibi Detect
 * (alibi_detect.cd.base BaseUnivariateDrift / alibi_detect.utils.statstest.fdr):
 *
 * - Bonferroni: a feature drifts when p < alpha / n_features.
 * - FDR (Benjamini–Hochberg 1995, step-up): sort the p-values; k = the largest rank with
 *   p_(k) < q·k / n; the cut-off is q·k / n and a feature drifts when p < cut-off (equivalently
 *   p <= p_(k)). No rank qualifies → nothing drifts (the cut-off reported is then q / n).
 *
 * Comparisons are strict, as in Alibi Detect. n may exceed the number of p-values given (features
 * not tested yet count as p = 1); NaN p-values never drift.
 */

export interface CorrectionResult {
  /** The p-value cut-off: a feature drifts when its p-value is below it. */
  threshold: number;
  /** Per input p-value, in input order. */
  drift: boolean[];
}

/** Bonferroni cut-off alpha / nFeatures (Alibi Detect's rule). */
export function bonferroniThreshold(alpha: number, nFeatures: number): number {
  return nFeatures > 0 ? alpha / nFeatures : alpha;
}

/** Flags p-values below alpha / n (n defaults to the number of p-values). */
export function bonferroni(
  pValues: readonly number[],
  alpha: number,
  n: number = pValues.length,
): CorrectionResult {
  const threshold = bonferroniThreshold(alpha, n);
  return { threshold, drift: pValues.map((p) => p < threshold) };
}

/** Benjamini–Hochberg step-up at FDR level q: which p-values are discoveries, and the cut-off. */
export function benjaminiHochberg(
  pValues: readonly number[],
  q: number,
  n: number = pValues.length,
): CorrectionResult {
  const m = Math.max(n, pValues.length);
  if (m === 0) return { threshold: q, drift: [] };
  const sorted = pValues.filter((p) => !Number.isNaN(p)).sort((a, b) => a - b);
  let threshold = q / m;
  for (let k = sorted.length; k >= 1; k--) {
    const cut = (q * k) / m;
    if ((sorted[k - 1] as number) < cut) {
      threshold = cut;
      break;
    }
  }
  return { threshold, drift: pValues.map((p) => p < threshold) };
}
