/**
 * Distribution of the one-sample Kolmogorov–Smirnov statistic for finite n: the two-sided
 * survival function P(D_n >= x) (scipy.stats.kstwo.sf) and the one-sided P(D+_n >= x)
 * (scipy.special.smirnov). ks_2samp's asymptotic method evaluates kstwo.sf at
 * n = round(m·n/(m+n)), so these decide its p-values above the exact-method threshold.
 *
 * Method selection follows Simard & L'Ecuyer, "Computing the Two-Sided Kolmogorov-Smirnov
 * Distribution", J. Stat. Software 39(11), 2011, with the cut-offs scipy uses:
 *  - Ruben–Gambino closed forms for n·x <= 1 and n·x >= n-1;
 *  - x >= 0.5: 2·smirnov(n, x) (exact, the two one-sided events are disjoint);
 *  - n <= 140: Durbin's matrix (Marsaglia, Tsang & Wang, J. Stat. Software 8(18), 2003)
 *    for n·x² <= 0.754693, Pomeranz's recursion (CACM 17(12), 1974) for n·x² <= 4,
 *    else 2·smirnov (Miller);
 *  - n > 140: SF 0 for n·x² >= 370, 2·smirnov for n·x² >= 2.2, else 1 - CDF with the CDF by
 *    Durbin's matrix when n <= 100000 and n·x^1.5 <= 1.4, otherwise Pelz & Good's
 *    asymptotic series (J. R. Stat. Soc. B 38(2), 1976).
 * smirnov is the Birnbaum–Tingey sum (Ann. Math. Statist. 1951), evaluated in log space so
 * that tiny tails keep their relative accuracy.
 *
 * Hand-rolled: no npm package provides the finite-n Kolmogorov distribution.
 */
const TWO_128 = 2 ** 128;
const TWO_M128 = 2 ** -128;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
/** Cephes MINLOG: exp() of anything below underflows. */
const MIN_LOG = -708.3964185322641;
/** Above this n cephes switches smirnov to an approximation (too many terms). */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;
/** Stirling-series coefficients B_2j / (2j(2j-1)), j = 8 … 1 (Horner order). */
const STIRLING = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];

const clip01 = (p: number): number => (p < 0 ? 0 : p > 1 ? 1 : p);

/** x · 2^e without intermediate overflow or underflow. */
export function ldexp(x: number, e: number): number {
  let r = x;
  let k = e;
  while (k > 1000) {
    r *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    r *= 2 ** -1000;
    k += 1000;
  }
  return r * 2 ** k;
}

/** log(n! / n^n) by Stirling's series with the n·log(n) term cancelled analytically. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  const rn2 = rn * rn;
  let poly = 0;
  for (const c of STIRLING) poly = poly * rn2 + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** One-sided Kolmogorov–Smirnov survival function P(D+_n >= x) (scipy.special.smirnov). */
export function smirnov(n: number, x: number): number {
  if (!(n > 0) || !(x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxFloor = Math.floor(nx);
  if (nxFloor === 0 || (nxFloor === 1 && nx === 1)) {
    // x <= 1/n: only the v = n term of the upper sum survives.
    return 1 - x * Math.pow(1 + x, n - 1);
  }
  if (-2 * n * x * x < MIN_LOG) return 0;
  if (nxFloor >= n - 1) return Math.pow(1 - x, n);
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -Math.pow(6 * n * x + 1, 2) / 18 / n;
    return Math.exp(logp);
  }
  // P = x · Σ_{v=0}^{floor(n(1-x))} C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v); all terms > 0.
  const vMax = Math.floor(n * (1 - x));
  let logC = 0; // log C(n, v)
  let maxLog = -Infinity;
  let sum = 0; // Σ exp(logT - maxLog), rescaled when maxLog grows
  let prev = -Infinity;
  for (let v = 0; v <= vMax; v++) {
    if (v > 0) logC += Math.log((n - v + 1) / v);
    const rest = (n - v) / n - x;
    if (rest <= 0) break;
    const logT = logC + (v - 1) * Math.log(x + v / n) + (n - v) * Math.log(rest);
    if (logT > maxLog) {
      sum = sum * Math.exp(maxLog - logT) + 1;
      maxLog = logT;
    } else {
      sum += Math.exp(logT - maxLog);
    }
    // Terms are unimodal in v: once falling and negligible, the rest cannot matter.
    if (logT < prev && logT < maxLog + Math.log(sum) - 50) break;
    prev = logT;
  }
  return clip01(x * Math.exp(maxLog + Math.log(sum)));
}

/** CDF P(D_n <= d) by Durbin's matrix, computed as Marsaglia, Tsang & Wang do. */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  // H[i][j] = 1/(i-j+1)! below the superdiagonal; first column and last row corrected by h.
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let j = 1; j <= m; j++) invFact[j] = (invFact[j - 1] as number) / j;
  for (let i = 0; i < m; i++) {
    for (let j = 1; j < m; j++) if (i - j + 1 >= 0) H[i * m + j] = invFact[i - j + 1] as number;
  }
  for (let i = 0; i < m; i++) {
    const v = (1 - Math.pow(h, i + 1)) * (invFact[i + 1] as number);
    H[i * m] = v;
    H[(m - 1) * m + (m - 1 - i)] = v;
  }
  const corner = (1 - 2 * Math.pow(h, m) + Math.pow(Math.max(0, 2 * h - 1), m)) * (invFact[m] as number);
  H[(m - 1) * m] = corner;

  const mul = (A: Float64Array, B: Float64Array): Float64Array => {
    const C = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let l = 0; l < m; l++) {
        const a = A[i * m + l] as number;
        if (a === 0) continue;
        for (let j = 0; j < m; j++) C[i * m + j] = (C[i * m + j] as number) + a * (B[l * m + j] as number);
      }
    }
    return C;
  };
  let P: Float64Array | undefined; // H^(bits so far)
  let pExp = 0;
  let hExp = 0;
  let e = n;
  const centre = (k - 1) * m + (k - 1);
  while (e > 0) {
    if (e % 2 === 1) {
      P = P === undefined ? H.slice() : mul(P, H);
      pExp += hExp;
    }
    e = Math.floor(e / 2);
    if (e === 0) break;
    H = mul(H, H);
    hExp *= 2;
    if (Math.abs(H[centre] as number) > TWO_128) {
      for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) * TWO_M128;
      hExp += 128;
    }
  }
  let p = (P as Float64Array)[centre] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < TWO_M128) {
      p *= TWO_128;
      pExp -= 128;
    }
  }
  return clip01(ldexp(p, pExp));
}

/** Bounds [j1, j2] of the non-zero entries of row i in Pomeranz's recursion. */
function pomeranzBounds(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** CDF P(D_n <= x) by Pomeranz's recursion (rows are convolutions with Poisson-like weights). */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const size = 2 * (ll + 1);
  const gPow = new Float64Array(size);
  const twoGPow = new Float64Array(size);
  const oneMinusTwoGPow = new Float64Array(size);
  gPow[0] = twoGPow[0] = oneMinusTwoGPow[0] = 1;
  for (let k = 1; k < size; k++) {
    gPow[k] = ((gPow[k - 1] as number) * (g / n)) / k;
    twoGPow[k] = ((twoGPow[k - 1] as number) * ((2 * g) / n)) / k;
    oneMinusTwoGPow[k] = ((oneMinusTwoGPow[k - 1] as number) * ((1 - 2 * g) / n)) / k;
  }
  let prev = new Float64Array(size);
  let cur = new Float64Array(size);
  cur[0] = 1;
  let expnt = 0;
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilf, roundf);
  for (let i = 1; i <= 2 * n + 1; i++) {
    const k1 = j1; // start of the previous row (absolute j)
    [prev, cur] = [cur, prev];
    cur.fill(0);
    [j1, j2] = pomeranzBounds(i, n, ll, ceilf, roundf);
    const w = i === 1 || i === 2 * n + 1 ? gPow : i % 2 === 1 ? twoGPow : oneMinusTwoGPow;
    if (j2 - k1 + 1 > 0) {
      let max = 0;
      for (let j = j1; j <= j2; j++) {
        // new[j] = Σ_{j' in previous row, j' <= j} prev[j'] · w[j - j']
        const c = j - k1;
        let s = 0;
        for (let a = 0; a <= c && a < size; a++) {
          const b = c - a;
          if (b < size) s += (prev[a] as number) * (w[b] as number);
        }
        cur[j - j1] = s;
        if (s > max) max = s;
      }
      if (max > 0 && max < TWO_M128) {
        for (let q = 0; q < size; q++) cur[q] = (cur[q] as number) * TWO_128;
        expnt -= 128;
      }
    }
  }
  let ans = cur[n - j1] as number;
  for (let k = 1; k <= n; k++) {
    if (Math.abs(ans) > TWO_128) {
      ans *= TWO_M128;
      expnt += 128;
    }
    ans *= k;
  }
  return clip01(ldexp(ans, expnt));
}

/** Pelz–Good asymptotic CDF P(D_n <= x) (Li-Chien/Korolyuk series, transformed for small z). */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  const q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  // Σ over odd m = 2k-1 of c_i(m) q^(m²), by Horner in q^8k.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = Math.pow(q, 8 * k);
    s0 = s0 * qp + 1;
    s1 = s1 * qp + (k1a + k1b * m2);
    s2 = s2 * qp + (k2a + k2b * m2 + k2c * m4);
    s3 = s3 * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
  }
  const f = q * SQRT_2PI;
  const K0 = (s0 * f) / z;
  let K1 = (s1 * f) / (6 * z4);
  let K2 = (s2 * f) / (72 * z6 * z);
  let K3 = (s3 * f) / (6480 * z4 * z6);
  // Remaining sums over all integers k of (π²k²) q'^(k²) with q' = exp(-π²/(2z²)).
  const q2 = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let e2 = 0;
  let e3 = 0;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qp = Math.pow(q2, k2);
    e2 += k2 * qp;
    const kpi = Math.PI * k;
    e3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K2 += (e2 * PI2 * SQRT_2PI) / (-36 * z2 * z);
  K3 += (e3 * PI2 * SQRT_2PI) / (216 * z6);
  K1 /= Math.sqrt(n);
  K2 /= n;
  K3 /= n * Math.sqrt(n);
  return K0 + K1 + K2 + K3;
}

/** Two-sided one-sample KS survival function P(D_n >= x) (scipy.stats.kstwo.sf). */
export function kstwoSf(x: number, n: number): number {
  if (Number.isNaN(x) || !(n >= 1) || Math.round(n) !== n) return NaN;
  if (x >= 1) return 0;
  if (x <= 0.5 / n) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: CDF = n!/n^n · (2t-1)^n for 1/(2n) <= x <= 1/n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= (i / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * Math.pow(1 - x, n));
  if (x >= 0.5) return clip01(2 * smirnov(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip01(1 - durbinCdf(n, x));
    if (nx2 <= 4) return clip01(1 - pomeranzCdf(n, x));
    return clip01(2 * smirnov(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnov(n, x));
  const cdf = n <= 100000 && n * Math.pow(x, 1.5) <= 1.4 ? durbinCdf(n, x) : pelzGoodCdf(n, x);
  return clip01(1 - cdf);
}
