/**
 * The rollout controller, running inside the router (locally in its process, in a cluster
 * in its pod), so a rollout goes on with VS Code closed. Every second it evaluates active
 * rollouts against the live report; weight changes go through the same path as manual ones,
 * and every action and transition is a `rollout` event in the log, so replay restores it.
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

export type RolloutAction = RolloutEvent['action'];

/** Settings a start may override (a demo wants short steps). */
export type RolloutOverrides = Partial<
  Pick<
    RolloutSpec,
    'minSamplesPerStep' | 'minStepSeconds' | 'manualApproval' | 'promoteWhenEquivalent' | 'steps'
  >
>;

interface Active {
  state: RolloutState;
  spec: RolloutSpec;
}

export class RolloutController {
  private readonly active = new Map<string, Active>();
  private timer: NodeJS.Timeout | undefined;
  private evaluating = false;

  constructor(
    private readonly core: RouterCore,
    private readonly logger: Logger,
    private readonly everyMs = 1_000,
  ) {}

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

  stop(): void {
    clearInterval(this.timer);
  }

  /** Drops an experiment's rollout (a new run starts without one); its last state stays in the log. */
  forget(name: string): void {
    this.active.delete(name);
  }

  status(name: string): RolloutState | undefined {
    return this.active.get(name)?.state;
  }

  /** A user action (start needs a candidate when there are several). */
  async act(
    exp: ExperimentRuntime,
    action: Exclude<RolloutAction, 'evaluate'>,
    options: { candidate?: string; overrides?: RolloutOverrides } = {},
  ): Promise<RolloutState> {
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

  private async tick(): Promise<void> {
    if (this.evaluating) return;
    this.evaluating = true;
    try {
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
    } finally {
      this.evaluating = false;
    }
  }

  private async apply(
    exp: ExperimentRuntime,
    current: Active,
    e: Evaluation,
    action: RolloutAction,
  ): Promise<RolloutState> {
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
