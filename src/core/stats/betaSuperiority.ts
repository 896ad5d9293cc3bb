/**
 * P(X > Y) for independent X ~ Beta(a1, b1) and Y ~ Beta(a2, b2): the "chance to beat
 * the baseline" of two Beta posteriors. Hand-rolled because no JavaScript library offers
 * it; the Beta functions themselves come from @stdlib.
 *
 * Two ways, picked by cost and both accurate far below the 1e-3 the report needs:
 *
 * 1. An exact finite sum, when one shape parameter is an integer of at most
 *    EXACT_MAX_TERMS. With X's first parameter a1 an integer,
 *      P(X > Y) = Σ_{i=0}^{a1-1} B(a2+i, b1+b2) / ((b1+i) · B(1+i, b1) · B(a2, b2))
 *    (E. Miller, "Formulas for Bayesian A/B testing", 2015, after J. D. Cook, "Exact
 *    calculation of beta inequalities", 2005). The symmetries P(X > Y) = 1 − P(Y > X) and
 *    P(X > Y) = P(1−Y > 1−X), with 1−X ~ Beta(b1, a1), let the sum run over whichever of
 *    a1, a2, b1, b2 is smallest. All terms are positive (no cancellation); consecutive
 *    terms differ by the rational factor (a2+i)(b1+i) / ((a2+b1+b2+i)(1+i)), so each term
 *    costs a few flops, and the running sum is rescaled so nothing under- or overflows.
 * 2. Gauss–Legendre quadrature otherwise (every parameter > EXACT_MAX_TERMS, so both
 *    posteriors are within a few percent of normal and far from 0 and 1): integrate the
 *    narrower posterior's density times the other's cdf over its mean ± 10 standard
 *    deviations. The other cdf is at least as wide, so the integrand is smooth on the
 *    grid's scale.
 *
 * A normal approximation alone is not used: for small counts it is off by more than 1e-2.
 */
import betaCdf from '@stdlib/stats-base-dists-beta-cdf';
import betaPdf from '@stdlib/stats-base-dists-beta-pdf';
import betaln from '@stdlib/math-base-special-betaln';

/**
 * Above this many terms the exact sum (about 2 ns a term) costs more than the quadrature
 * (64 nodes, about 0.1 ms, dominated by the Beta cdf).
 */
export const EXACT_MAX_TERMS = 50_000;

/** P(X > Y), X ~ Beta(a1, b1), Y ~ Beta(a2, b2); integer parameters use the exact sum when it is short. */
export function betaSuperiority(a1: number, b1: number, a2: number, b2: number): number {
  const smallest = Math.min(a1, b1, a2, b2);
  if (smallest <= EXACT_MAX_TERMS && Number.isInteger(smallest)) {
    return clamp01(betaSuperiorityExact(a1, b1, a2, b2));
  }
  return clamp01(betaSuperiorityQuadrature(a1, b1, a2, b2));
}

/** The exact sum, run over the smallest integer shape parameter (throws if none is an integer). */
export function betaSuperiorityExact(a1: number, b1: number, a2: number, b2: number): number {
  const candidates: Array<[number, () => number]> = [
    [a1, () => sumOverA1(a1, b1, a2, b2)],
    [a2, () => 1 - sumOverA1(a2, b2, a1, b1)],
    [b2, () => sumOverA1(b2, a2, b1, a1)],
    [b1, () => 1 - sumOverA1(b1, a1, b2, a2)],
  ];
  let best: [number, () => number] | undefined;
  for (const c of candidates) {
    if (Number.isInteger(c[0]) && (best === undefined || c[0] < best[0])) best = c;
  }
  if (best === undefined) throw new RangeError('the exact sum needs an integer shape parameter');
  return best[1]();
}

const RESCALE = 1e280;
const LOG_RESCALE = Math.log(RESCALE);

/** Σ_{i<a1} of Miller's terms; a1 must be a positive integer. */
function sumOverA1(a1: number, b1: number, a2: number, b2: number): number {
  // term_0 = B(a2, b1+b2) / (b1 · B(1, b1) · B(a2, b2)) = B(a2, b1+b2) / B(a2, b2).
  let logScale = betaln(a2, b1 + b2) - betaln(a2, b2);
  const s = a2 + b1 + b2;
  let term = 1;
  let sum = 0;
  for (let i = 0; i < a1; i++) {
    sum += term;
    term *= ((a2 + i) * (b1 + i)) / ((s + i) * (1 + i));
    if (term > RESCALE) {
      term /= RESCALE;
      sum /= RESCALE;
      logScale += LOG_RESCALE;
    }
  }
  return Math.exp(Math.log(sum) + logScale);
}

/** The quadrature (any positive parameters); `panels` × 16 Gauss–Legendre nodes over ±10 sd. */
export function betaSuperiorityQuadrature(
  a1: number,
  b1: number,
  a2: number,
  b2: number,
  panels = 4,
): number {
  const sdX = betaSd(a1, b1);
  const sdY = betaSd(a2, b2);
  // Integrate over the narrower density: P(X > Y) = ∫ f_Y(y)(1 − F_X(y)) dy = ∫ f_X(x) F_Y(x) dx.
  const overY = sdY <= sdX;
  const [a, b, sd] = overY ? [a2, b2, sdY] : [a1, b1, sdX];
  const mean = a / (a + b);
  const lo = Math.max(0, mean - 10 * sd);
  const hi = Math.min(1, mean + 10 * sd);
  const width = (hi - lo) / panels;
  const { nodes, weights } = gaussLegendre16();
  let total = 0;
  for (let p = 0; p < panels; p++) {
    const mid = lo + (p + 0.5) * width;
    for (let k = 0; k < nodes.length; k++) {
      const x = mid + 0.5 * width * (nodes[k] ?? 0);
      const density = betaPdf(x, a, b);
      if (density === 0) continue;
      const other = overY ? 1 - betaCdf(x, a1, b1) : betaCdf(x, a2, b2);
      total += (weights[k] ?? 0) * density * other;
    }
  }
  return 0.5 * width * total;
}

function betaSd(a: number, b: number): number {
  const s = a + b;
  return Math.sqrt((a * b) / (s * s * (s + 1)));
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

let gl16: { nodes: number[]; weights: number[] } | undefined;

/** 16-point Gauss–Legendre nodes and weights on [−1, 1], by Newton's method on P16 (computed once). */
function gaussLegendre16(): { nodes: number[]; weights: number[] } {
  if (gl16) return gl16;
  const n = 16;
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= n; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      // Legendre recurrence for P_n(x) and its derivative.
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * dp * dp));
  }
  gl16 = { nodes, weights };
  return gl16;
}
