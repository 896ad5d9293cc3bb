/**
 * Runs through the ConfigMap, as weights (./configMapTruth.ts). Run from a ConfigMap, a new run
 * (`POST …/runs`, each deploy) is written there first, under the key `runs.json` (experiment →
 * `{id, reason, startedAt}`: only the current run), by a PUT guarded by the resourceVersion it
 * read. Every replica — the one that took the POST included — records that same run (same id,
 * same start time) in its own log when it sees it, and tags its requests with it from then on;
 * so the leader's merged report of the run covers every replica's requests. A replica that
 * starts later, or comes back with its old volume, adopts the ConfigMap's run when it is newer
 * than its log's current one. Without a ConfigMap none of this exists (./runs.ts as before).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RunInfo } from '../shared/report';
import type { ExperimentRuntime } from './config';
import type { ConfigMapTruth } from './configMapTruth';
import type { Logger, RouterCore } from './core';
import { HttpError } from './http';
import { RUNS_KEY } from './kube';

/** A run as the ConfigMap keeps it (`startedAt`: epoch ms, strictly increasing per experiment across writes). */
const durableRun = z.object({
  id: z.string().regex(/^[\w.:-]{1,64}$/),
  reason: z.string().optional(),
  startedAt: z.number().finite(),
});
export type DurableRun = z.infer<typeof durableRun>;
const durableRuns = z.record(z.string(), durableRun);

/** Experiment name → its current run. */
export type DurableRuns = Record<string, DurableRun>;

/** A new run id: the start time (UTC, to the second) and a random suffix, `20261207T010203-a1b2c3`. */
export function newRunId(ts: number): string {
  const stamp = new Date(ts).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The runs of the `runs.json` value; throws, naming the fix, when it is not such an object. */
export function parseRuns(text: string | undefined): DurableRuns {
  if (text === undefined || text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RunsKeyError(`it is not JSON (${(err as Error).message})`);
  }
  const checked = durableRuns.safeParse(parsed);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0]!;
  throw new RunsKeyError(
    issue.path.length === 0
      ? 'it is not an object of experiment → run'
      : `the run of "${String(issue.path[0])}" is not {"id", "startedAt", "reason"?} (${issue.path.join('.')}: ${issue.message})`,
  );
}

export class RunsKeyError extends Error {
  constructor(why: string) {
    super(
      `the ConfigMap's key ${RUNS_KEY} cannot be read: ${why} — delete the key (the next deploy writes it again)`,
    );
  }
}

const registry = new WeakMap<RouterCore, RunsTruth>();

/** The runs truth of a router run from a ConfigMap, if it is one. */
export function runsTruthOf(core: RouterCore): RunsTruth | undefined {
  return registry.get(core);
}

export class RunsTruth {
  /** Adoptions and starts, one at a time: a run is recorded once however it arrives. */
  private queue: Promise<unknown> = Promise.resolve();
  private warned: string | undefined;

  constructor(
    private readonly core: RouterCore,
    private readonly truth: ConfigMapTruth,
    private readonly logger: Logger,
    /** A run was adopted from the ConfigMap (the rollout of the run before is over here). */
    private readonly onAdopted: (experiment: string) => void = () => undefined,
  ) {
    registry.set(core, this);
    truth.onObserve(
      () =>
        void this.sync().catch((err: unknown) => logger.warn(`adopting a run: ${(err as Error).message}`)),
    );
  }

  /**
   * Starts a run of `exp`: written to the ConfigMap first, then recorded here; the other replicas
   * record it when their watch sees it. A sole router that may not write starts it here only.
   */
  async start(exp: ExperimentRuntime, reason: string): Promise<RunInfo> {
    const id = newRunId(Date.now());
    let run: DurableRun | undefined;
    let written: boolean;
    try {
      written = await this.truth.write({
        experiment: exp.name,
        edit: (data) => {
          const runs = parseRuns(data[RUNS_KEY]);
          // Later than the run it replaces, on any clock: every replica compares start times.
          const after = Math.max(
            runs[exp.name]?.startedAt ?? 0,
            this.core.currentRun(exp.name)?.startedAt ?? 0,
          );
          run = { id, reason, startedAt: Math.max(Date.now(), after + 1) };
          runs[exp.name] = run;
          data[RUNS_KEY] = JSON.stringify(runs);
        },
      });
    } catch (err) {
      if (err instanceof HttpError) throw err; // the router may not update its ConfigMap: names the right
      if (err instanceof RunsKeyError) throw new HttpError(500, err.message);
      throw new HttpError(
        503,
        `the new run of ${exp.name} could not be written to the ConfigMap, so no replica started it (${(err as Error).message}) — retry once the API server answers`,
        { 'retry-after': '2' },
      );
    }
    if (!written || !run) return this.core.startRun(exp, reason);
    const started = run;
    await this.serially(() => this.adopt(exp, started));
    // Not recorded only when a newer run came first (two deploys at once): this one is already over.
    return this.core.runsOf(exp.name).find((r) => r.id === started.id) ?? started;
  }

  /** Adopts every run of the newest ConfigMap version seen that is newer than this log's. */
  sync(): Promise<void> {
    return this.serially(async () => {
      let runs: DurableRuns;
      try {
        runs = parseRuns(this.truth.observed?.[RUNS_KEY]);
      } catch (err) {
        const message = (err as Error).message;
        if (this.warned !== message) this.logger.warn(`${message}; runs stay as they are here`);
        this.warned = message;
        return;
      }
      this.warned = undefined;
      for (const [name, run] of Object.entries(runs)) {
        const exp = this.core.experimentByName(name);
        // An experiment this replica does not run yet: adopted after the reload that adds it.
        if (exp && (await this.adopt(exp, run)))
          this.logger.info(
            `${name}: run ${run.id} (${run.reason ?? 'api'}) from the ConfigMap; requests are tagged with it from now on`,
          );
      }
    });
  }

  /** Records `run` in this log unless it holds it or a later run; true when it did. */
  private async adopt(exp: ExperimentRuntime, run: DurableRun): Promise<boolean> {
    if (this.core.runsOf(exp.name).some((r) => r.id === run.id)) return false;
    const current = this.core.currentRun(exp.name);
    if (current && current.startedAt >= run.startedAt) return false;
    await this.core.startRun(exp, run.reason ?? 'api', run);
    this.onAdopted(exp.name);
    return true;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
