/**
 * The rollout controller, running inside the router (locally in its process, in a cluster
 * in its pod), so a rollout goes on with VS Code closed. Every second it evaluates active
 * rollouts against the live report; weight changes go through the same path as manual ones,
 * and every action and transition is a `rollout` event in the log, so replay restores it.
 *
 * With replicas only the leader (`core.leadership`, ./lease.ts) runs it; a follower answers
 * actions with 503 naming the leader. Run from a ConfigMap, each transition is written to the
 * ConfigMap with its weights in one PUT (./configMapTruth.ts) before it takes effect, and a
 * new leader resumes from there: no step repeated, none skipped (./rolloutHandover.ts).
 */
import {
  abortRollout,
  approveStep,
  evaluateRollout,
  fromStatus,
  initialRollout,
  isTerminal,
  pauseRollout,
  resumeRollout,
  rolloutSpecOf,
  startRollout,
  toStatus,
  type Evaluation,
  type RolloutSpec,
  type RolloutState,
} from '../core/rollout/rollout';
import { rolloutSection } from '../core/spec/planning';
import type { RolloutEvent } from '../shared/events';
import type { Report } from '../shared/report';
import type { ExperimentRuntime } from './config';
import type { Logger, RouterCore } from './core';
import { HttpError } from './http';
import type { ConfigMapTruth } from './configMapTruth';
import { RolloutHandover, notLeading, type Active } from './rolloutHandover';

export type RolloutAction = RolloutEvent['action'];

/** Settings a start may override (a demo wants short steps). */
export type RolloutOverrides = Partial<
  Pick<
    RolloutSpec,
    'minSamplesPerStep' | 'minStepSeconds' | 'manualApproval' | 'promoteWhenEquivalent' | 'steps'
  >
>;

export class RolloutController {
  private readonly active = new Map<string, Active>();
  private timer: NodeJS.Timeout | undefined;
  private evaluating: Promise<void> | undefined;
  private readonly handover: RolloutHandover;

  constructor(
    private readonly core: RouterCore,
    private readonly logger: Logger,
    private readonly everyMs = 1_000,
    /** The ConfigMap the router runs from: rollout state and weights are written there first. */
    readonly truth?: ConfigMapTruth,
  ) {
    this.handover = new RolloutHandover(core, logger, this.active, truth);
  }

  /** Restores rollouts from the replayed log (the latest state of each experiment). */
  restore(latest: Map<string, RolloutEvent>): void {
    for (const [name, event] of latest) {
      const exp = this.core.experimentByName(name);
      if (!exp) continue;
      const spec = { ...rolloutSpecOf(rolloutSection(exp.experiment)), steps: event.state.steps };
      this.active.set(name, { state: fromStatus(name, event.state), spec });
    }
  }

  /** Evaluates every second until stopped. */
  run(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  /** Stops evaluating; resolves once an evaluation under way has finished. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.evaluating;
  }

  /**
   * Drops an experiment's rollout (a new run starts without one); its last state stays in the log.
   * `stored`: its state in the ConfigMap too (the replica that starts the run; not one adopting it).
   */
  forget(name: string, stored = true): void {
    this.active.delete(name);
    if (stored) this.handover.forget(name);
  }

  /** The rollout's state: this leader's, or on a follower the one the leader last wrote. */
  status(name: string): RolloutState | undefined {
    return this.core.leadership.isLeader() ? this.active.get(name)?.state : this.handover.observed(name);
  }

  /** A user action (start needs a candidate when there are several). */
  async act(
    exp: ExperimentRuntime,
    action: Exclude<RolloutAction, 'evaluate'>,
    options: { candidate?: string; overrides?: RolloutOverrides } = {},
  ): Promise<RolloutState> {
    if (!this.core.leadership.isLeader()) throw notLeading(this.core.leadership);
    await this.handover.lead();
    const now = Date.now();
    const report = this.core.report(exp.name, now);
    if (!report) throw new HttpError(404, `no report for ${exp.name}`);
    let current = this.active.get(exp.name);
    if (action === 'start') {
      if (current && !isTerminal(current.state.phase) && current.state.phase !== 'Initialized') {
        throw new HttpError(
          409,
          `a rollout of ${current.state.candidate} is already ${current.state.phase.toLowerCase()} — pause, resume or abort it`,
        );
      }
      const baseline = exp.variants.find((v) => v.role === 'baseline')?.name ?? exp.variants[0]!.name;
      const candidates = exp.variants.filter((v) => v.name !== baseline).map((v) => v.name);
      const candidate = options.candidate ?? (candidates.length === 1 ? candidates[0] : undefined);
      if (!candidate || !candidates.includes(candidate)) {
        throw new HttpError(
          400,
          `name the candidate to roll out: one of ${candidates.join(', ') || '(none — the experiment has no candidate)'}`,
        );
      }
      const spec = {
        ...rolloutSpecOf(rolloutSection(exp.experiment)),
        ...stripUndefined(options.overrides ?? {}),
      };
      current = { state: initialRollout(exp.name, baseline, candidate, now), spec };
      this.active.set(exp.name, current);
      return this.apply(exp, current, startRollout(current.state, spec, report, now), 'start');
    }
    const variants = exp.variants.map((v) => v.name);
    if (action === 'abort' && (!current || isTerminal(current.state.phase)))
      return this.rollBack(exp, report, now);
    if (!current) throw new HttpError(409, `no rollout of ${exp.name} — start one first`);
    const e: Evaluation =
      action === 'pause'
        ? pauseRollout(current.state, now)
        : action === 'resume'
          ? resumeRollout(current.state, now)
          : action === 'approve'
            ? approveStep(current.state)
            : abortRollout(current.state, now, variants, current.spec);
    if (e.state === current.state)
      throw new HttpError(
        409,
        `cannot ${action} a rollout that is ${current.state.phase}${current.state.awaitingApproval ? ' (waiting for approval)' : ''}`,
      );
    return this.apply(exp, current, e, action);
  }

  /**
   * Roll Back outside a running rollout (none yet, or one that ended): the same transition an
   * abort makes, so every roll back is a `RolledBack` rollout event with the baseline at 100%.
   */
  private rollBack(exp: ExperimentRuntime, report: Report, now: number): Promise<RolloutState> {
    const baseline = exp.variants.find((v) => v.role === 'baseline')?.name ?? exp.variants[0]!.name;
    const weights = Object.fromEntries(report.variants.map((v) => [v.name, v.weight]));
    // The candidate rolled back is the one with traffic (the heaviest), else the first candidate.
    const candidate = exp.variants
      .filter((v) => v.name !== baseline)
      .sort((a, b) => (weights[b.name] ?? 0) - (weights[a.name] ?? 0))[0]?.name;
    if (!candidate) throw new HttpError(409, `${exp.name} has no candidate: nothing to roll back`);
    const spec = rolloutSpecOf(rolloutSection(exp.experiment));
    const current: Active = { state: initialRollout(exp.name, baseline, candidate, now), spec };
    this.active.set(exp.name, current);
    const variants = exp.variants.map((v) => v.name);
    return this.apply(
      exp,
      current,
      abortRollout(current.state, now, variants, spec, 'rolled back by a user'),
      'abort',
    );
  }

  private tick(): Promise<void> {
    this.evaluating ??= this.evaluate().finally(() => (this.evaluating = undefined));
    return this.evaluating;
  }

  private async evaluate(): Promise<void> {
    try {
      // Followers only watch; a replica that becomes the leader first takes over the durable state.
      if (!this.core.leadership.isLeader()) return this.handover.follow();
      await this.handover.lead();
      for (const [name, current] of this.active) {
        if (current.state.phase !== 'Progressing') continue;
        const exp = this.core.experimentByName(name);
        const now = Date.now();
        const report = exp && this.core.report(name, now);
        if (!exp || !report) continue;
        const e = evaluateRollout(current.state, current.spec, report, now);
        const changed =
          e.transition !== undefined || e.state.awaitingApproval !== current.state.awaitingApproval;
        if (changed) await this.apply(exp, current, e, 'evaluate');
        else current.state = e.state; // gates and reason refresh without an event
      }
    } catch (err) {
      this.logger.warn(`rollout evaluation failed: ${(err as Error).message}`);
    }
  }

  private async apply(
    exp: ExperimentRuntime,
    current: Active,
    e: Evaluation,
    action: RolloutAction,
  ): Promise<RolloutState> {
    // Durable first (with replicas: in the ConfigMap, by the leader only), then in effect here.
    await this.handover.persist(exp.name, e, current.spec);
    current.state = e.state;
    if (e.weights) await this.core.setWeights(exp, e.weights, 'rollout', e.transition?.reason);
    const event: RolloutEvent = {
      type: 'rollout',
      ts: Date.now(),
      experiment: exp.name,
      action,
      state: toStatus(e.state, current.spec),
    };
    await this.core.recordDurable([event]);
    if (e.transition)
      this.logger.info(
        `rollout ${exp.name}: ${e.transition.from} → ${e.transition.to} — ${e.transition.reason}`,
      );
    return e.state;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
