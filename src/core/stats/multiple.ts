/**
 * Multiple-comparison corrections, as adjusted p-values (compare them with alpha).
 *
 * Candidates against one baseline use Holm–Bonferroni (S. Holm, "A simple sequentially
 * rejective multiple test procedure", Scand. J. Statist. 6, 1979): a candidate is
 * promoted on its result, so what must be controlled is the chance of promoting ANY
 * candidate that is no better (the family-wise error rate). Holm controls it under any
 * dependence — the comparisons share the baseline's data, so they are correlated — and
 * rejects everything Bonferroni does and more.
 *
 * Benjamini–Hochberg (Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate",
 * JRSS B 57, 1995) controls the expected share of false alarms instead, the right
 * trade-off for screening many drift features (the drift component's `fdr` correction);
 * it is valid for independent or positively dependent tests.
 *
 * Both match statsmodels.stats.multitest.multipletests (method='holm', 'fdr_bh'). NaN
 * p-values (a comparison that could not be made) are left out of the family and come
 * back as NaN.
 */

/** Holm–Bonferroni adjusted p-values, in input order (statsmodels 'holm'). */
export function holmAdjust(pValues: readonly number[]): number[] {
  const { order, out } = prepare(pValues);
  const m = order.length;
  let running = 0;
  order.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] ?? NaN)));
    out[index] = running;
  });
  return out;
}

/** Benjamini–Hochberg adjusted p-values (q-values), in input order (statsmodels 'fdr_bh'). */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  const { order, out } = prepare(pValues);
  const m = order.length;
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank] ?? 0;
    running = Math.min(running, ((pValues[index] ?? NaN) * m) / (rank + 1));
    out[index] = running;
  }
  return out;
}

/** Indices of the non-NaN p-values in ascending order of p, and an all-NaN output array. */
function prepare(pValues: readonly number[]): { order: number[]; out: number[] } {
  const order: number[] = [];
  pValues.forEach((p, i) => {
    if (Number.isNaN(p)) return;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${p} at ${i}`);
    order.push(i);
  });
  order.sort((i, j) => (pValues[i] ?? 0) - (pValues[j] ?? 0) || i - j);
  return { order, out: pValues.map(() => NaN) };
}
