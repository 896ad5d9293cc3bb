/**
 * Request-level metrics under user-level assignment: the delta-method variance of a ratio of
 * sums over users.
 *
 * With a sticky key the user is the unit of assignment, so a metric per request (conversions
 * per request, revenue per request) is sum(Y_u) / sum(N_u) over the arm's users, and a heavy
 * user's requests are not independent trials. Treating them as such understates the variance
 * (2–4× in the fixture's cases). The delta method (A. Deng, U. Knoblich, J. Lu, "Applying the
 * delta method in metric analytics: a practical guide with novel ideas", KDD 2018, §3) gives
 * Var(r) = Σ_u (Y_u − r·N_u)² / (Σ_u N_u)², moments over the K users divided by K. That equals
 * the cluster-robust CR0 (Liang–Zeger) variance of the treatment coefficient in the
 * request-level regression y ~ 1 + treatment, clustered by user, which is the reference:
 * statsmodels OLS(...).fit(cov_type='cluster', cov_kwds={'groups': user, 'use_correction':
 * False}), test/fixtures/units/clustered.py. Only five running sums per arm are needed, so no
 * user's requests are kept.
 */
import erfc from '@stdlib/math-base-special-erfc';

/** Running sums over the users of one arm: Σ N_u, Σ Y_u, Σ Y_u², Σ N_u², Σ N_u·Y_u and K. */
export interface ClusterSums {
  units: number;
  requests: number;
  y: number;
  yy: number;
  nn: number;
  ny: number;
}

/** An empty set of sums. */
export function emptyClusterSums(): ClusterSums {
  return { units: 0, requests: 0, y: 0, yy: 0, nn: 0, ny: 0 };
}

/** Moves one user's contribution from (n, y) to (n2, y2); a new user comes from (0, 0) and also adds a unit. */
export function moveUnit(s: ClusterSums, n: number, y: number, n2: number, y2: number): void {
  s.requests += n2 - n;
  s.y += y2 - y;
  s.yy += y2 * y2 - y * y;
  s.nn += n2 * n2 - n * n;
  s.ny += n2 * y2 - n * y;
}

/** The per-request mean Σ Y / Σ N and its delta-method variance (NaN without requests). */
export function ratioMean(s: ClusterSums): { mean: number; variance: number } {
  if (s.requests === 0) return { mean: NaN, variance: NaN };
  const r = s.y / s.requests;
  const residual = Math.max(0, s.yy - 2 * r * s.ny + r * r * s.nn);
  return { mean: r, variance: residual / (s.requests * s.requests) };
}

/** The difference of per-request means, candidate − baseline, with its delta-method error. */
export interface ClusteredDiff {
  estimate: number;
  se: number;
  /** Two-sided normal p-value (1 when the error is 0 or undefined). */
  pValue: number;
  ci95: [number, number];
}

const Z975 = 1.959963984540054;

/** Candidate − baseline on a request-level metric, users as clusters (matches statsmodels' CR0 OLS). */
export function clusteredDiff(baseline: ClusterSums, candidate: ClusterSums): ClusteredDiff {
  const b = ratioMean(baseline);
  const v = ratioMean(candidate);
  const estimate = v.mean - b.mean;
  const se = Math.sqrt(b.variance + v.variance);
  if (!Number.isFinite(estimate) || !Number.isFinite(se))
    return { estimate, se, pValue: NaN, ci95: [NaN, NaN] };
  const pValue = se > 0 ? erfc(Math.abs(estimate / se) / Math.SQRT2) : estimate === 0 ? 1 : 0;
  return { estimate, se, pValue, ci95: [estimate - Z975 * se, estimate + Z975 * se] };
}
