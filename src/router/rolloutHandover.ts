/**
 * The rollout controller's durable state across leaders. Run from a ConfigMap, the leader writes
 * every rollout transition there with its weights in one PUT (./configMapTruth.ts) before the
 * transition takes effect; a replica that becomes the leader reads those rollouts back before it
 * evaluates or acts, so the rollout resumes at the step the last leader committed — no step
 * repeated, none skipped. Each write is also an optimistic lock on the rollout: it goes through
 * only when the stored rollout is the one this leader last wrote or read, so a deposed leader
 * that still had a write in flight cannot overwrite its successor's step.
 */
import {
  fromStatus,
  toStatus,
  type Evaluation,
  type RolloutSpec,
  type RolloutState,
} from '../core/rollout/rollout';
import type { DurableRollout, ConfigMapTruth } from './configMapTruth';
import { StaleRolloutError } from './configMapTruth';
import type { Logger, RouterCore } from './core';
import { HttpError } from './http';
import type { Leadership } from './leadership';

export interface Active {
  state: RolloutState;
  spec: RolloutSpec;
}

/** The answer of a replica that does not lead: 503, naming the leader to send the action to. */
export function notLeading(leadership: Leadership): HttpError {
  const leader = leadership.leader();
  return new HttpError(
    503,
    leader
      ? `this replica (${leadership.self}) does not run the rollout controller: ${leader} leads the replicas — send the action to ${leader} (e.g. kubectl port-forward pod/${leader}), or retry: the Service picks a replica per connection`
      : `no replica leads the rollouts right now (the lease is changing hands) — retry in a few seconds`,
    { 'retry-after': '2' },
    { leader: leader ?? null },
  );
}

const writeId = (d: DurableRollout | undefined): string | undefined => d && `${d.leader}@${d.ts}`;

export class RolloutHandover {
  /** Whether this leader has read the durable rollouts since it became the leader. */
  private adopted = false;
  /** Experiment → the id of the stored rollout this leader last wrote or read. */
  private readonly seen = new Map<string, string | undefined>();

  constructor(
    private readonly core: RouterCore,
    private readonly logger: Logger,
    private readonly active: Map<string, Active>,
    private readonly truth: ConfigMapTruth | undefined,
  ) {
    core.leadership.onChange(() => (this.adopted = false));
  }

  /** Before leading: takes the rollouts over from the ConfigMap (once per term). */
  async lead(): Promise<void> {
    if (this.adopted) return;
    if (this.truth) {
      const stored = await this.truth.readRollouts();
      // Once the ConfigMap holds the rollouts it is the truth: a rollout this replica replayed or
      // ran but the ConfigMap no longer has (a new run removed it) is dropped. A ConfigMap that
      // never held one (a stack from before) leaves the replayed rollouts as they are.
      if (stored) {
        for (const name of [...this.active.keys()]) if (!(name in stored)) this.active.delete(name);
        for (const name of [...this.seen.keys()]) if (!(name in stored)) this.seen.delete(name);
      }
      for (const [name, d] of Object.entries(stored ?? {})) {
        if (!this.core.experimentByName(name)) continue;
        const state = fromStatus(name, d.status);
        this.active.set(name, { state, spec: d.spec });
        this.seen.set(name, writeId(d));
        if (state.phase === 'Progressing' || state.phase === 'Paused')
          this.logger.info(
            `rollout ${name}: resuming as the leader at step ${state.stepIndex + 1} of ${d.spec.steps.length} (${d.spec.steps[state.stepIndex]}%, ${state.phase.toLowerCase()}), as written by ${d.leader}`,
          );
      }
    }
    this.adopted = true;
  }

  /** A follower's tick: it takes the state over again when it next leads. */
  follow(): void {
    this.adopted = false;
  }

  /** On a follower: the rollout as the leader last wrote it. */
  observed(name: string): RolloutState | undefined {
    const d = this.truth?.observedRollouts()[name];
    return d ? fromStatus(name, d.status) : this.active.get(name)?.state;
  }

  /** Makes a transition durable: in the ConfigMap with its weights, while this replica leads. */
  async persist(name: string, e: Evaluation, spec: RolloutSpec): Promise<void> {
    if (!this.truth) return;
    const { leadership } = this.core;
    const durable: DurableRollout = {
      status: toStatus(e.state, spec),
      spec,
      leader: leadership.self,
      ts: Date.now(),
    };
    const expected = this.seen.get(name);
    let written: boolean;
    try {
      written = await this.truth.write({
        experiment: name,
        ...(e.weights ? { weights: e.weights } : {}),
        rollout: durable,
        mayWrite: () => {
          if (!leadership.isLeader()) throw notLeading(leadership);
        },
        expect: (stored) => {
          if (writeId(stored) !== expected)
            throw new StaleRolloutError(
              `the rollout of ${name} changed in the ConfigMap meanwhile (written by ${stored?.leader ?? 'a user'}); this replica reads it again`,
            );
        },
      });
    } catch (err) {
      if (err instanceof StaleRolloutError) {
        this.adopted = false;
        throw new HttpError(409, err.message);
      }
      throw err;
    }
    // A sole router that may not write keeps its rollouts in memory and its log, as before.
    if (written) this.seen.set(name, writeId(durable));
  }

  /**
   * A new run starts without a rollout: removes the stored one too, unless a newer one was
   * written meanwhile (a rollout started in the new run).
   */
  forget(name: string): void {
    if (!this.truth) return;
    let id: string | undefined;
    try {
      id = writeId(this.truth.observedRollouts()[name]);
    } catch {
      return; // an unreadable state key: the next leader says so, with the fix
    }
    if (id === undefined) return;
    this.truth
      .write({
        experiment: name,
        rollout: null,
        expect: (stored) => {
          if (writeId(stored) !== id) throw new StaleRolloutError('a newer rollout was written');
        },
      })
      .then(() => this.seen.set(name, undefined))
      .catch((err: unknown) => {
        if (!(err instanceof StaleRolloutError))
          this.logger.warn(
            `rollout ${name}: removing its state from the ConfigMap failed: ${(err as Error).message}`,
          );
      });
  }
}
