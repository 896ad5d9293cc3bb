/**
 * Distance-based drift measures (no p-value), on one shared binning.
 *
 * Binning of a numeric feature: the reference's deciles, numpy.quantile(reference,
 * [0.1, …, 0.9]) with numpy's default 'linear' method, duplicates removed; open-ended outer bins;
 * a value x falls in bin numpy.searchsorted(edges, x, side='right'). Categorical features bin by
 * category (the union of reference and current categories).
 *
 * - PSI (population stability index): Σ (c_i - r_i) · ln(c_i / r_i) over bins, with r_i, c_i
 *   the reference and current proportions. A proportion of 0 is replaced by PSI_EPSILON = 1e-4
 *   (Evidently AI's convention) so empty bins give a large finite term instead of infinity;
 *   proportions are not renormalized afterwards.
 * - Jensen–Shannon distance: scipy.spatial.distance.jensenshannon(r, c, base=2) on the bin
 *   counts (each side normalized to sum 1); in [0, 1]. A tiny negative rounding residue under
 *   the square root is clamped to 0 (scipy would return NaN there).
 * - Wasserstein distance, normed: scipy.stats.wasserstein_distance(reference, current) on the raw
 *   values (∫ |F_ref - F_cur| dx), divided by the reference's population standard deviation
 *   (numpy.std, ddof=0) floored at WASSERSTEIN_MIN_SCALE = 0.001 (Evidently AI's "Wasserstein
 *   distance (normed)"), so 0.1 reads as "a tenth of a reference standard deviation".
 *
 * Drift thresholds (value above the threshold = drift), the usual industry cut-offs:
 * PSI > 0.2 (0.1–0.2 "moderate", > 0.2 "significant shift"), normed Wasserstein > 0.1,
 * Jensen–Shannon distance > 0.1 (Evidently AI's defaults for the latter two).
 */

export const PSI_EPSILON = 1e-4;
export const PSI_THRESHOLD = 0.2;
export const WASSERSTEIN_THRESHOLD = 0.1;
export const WASSERSTEIN_MIN_SCALE = 0.001;
export const JENSEN_SHANNON_THRESHOLD = 0.1;
/** Number of reference-quantile bins for numeric features (deciles). */
export const DEFAULT_BINS = 10;

/** Interior bin edges at the reference's quantiles k/nBins (numpy 'linear'), duplicates removed. */
export function quantileEdges(
  sortedReference: ArrayLike<number>,
  nBins: number = DEFAULT_BINS,
): Float64Array {
  const n = sortedReference.length;
  const edges: number[] = [];
  if (n === 0) return new Float64Array(0);
  for (let k = 1; k < nBins; k++) {
    const e = quantileSorted(sortedReference, k / nBins);
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  return Float64Array.from(edges);
}

/** numpy.quantile(sorted, q) with method 'linear' (virtual index (n-1)·q, numpy's two-sided lerp). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  const virtual = (n - 1) * q;
  const lo = Math.max(0, Math.floor(virtual));
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  const t = virtual - lo;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Bin of x: the number of edges <= x (numpy.searchsorted(edges, x, side='right')). */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts of values per bin (edges.length + 1 bins). */
export function binCounts(edges: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const b = binIndex(edges, values[i] as number);
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/** Population stability index of current vs reference bin counts (zero proportions → PSI_EPSILON). */
export function psi(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  epsilon: number = PSI_EPSILON,
): number {
  const totalRef = sum(reference);
  const totalCur = sum(current);
  let value = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = (reference[i] as number) / totalRef || epsilon;
    const c = (current[i] as number) / totalCur || epsilon;
    value += (c - r) * Math.log(c / r);
  }
  return value;
}

/** Jensen–Shannon distance of two count vectors (scipy.spatial.distance.jensenshannon, base 2 by default). */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>, base = 2): number {
  const sp = sum(p);
  const sq = sum(q);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = (p[i] as number) / sp;
    const qi = (q[i] as number) / sq;
    const m = (pi + qi) / 2;
    if (pi > 0) left += pi * Math.log(pi / m);
    if (qi > 0) right += qi * Math.log(qi / m);
  }
  const js = (left + right) / Math.log(base);
  return Math.sqrt(Math.max(0, js / 2));
}

/** First Wasserstein distance between two samples (scipy.stats.wasserstein_distance, unweighted). */
export function wasserstein(u: ArrayLike<number>, v: ArrayLike<number>): number {
  return wassersteinSorted(Float64Array.from(u).sort(), Float64Array.from(v).sort());
}

/** wasserstein() on samples already sorted ascending. */
export function wassersteinSorted(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const nu = u.length;
  const nv = v.length;
  if (nu === 0 || nv === 0) return NaN;
  // Walk the merged values; between consecutive values x_k < x_{k+1} the integrand is
  // |F_u(x_k) - F_v(x_k)| with right-continuous empirical CDFs.
  let i = 0;
  let j = 0;
  let total = 0;
  let prev = NaN;
  while (i < nu || j < nv) {
    const ui = i < nu ? (u[i] as number) : Infinity;
    const vj = j < nv ? (v[j] as number) : Infinity;
    const x = ui <= vj ? ui : vj;
    if (i > 0 || j > 0) total += Math.abs(i / nu - j / nv) * (x - prev);
    if (ui <= vj) i++;
    else j++;
    prev = x;
  }
  return total;
}

/** Population standard deviation (numpy.std, ddof=0). */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const mean = sum(values) / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/** Wasserstein distance divided by the reference's standard deviation (floored at WASSERSTEIN_MIN_SCALE). */
export function wassersteinNormed(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  return wasserstein(reference, current) / Math.max(populationStd(reference), WASSERSTEIN_MIN_SCALE);
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s;
}
