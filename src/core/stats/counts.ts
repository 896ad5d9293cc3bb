/**
 * Argument checks shared by the proportion statistics. Counts come from our own
 * aggregates, so a bad one is a bug upstream: fail loudly, naming the argument, rather
 * than return a plausible-looking number.
 */

/** Throws a RangeError unless 0 ≤ successes ≤ trials and both are finite. */
export function checkCounts(arm: string, successes: number, trials: number): void {
  if (!Number.isFinite(trials) || trials < 0) {
    throw new RangeError(`${arm}: trials must be a finite number ≥ 0, got ${trials}`);
  }
  if (!Number.isFinite(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`${arm}: successes must be between 0 and trials (${trials}), got ${successes}`);
  }
}

/** Throws a RangeError unless 0 < alpha < 1. */
export function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) {
    throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  }
}
