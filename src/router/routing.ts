/**
 * Variant selection: weighted random, sticky by a hashed header, or forced.
 *
 * Every point u in [0, 1) falls into one variant's slice of the cumulative weights, laid out in
 * a fixed order with the baseline first. A sticky user keeps the same u forever (a hash of the
 * experiment name and the header value), so when a ramp moves weight from the baseline to the
 * first canary, only the users between the old and the new end of the baseline's slice change —
 * all from baseline to canary, never back. (With several canaries, a canary's slice also shifts
 * when weights earlier in the order change; ramp one canary at a time, or list the one being
 * ramped first.)
 */
import { createHash } from 'node:crypto';

export interface WeightedVariant {
  readonly name: string;
  readonly weight: number;
}

/** A point in [0, 1) that depends only on the experiment and the sticky key (48 bits of SHA-256). */
export function stickyPoint(experiment: string, key: string): number {
  return stickyUser(experiment, key).point;
}

/**
 * The sticky point and, from the same digest, the user the event log records (16 hex digits:
 * the analysis counts users without the log holding the header's value).
 */
export function stickyUser(experiment: string, key: string): { point: number; user: string } {
  const digest = createHash('sha256').update(experiment).update('\0').update(key).digest();
  return { point: digest.readUIntBE(0, 6) / 2 ** 48, user: digest.toString('hex', 0, 8) };
}

/** The split of one experiment: variants in their fixed order (baseline first) and their cumulative weights. */
export class Split {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(readonly variants: readonly WeightedVariant[]) {
    this.cumulative = new Float64Array(variants.length);
    let sum = 0;
    variants.forEach((v, i) => {
      sum += v.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  /** Index of the variant whose slice contains u ∈ [0, 1). */
  indexAt(u: number): number {
    const target = u * this.total;
    const n = this.cumulative.length;
    for (let i = 0; i < n; i++) {
      // Strictly greater: a zero-weight variant has an empty slice and is never chosen.
      if (target < this.cumulative[i]!) return i;
    }
    // u*total can round up to total; the last variant with weight takes it.
    for (let i = n - 1; i >= 0; i--) if (this.variants[i]!.weight > 0) return i;
    return 0;
  }

  /** Picks a variant: sticky when a key is given, weighted random otherwise. */
  pick(experiment: string, stickyKey: string | undefined): number {
    return this.indexAt(stickyKey === undefined ? Math.random() : stickyPoint(experiment, stickyKey));
  }
}
