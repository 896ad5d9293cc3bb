/**
 * Experiment traffic only: which requests the split, the SRM, the A/B and the drift windows are
 * computed on. A request counts when its variant was chosen at random (weighted, or sticky by a
 * hashed key); a forced, debug or shadow request is counted beside them and its feedback is
 * set aside, so a developer's or a smoke test's calls never move the estimate or fake a
 * sample-ratio mismatch.
 */
import type { Assignment, RequestEvent } from '../../shared/events';
import type { ExcludedTraffic } from '../../shared/report';
import { IdSet } from './idMemories';
import { IdTable } from './idTable';

/** Why a request is left out of the experiment: how its variant was chosen, or `other` for a value this version does not know. */
export type ExclusionReason = 'forced' | 'debug' | 'shadow' | 'other';

const RANDOMISED: ReadonlySet<string> = new Set<Assignment>(['weighted', 'sticky']);
const KNOWN_EXCLUDED: ReadonlySet<string> = new Set<Assignment>(['forced', 'debug', 'shadow']);

/**
 * How a request's variant was chosen. A line written before the field existed is a shadow call
 * when it says so and randomised otherwise (the router then recorded forced calls like any other,
 * and nothing in the line tells them apart).
 */
export function assignmentOf(e: RequestEvent): string {
  return e.assignment ?? (e.shadow ? 'shadow' : 'weighted');
}

/** Undefined for randomised traffic, else why the request is left out. */
export function exclusionOf(e: RequestEvent): ExclusionReason | undefined {
  const a = assignmentOf(e);
  if (RANDOMISED.has(a)) return undefined;
  return KNOWN_EXCLUDED.has(a) ? (a as ExclusionReason) : 'other';
}

/** Counts of the requests (and their feedback) left out of the experiment. */
export class ExcludedCounter {
  private readonly counts: ExcludedTraffic = {
    forced: 0,
    debug: 0,
    shadow: 0,
    other: 0,
    feedback: 0,
    headers: {},
    variants: {},
  };
  /** Ids of recent excluded routed requests, so their feedback is set aside too. */
  private readonly ids: IdSet;

  constructor(idMemory: number, table = new IdTable()) {
    this.ids = new IdSet(table, idMemory);
  }

  /** Counts a request left out for `reason`. */
  request(e: RequestEvent, reason: ExclusionReason): void {
    this.counts[reason]++;
    if (reason === 'shadow') return;
    this.ids.add(e.id);
    const v = (this.counts.variants[e.variant] ??= { forced: 0, debug: 0, other: 0 });
    v[reason]++;
    if (reason === 'debug' && e.debugHeader)
      this.counts.headers[e.debugHeader] = (this.counts.headers[e.debugHeader] ?? 0) + 1;
  }

  /** True (and counted) when feedback is for an excluded request. */
  feedback(requestId: string): boolean {
    if (!this.ids.has(requestId)) return false;
    this.counts.feedback++;
    return true;
  }

  /** True when the request was left out of the experiment (and is still remembered). */
  has(requestId: string): boolean {
    return this.ids.has(requestId);
  }

  /** A copy for the report. */
  report(): ExcludedTraffic {
    return {
      ...this.counts,
      headers: { ...this.counts.headers },
      variants: Object.fromEntries(Object.entries(this.counts.variants).map(([k, v]) => [k, { ...v }])),
    };
  }
}
