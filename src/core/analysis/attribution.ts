/**
 * Attribution windows (`spec.metrics.primary.window`): feedback arrives late, so a young unit
 * (a request, or a user with a sticky key) looks like a non-conversion until its feedback comes.
 * A newly ramped arm has younger units than the baseline, and its rate is biased down exactly
 * when a rollout decides. With a window, a unit is pending until its window has passed; it is
 * left out of the A/B meanwhile, and it joins its arm ("matures") with the feedback that arrived
 * within its window. Feedback after the window is recorded (the log and the per-variant feedback
 * counts keep it) but does not count. That is the unbiased choice for a fixed window: every
 * matured unit, in every arm, had the same time to convert (docs/statistics.md, "Attribution
 * windows"). A survival-style estimator would use pending units too, at the price of a model of
 * the delay; we prefer the estimate that needs none.
 *
 * Maturity runs on the log's own clock: the largest timestamp among the experiment's events
 * ingested so far, never the wall clock. A unit matures when that clock passes the end of its
 * window, before the event that moved the clock is counted; so the live router, a restarted
 * router and `analyze` on the same log mature the same units at the same places and take the
 * same looks (the always-valid test looks after every matured unit). A quiet log matures
 * nothing until its next event.
 *
 * Memory is bounded: at most `capacity` units wait at once (PENDING_MEMORY, fixed here so the
 * router and `analyze` count the same way). A unit that arrives when the queue is full is not
 * admitted: it stays in the split and the SRM but never enters the A/B, and the report counts it
 * (`overflow`). Admission depends on the queue, never on the arm or the outcome, so the A/B then
 * sees a sample of the units in time, not a biased one.
 */
import type { AttributionReport } from '../../shared/report';
import { formatDuration, parseDuration } from '../spec/duration';
import type { Experiment } from '../spec/experiment';
import type { MetricAggregates } from './variantAggregates';

/** Units waiting for their window at most; beyond, new units are not admitted to the A/B. */
export const PENDING_MEMORY = 200_000;
/** Ids a generation of RequestWindows' id map holds before it may be dropped. */
const GENERATION = 1024;

/** The primary metric's attribution window in ms, or undefined when the experiment sets none. */
export function attributionWindowMs(experiment: Experiment): number | undefined {
  const text = experiment.spec.metrics.primary.window;
  if (text === undefined) return undefined;
  const parsed = parseDuration(text);
  return 'ms' in parsed ? parsed.ms : undefined;
}

/** Per arm: units that matured, that wait, that were not admitted, and feedback that came too late. */
export interface WindowCounts {
  matured: number;
  pending: number;
  overflow: number;
  late: number;
}

/** Counts of every arm, zero. */
export function emptyWindowCounts(arms: number): WindowCounts[] {
  return Array.from({ length: arms }, () => ({ matured: 0, pending: 0, overflow: 0, late: 0 }));
}

/** Something that waits until `deadline` (epoch ms, the end of its window). */
export interface Waiting {
  deadline: number;
}

/**
 * A first-in, first-out queue of pending units with a cap. Units enter in log order and leave in
 * that order once the clock has passed their deadline; one that arrived out of order waits behind
 * the one before it (a few ms, and the same way on every replay).
 */
export class PendingQueue<T extends Waiting> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds a unit; false (and nothing added) when the queue is full. */
  push(item: T): boolean {
    if (this.size >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  /** Takes out the oldest unit when its deadline is before `clock` (no closure: this runs per event). */
  next(clock: number): T | undefined {
    if (this.head >= this.items.length || !(this.items[this.head]!.deadline < clock)) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined;
    // Compact now and then: O(1) amortised, and the array never holds more than twice the queue.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

interface PendingRequest extends Waiting {
  arm: number;
  /** The latest value of the primary metric that arrived within the window. */
  value: number | undefined;
  /** Its window has passed: it is in its arm's sums, and feedback for it is late. */
  matured: boolean;
}

/**
 * The A/B of an experiment whose unit is the request, under an attribution window: each arm's
 * matured requests and the primary metric over them (users have theirs in ./units.ts).
 */
export class RequestWindows {
  readonly counts: WindowCounts[];
  private readonly sums: MetricAggregates[];
  /**
   * Request id → its unit, in two generations (the newest first). A matured unit is not deleted
   * (a lookup and a delete per request were two thirds of this class's time in the router's
   * replay): it is marked, and read as absent. The older generation is dropped when the current
   * one holds `GENERATION` ids and the older one's last unit has matured: units mature in the
   * order they came (the queue is first in, first out), so then every unit it held has. The
   * maps hold about twice the pending units (at least `GENERATION`), one map with deletes held
   * them once.
   */
  private current = new Map<string, PendingRequest>();
  private older = new Map<string, PendingRequest>();
  /** The unit admitted last into the older generation. */
  private olderLast: PendingRequest | undefined;
  private readonly queue: PendingQueue<PendingRequest>;

  constructor(
    arms: number,
    private readonly windowMs: number,
    capacity = PENDING_MEMORY,
  ) {
    this.counts = emptyWindowCounts(arms);
    this.sums = Array.from({ length: arms }, () => ({ count: 0, sum: 0, sumSq: 0, successes: 0 }));
    this.queue = new PendingQueue(capacity);
  }

  /** A randomised request arrived at `ts` in `arm`: it waits for its window. */
  request(id: string, arm: number, ts: number): void {
    const unit: PendingRequest = { arm, deadline: ts + this.windowMs, value: undefined, matured: false };
    if (!this.queue.push(unit)) {
      this.counts[arm]!.overflow++;
      return;
    }
    this.current.set(id, unit);
    if (this.current.size >= GENERATION && (this.olderLast === undefined || this.olderLast.matured)) {
      this.older = this.current;
      this.olderLast = unit;
      this.current = new Map();
    }
    this.counts[arm]!.pending++;
  }

  /** The pending unit of request `id` (the one admitted last with it), if it has not matured. */
  private pendingUnit(id: string): PendingRequest | undefined {
    const unit = this.current.get(id) ?? this.older.get(id);
    return unit === undefined || unit.matured ? undefined : unit;
  }

  /**
   * Primary-metric feedback for request `id` of `arm`, arriving at `ts`. It counts while the
   * request is pending and the feedback is within its window; otherwise it is late (recorded in
   * the arm's `late`, not counted). Latest within the window wins.
   */
  feedback(id: string, ts: number, value: number, arm: number | undefined): void {
    const unit = this.pendingUnit(id);
    if (unit && ts <= unit.deadline) unit.value = value;
    else if (arm !== undefined) this.counts[unit?.arm ?? arm]!.late++;
  }

  /** Matures the requests whose window ended before `clock`; `matured(arm)` after each. */
  advance(clock: number, matured: (arm: number) => void): void {
    for (let unit = this.queue.next(clock); unit; unit = this.queue.next(clock)) {
      unit.matured = true;
      const c = this.counts[unit.arm]!;
      c.pending--;
      c.matured++;
      const value = unit.value;
      if (value !== undefined) {
        const m = this.sums[unit.arm]!;
        m.count++;
        m.sum += value;
        m.sumSq += value * value;
        if (value === 1) m.successes++;
      }
      matured(unit.arm);
    }
  }

  /** An arm as the A/B sees it: its matured requests and the primary metric over them. */
  look(arm: number): { requests: number; metric: MetricAggregates } {
    return { requests: this.counts[arm]!.matured, metric: { ...this.sums[arm]! } };
  }
}

/** The report's `attribution` section: the rule in force and, with a window, each arm's units. */
export function attributionReport(
  windowMs: number | undefined,
  unit: 'user' | 'request',
  variants: readonly string[],
  counts: readonly WindowCounts[] | undefined,
  capacity = PENDING_MEMORY,
): AttributionReport {
  if (windowMs === undefined || !counts) return { rule: 'immediate', unit };
  return {
    rule: 'window',
    unit,
    window: formatDuration(windowMs),
    windowMs,
    capacity,
    variants: Object.fromEntries(variants.map((name, i) => [name, { ...counts[i]! }])),
  };
}
