/**
 * Chi-square test of homogeneity for categorical drift: reference counts vs current counts as a
 * 2×k contingency table, as scipy.stats.chi2_contingency(table, correction=False) computes it
 * (Pearson's statistic Σ (O - E)² / E with E = row total · column total / N, dof = k - 1,
 * p = chi2.sf(statistic, dof)).
 *
 * Edge cases (scipy raises on zero expected frequencies; we define them instead):
 * - a category seen on neither side is dropped (it has no column in the table);
 * - a category seen on one side only stays: its expected counts are > 0 on both rows;
 * - a single category (dof 0): statistic 0, p-value 1 (scipy returns the same for dof 0);
 * - an empty side (no observations in reference or current): statistic and p-value NaN —
 *   the test is undefined; the drift detector never calls it that way.
 *
 * The p-value is the regularized upper incomplete gamma Q(dof/2, x/2) from @stdlib, which keeps
 * tiny tail probabilities accurate.
 */
import gammainc from '@stdlib/math-base-special-gammainc';

export interface Chi2Result {
  statistic: number;
  pValue: number;
  dof: number;
}

/** Category → count. */
export type CategoryCounts = ReadonlyMap<string, number>;

/** Chi-square homogeneity test on two rows of counts aligned by index (scipy chi2_contingency, no correction). */
export function chi2Homogeneity(reference: ArrayLike<number>, current: ArrayLike<number>): Chi2Result {
  if (reference.length !== current.length) {
    throw new RangeError(
      `chi2Homogeneity needs rows of equal length (got ${reference.length} and ${current.length})`,
    );
  }
  let totalRef = 0;
  let totalCur = 0;
  let columns = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const c = current[i] as number;
    totalRef += r;
    totalCur += c;
    if (r + c > 0) columns++;
  }
  if (totalRef === 0 || totalCur === 0) return { statistic: NaN, pValue: NaN, dof: 0 };
  const dof = columns - 1;
  if (dof <= 0) return { statistic: 0, pValue: 1, dof: 0 };
  const total = totalRef + totalCur;
  let statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const c = current[i] as number;
    const col = r + c;
    if (col === 0) continue;
    const eRef = (totalRef * col) / total;
    const eCur = (totalCur * col) / total;
    statistic += ((r - eRef) * (r - eRef)) / eRef + ((c - eCur) * (c - eCur)) / eCur;
  }
  return { statistic, pValue: chi2Sf(statistic, dof), dof };
}

/** Chi-square homogeneity test on category counts (union of both sides' categories). */
export function chi2Categories(reference: CategoryCounts, current: CategoryCounts): Chi2Result {
  const [ref, cur] = alignCounts(reference, current);
  return chi2Homogeneity(ref, cur);
}

/** Survival function of the chi-square distribution, Q(dof/2, x/2). */
export function chi2Sf(x: number, dof: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  return gammainc(x / 2, dof / 2, true, true);
}

/** Rows of counts over the union of categories (reference order first, then current-only ones). */
export function alignCounts(
  reference: CategoryCounts,
  current: CategoryCounts,
): [Float64Array, Float64Array] {
  const keys = [...reference.keys()];
  for (const k of current.keys()) if (!reference.has(k)) keys.push(k);
  const ref = new Float64Array(keys.length);
  const cur = new Float64Array(keys.length);
  keys.forEach((k, i) => {
    ref[i] = reference.get(k) ?? 0;
    cur[i] = current.get(k) ?? 0;
  });
  return [ref, cur];
}

/** Count occurrences of each category. */
export function countCategories(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
