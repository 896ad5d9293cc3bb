/**
 * When the always-valid test (./alwaysValid.ts, the mixture SPRT with τ = δ) stops if the true
 * effect is the minimum detectable effect δ: the distribution of its stopping time, by a seeded
 * simulation. No closed form gives the expected sample size of a mixture SPRT watched
 * continuously, so this simulates it, once per set of parameters (cached).
 *
 * Scale-free form. Let u = 1/V be the information of θ̂ (V its true variance, which shrinks as
 * 1/n) and s = δ²·u. The running sum W(s) = δ·u·θ̂ is a Brownian motion with drift 1 in s, and
 * with the test's variance V_test = κ·V (κ = 1 when the test uses the true variance; the
 * pooled variance of proportions makes κ ≠ 1) the statistic at τ² = δ² is
 *
 *   log Λ(s) = ½ log(κ / (κ + s)) + W(s)² / (2κ(κ + s)),
 *
 * so the stopping information s* = inf{ s ≥ s0 : log Λ(s) ≥ log(1/α) } depends on α, κ and
 * the information s0 at which the test starts (its warm-up), and on nothing else. A plan
 * turns s* into units: the variant needs n = s*·(σ_v² + σ_b²/r)/δ² (r baseline units per
 * variant unit). The fixed-horizon test needs s = (z_{1−α/2} + z_power)² on the same scale.
 *
 * The simulation takes W on a grid of looks 1% apart in s (at most 0.02 apart), where the
 * report looks after every event; the seeded comparison with the real SequentialTests in
 * test/unit/planning.sequential.test.ts measures what that costs (docs/planning.md).
 * Hand-rolled: no JavaScript library simulates stopping times of a mixture SPRT.
 */
import { seededRandom } from './random';

export interface StoppingOptions {
  /** Two-sided significance level of the test. */
  alpha: number;
  /** V_test / V; default 1. */
  kappa?: number;
  /** Information s at the test's first look (its warm-up); default 0.001. */
  start?: number;
  /** Simulated experiments; default 400. */
  paths?: number;
  /** Seed of the PRNG; default 20261206. */
  seed?: number;
}

/** The simulated stopping information s* at the MDE, sorted (Infinity for a path that had not stopped by `cap`). */
export interface StoppingDistribution {
  /** Sorted stopping informations, one per path. */
  times: Float64Array;
  /** Where the simulation gave up on a path. */
  cap: number;
  /** Mean of the stopping information (paths past the cap count at the cap: a lower bound then). */
  mean: number;
  /** Paths that had not stopped by the cap. */
  censored: number;
}

/** The stopping information where a share q of the paths had stopped (q in [0, 1]). */
export function stoppingQuantile(d: StoppingDistribution, q: number): number {
  const n = d.times.length;
  if (n === 0) return NaN;
  const i = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return d.times[i]!;
}

/** The share of paths that stopped by information s. */
export function stoppedBy(d: StoppingDistribution, s: number): number {
  let lo = 0;
  let hi = d.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (d.times[mid]! <= s) lo = mid + 1;
    else hi = mid;
  }
  return d.times.length ? lo / d.times.length : NaN;
}

const CAP = 200;
const cache = new Map<string, StoppingDistribution>();
const CACHE_SIZE = 64;

/** Simulates the stopping information of the mixture SPRT at the MDE (cached per parameters). */
export function simulateStopping(options: StoppingOptions): StoppingDistribution {
  const { alpha, kappa = 1, start = 0.001, paths = 400, seed = 20261206 } = options;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(kappa > 0 && Number.isFinite(kappa))) throw new RangeError(`kappa must be > 0, got ${kappa}`);
  if (!(start > 0 && start < CAP)) throw new RangeError(`start must be in (0, ${CAP}), got ${start}`);
  if (!(Number.isInteger(paths) && paths > 0)) throw new RangeError(`paths must be a positive integer`);
  const key = `${alpha}|${kappa}|${start}|${paths}|${seed}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // The looks are the same for every path: their information, step, and the boundary on W²
  // (log Λ ≥ log(1/α) ⇔ W² ≥ 2κ(κ + s)(log(1/α) − ½ log(κ/(κ + s)))).
  const grid: number[] = [start];
  while (grid[grid.length - 1]! < CAP) {
    const at = grid[grid.length - 1]!;
    grid.push(at + Math.min(0.02, Math.max(0.01 * at, 1e-4)));
  }
  const looks = grid.length;
  const boundary = new Float64Array(looks);
  const drift = new Float64Array(looks);
  const spread = new Float64Array(looks);
  const threshold = Math.log(1 / alpha);
  for (let k = 0; k < looks; k++) {
    const at = grid[k]!;
    boundary[k] = 2 * kappa * (kappa + at) * (threshold - 0.5 * Math.log(kappa / (kappa + at)));
    const ds = k === 0 ? at : at - grid[k - 1]!;
    drift[k] = ds;
    spread[k] = Math.sqrt(ds);
  }
  const normal = normalSource(seededRandom(seed));
  const times = new Float64Array(paths);
  let sum = 0;
  let censored = 0;
  for (let p = 0; p < paths; p++) {
    let w = 0;
    let stop = Infinity;
    for (let k = 0; k < looks; k++) {
      w += drift[k]! + spread[k]! * normal();
      if (w * w >= boundary[k]!) {
        stop = grid[k]!;
        break;
      }
    }
    times[p] = stop;
    if (stop === Infinity) censored++;
    sum += Math.min(stop, CAP);
  }
  times.sort();
  const result: StoppingDistribution = { times, cap: CAP, mean: sum / paths, censored };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, result);
  return result;
}

/** Standard normal draws, both halves of each Box–Muller pair used. */
function normalSource(random: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const z = spare;
      spare = NaN;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = r * Math.sin(angle);
    return r * Math.cos(angle);
  };
}
