/**
 * Users as the unit of analysis, when the experiment has a sticky key.
 *
 * A sticky user is assigned once, by the hash of the key, so the user — not the request — is the
 * unit of randomisation: a heavy user's 500 requests are one draw, not 500. This tracker keeps,
 * per arm, the users first assigned to it (with the share the weights gave that arm when the
 * user's first request arrived, for the SRM on units) and the running sums over users that the
 * user-level A/B and the delta-method variance of per-request metrics need (stats/clustered.ts).
 *
 * A user belongs to the arm of its first counted request. A request of that user in another arm
 * is a crossover: it is counted beside the A/B (the user's outcome must not mix two treatments).
 * A ramp moves users between arms by design (routing.ts: from the baseline to the canary only);
 * a user who changes arm while the weights stayed the same means stickiness is broken, and is
 * reported as unexplained.
 *
 * Memory is bounded. Users live in two generations of `userMemory / 2`; reading a user moves it
 * to the newer one, and when the newer one fills the older one is dropped whole. So a user is
 * forgotten only after at least `userMemory / 2` other users were seen since its last request,
 * and the error is exactly this: such a user, when it comes back, counts again as a new unit
 * (in its current arm, with the current weights' share). The report says how many users were
 * dropped (`units.evicted`), an upper bound on the double counts. Feedback is attributed to its
 * user through the last `requestMemory`–2×`requestMemory` request ids; feedback for an older
 * request still reaches the request-level report but not the user's sums. Both bounds are fixed
 * here, not taken from the caller, so the router and `analyze` count the same way.
 *
 * With an attribution window (./attribution.ts) a user's window runs from its first exposure:
 * the user is pending until the log's clock passes first request + window, and only then joins
 * its arm's sums, with its requests and the feedback that arrived within the window. Requests
 * after the window, and feedback after it, change nothing (the feedback is counted as late).
 */
import type { RequestEvent } from '../../shared/events';
import type { UnitsReport } from '../../shared/report';
import { emptyClusterSums, moveUnit, type ClusterSums } from '../stats';
import { PENDING_MEMORY, PendingQueue, emptyWindowCounts, type WindowCounts } from './attribution';
import { IdObjects } from './idMemories';
import { IdTable } from './idTable';
import { RecentKeys } from './recentKeys';
import type { MetricKind } from './sequentialTests';
import type { MetricAggregates } from './variantAggregates';

/** Users held in memory at most (two generations of half). */
export const USER_MEMORY = 200_000;
/** Request ids whose user is remembered for feedback, per generation (so up to twice as many). */
export const REQUEST_MEMORY = 250_000;

/** The units section of an experiment without a sticky key: the request is the unit. */
export function requestUnits(): UnitsReport {
  return {
    unit: 'request',
    users: 0,
    requestsWithoutUser: 0,
    crossovers: 0,
    unexplainedCrossovers: 0,
    crossoverRequests: 0,
    evicted: 0,
    memory: 0,
  };
}

interface Unit {
  /** The arm of the user's first counted request: the user's arm. */
  arm: number;
  /** Requests counted, and the sum of their per-request values (successes for a proportion). */
  n: number;
  y: number;
  /** The arm of the user's latest-arriving request, for telling a ramp from broken stickiness. */
  lastArm: number;
  /** When its last request arrived (epoch ms). */
  lastTs: number;
  crossed: boolean;
  unexplained: boolean;
  /** End of the user's attribution window (epoch ms; Infinity without a window). */
  deadline: number;
  /** `counted`: in the arm's sums from the first request (no window); else where the window stands. */
  state: 'counted' | 'pending' | 'matured' | 'overflow';
}

/** One arm's units: the cluster sums, the users who converted, and the users expected under the weights. */
export interface ArmUnits extends ClusterSums {
  /** Users with a positive sum (for a proportion: converted at least once). */
  converted: number;
  /** Users expected in this arm: the weights' share at each user's first request, summed. */
  expected: number;
}

/** Per-user counting for one experiment's arms (variant indexes). */
export class UnitTracker {
  readonly arms: ArmUnits[];
  private readonly users: RecentKeys<Unit>;
  private readonly byRequest: IdObjects<Unit>;
  /** When the weights last changed (epoch ms): routing is decided on arrival, logging happens later. */
  private weightsChangedAt = -Infinity;
  private usersCounted = 0;
  private withoutUser = 0;
  private crossovers = 0;
  private unexplained = 0;
  private crossoverRequests = 0;
  private readonly memoryLimit: number;
  /** With an attribution window: the users waiting for theirs, and each arm's counts. */
  private readonly queue: PendingQueue<Unit> | undefined;
  readonly windowCounts: WindowCounts[] | undefined;

  constructor(
    arms: number,
    private readonly kind: MetricKind,
    private readonly key: string | undefined,
    memory: { users?: number; requests?: number; pending?: number } = {},
    private readonly windowMs?: number,
    ids = new IdTable(),
  ) {
    if (windowMs !== undefined) {
      this.queue = new PendingQueue(memory.pending ?? PENDING_MEMORY);
      this.windowCounts = emptyWindowCounts(arms);
    }
    this.arms = Array.from({ length: arms }, () => ({ ...emptyClusterSums(), converted: 0, expected: 0 }));
    this.memoryLimit = memory.users ?? USER_MEMORY;
    this.users = new RecentKeys(Math.max(1, Math.floor(this.memoryLimit / 2)));
    this.byRequest = new IdObjects(ids, memory.requests ?? REQUEST_MEMORY);
  }

  /** The weights changed: a user changing arm after this is explained by the ramp. */
  weightsChanged(ts: number): void {
    this.weightsChangedAt = Math.max(this.weightsChangedAt, ts);
  }

  /**
   * Counts a randomised request in `arm`; `shares` are the weights' shares of every arm when it
   * arrived. False when it is left out of the user-level sums (its user belongs to another arm).
   */
  request(e: RequestEvent, arm: number, shares: readonly number[]): boolean {
    let unit = e.user === undefined ? undefined : this.users.get(e.user);
    if (unit && unit.arm !== arm) {
      if (!unit.crossed) this.crossovers++;
      unit.crossed = true;
      // Unexplained only when both requests arrived after the last weight change: a request routed
      // under the old weights may be logged after one routed under the new ones.
      const bothAfterChange = unit.lastTs > this.weightsChangedAt && e.ts > this.weightsChangedAt;
      if (arm !== unit.lastArm && bothAfterChange && !unit.unexplained) {
        unit.unexplained = true;
        this.unexplained++;
      }
      if (e.ts >= unit.lastTs) {
        unit.lastArm = arm;
        unit.lastTs = e.ts;
      }
      this.crossoverRequests++;
      return false;
    }
    if (!unit) {
      unit = {
        arm,
        n: 0,
        y: 0,
        lastArm: arm,
        lastTs: e.ts,
        crossed: false,
        unexplained: false,
        deadline: this.windowMs === undefined ? Infinity : e.ts + this.windowMs,
        state: 'counted',
      };
      if (this.queue) {
        unit.state = this.queue.push(unit) ? 'pending' : 'overflow';
        this.windowCounts![arm]![unit.state === 'pending' ? 'pending' : 'overflow']++;
      }
      if (e.user === undefined) this.withoutUser++;
      else {
        this.users.set(e.user, unit);
        this.usersCounted++;
      }
      const a = this.arms[arm]!;
      a.units++;
      shares.forEach((s, i) => (this.arms[i]!.expected += s));
    }
    if (e.ts >= unit.lastTs) {
      unit.lastArm = arm;
      unit.lastTs = e.ts;
    }
    if (unit.state !== 'counted') {
      // Under a window the arm's sums change only when the user matures.
      if (unit.state === 'pending' && e.ts <= unit.deadline) {
        unit.n++;
        this.byRequest.set(e.id, unit);
      }
      return false;
    }
    moveUnit(this.arms[arm]!, unit.n, unit.y, unit.n + 1, unit.y);
    unit.n++;
    this.byRequest.set(e.id, unit);
    return true;
  }

  /**
   * A request's latest value of the primary metric changed from `previous` (undefined: none yet).
   * The arm whose sums changed, or undefined when the request's user is not known.
   */
  feedback(
    requestId: string,
    value: number,
    previous: number | undefined,
    ts = -Infinity,
  ): number | undefined {
    const unit = this.byRequest.get(requestId);
    if (!unit) return undefined;
    const contribution = (x: number | undefined) =>
      x === undefined ? 0 : this.kind === 'proportion' ? (x === 1 ? 1 : 0) : x;
    const y = unit.y + contribution(value) - contribution(previous);
    if (unit.state !== 'counted') {
      if (unit.state === 'pending' && ts <= unit.deadline) unit.y = y;
      else this.windowCounts![unit.arm]!.late++;
      return undefined;
    }
    const a = this.arms[unit.arm]!;
    moveUnit(a, unit.n, unit.y, unit.n, y);
    a.converted += (y > 0 ? 1 : 0) - (unit.y > 0 ? 1 : 0);
    unit.y = y;
    return unit.arm;
  }

  /** Matures the users whose window ended before `clock` (the log's clock); `matured(arm)` after each. */
  advance(clock: number, matured: (arm: number) => void): void {
    if (!this.queue) return;
    for (let unit = this.queue.next(clock); unit; unit = this.queue.next(clock)) {
      const a = this.arms[unit.arm]!;
      moveUnit(a, 0, 0, unit.n, unit.y);
      if (unit.y > 0) a.converted++;
      unit.state = 'matured';
      const c = this.windowCounts![unit.arm]!;
      c.pending--;
      c.matured++;
      matured(unit.arm);
    }
  }

  /** An arm as the A/B sees it: users (matured ones under a window), and the metric per user (converted users, or sums over users). */
  look(arm: number): { requests: number; metric: MetricAggregates } {
    const a = this.arms[arm]!;
    const n = this.windowCounts ? this.windowCounts[arm]!.matured : a.units;
    return { requests: n, metric: { count: n, sum: a.y, sumSq: a.yy, successes: a.converted } };
  }

  /** The report's `units` section. */
  report(): UnitsReport {
    return {
      unit: 'user',
      ...(this.key ? { key: this.key } : {}),
      users: this.usersCounted,
      requestsWithoutUser: this.withoutUser,
      crossovers: this.crossovers,
      unexplainedCrossovers: this.unexplained,
      crossoverRequests: this.crossoverRequests,
      evicted: this.users.dropped,
      memory: this.memoryLimit,
    };
  }
}
