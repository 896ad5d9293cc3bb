/**
 * The router's state: experiments, the event log, the report builders fed from it, the request
 * index, metrics, upstream pools and the shadow. Every event goes through `record`, which appends
 * it to the log and folds it into the aggregates in the same order, so replaying the log on the
 * next start rebuilds exactly the aggregates this process had for every event it wrote.
 */
import { ReportBuilder } from '../core/analysis/reportBuilder';
import type {
  AlertEvent,
  ExperimentEvent,
  FeedbackEvent,
  RolloutEvent,
  RunEvent,
  WeightsEvent,
} from '../shared/events';
import type { Report, RunInfo } from '../shared/report';
import type { ExperimentRuntime, RouterSettings } from './config';
import { DetectorFeeds } from './detectors';
import { EventLog, type ReplayStats } from './eventLog';
import { CheckpointWriter, ReplayMemory, restoreCheckpoint, startStats, type Capture } from './checkpoints';
import { sameVariants, sameWeights } from './sameWeights';
import { withCompaction } from './retention';
import { logHealthOf, withLogHealth, type LogHealth } from './quarantine';
import { clearWriter, markWriter } from './writerMark';
import { RouterMetrics } from './metrics';
import { Upstreams } from './proxy';
import { RequestIndex } from './requestIndex';
import { soleLeadership, type Leadership } from './leadership';
import type { MergedReports } from './mergedReports';
import { ShadowMirror } from './shadow';
import { newRunId } from './runsTruth';

export type WeightsSource = 'api' | 'config' | 'kubernetes' | 'rollout';
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

const REPORT_CACHE_MS = 1_000; // scrapes and dashboards poll often; a second old is fresh enough

export class RouterCore {
  readonly metrics: RouterMetrics;
  readonly upstreams: Upstreams;
  readonly shadow: ShadowMirror;
  index: RequestIndex;
  /** Bring-your-own detectors, fed the recorded features of live requests (./detectors.ts). */
  readonly detectors: DetectorFeeds;
  readonly log: EventLog;
  readonly replay: ReplayStats;
  leadership: Leadership = soleLeadership(); // who leads the replicas (./leadership.ts)
  merged: MergedReports | undefined; // the replicas' merged reports, with peers (./replicas/)
  private byName = new Map<string, ExperimentRuntime>();
  private byEndpoint = new Map<string, ExperimentRuntime>();
  private readonly builders = new Map<string, ReportBuilder>();
  private reportCache: { at: number; reports: Report[] } | undefined;
  private closed = false;
  /** The latest rollout event of each experiment's current run found by replay, for the rollout controller. */
  readonly replayedRollouts = new Map<string, RolloutEvent>();
  /** The alert deliveries found by replay, oldest first, for the alert delivery's ledger. */
  readonly replayedAlerts: AlertEvent[] = [];
  /** Each experiment's runs, oldest first (the last is the current one). */
  private runs = new Map<string, RunInfo[]>();
  /** Last weights, rollouts and alerts of the log, and the checkpoints of it all (./checkpoints.ts). */
  private memory = new ReplayMemory();
  readonly checkpoints: CheckpointWriter;

  private constructor(
    public settings: RouterSettings,
    private readonly logger: Logger,
    startSource: WeightsSource,
  ) {
    this.metrics = new RouterMetrics(
      () => this.cachedReports(),
      (name) => {
        const primary = this.byName.get(name)?.experiment.spec.metrics.primary.name;
        return primary ? [primary] : [];
      },
    );
    this.upstreams = new Upstreams(settings.timeouts, settings.limits.connectionsPerUpstream);
    this.shadow = new ShadowMirror(this.upstreams, this.metrics, (e) => this.record(e));
    this.detectors = new DetectorFeeds((e) => this.record(e), { warn: (m) => logger.warn(m) });
    this.detectors.configure(settings.experiments);
    for (const exp of settings.experiments) {
      this.builders.set(exp.name, this.newBuilder(exp));
    }
    this.index = this.newIndex();
    const fresh = { builder: this.newBuilder.bind(this), index: this.newIndex.bind(this) };
    const resumed = restoreCheckpoint(settings, fresh, logger.warn);
    if (resumed)
      ({ builders: this.builders, runs: this.runs, index: this.index, memory: this.memory } = resumed.state);
    this.checkpoints = new CheckpointWriter((): Capture => {
      const state = { builders: this.builders, runs: this.runs, index: this.index, memory: this.memory };
      return { settings: this.settings, quarantined: this.replay.quarantined, state };
    }, logger);
    const opened = EventLog.open(
      settings.dataDir,
      {
        segmentBytes: settings.eventLog.segmentBytes,
        fsyncIntervalMs: settings.eventLog.fsyncIntervalMs,
        onWritten: (segment, ids) => this.index.written(segment, ids),
        onRotated: (closed, pending) => this.checkpoints.rotated(closed, pending),
        warn: (m) => logger.warn(m),
      },
      (event, segment) => {
        // Outcomes for a request the log does not hold (its line lost or quarantined) would
        // count successes without a trial; replay quarantines them (./eventLog.ts).
        if ((event.type === 'feedback' || event.type === 'label') && !this.index.mayHold(event.id))
          throw new Error(`${event.type} for request ${event.id}, which the log does not hold`);
        if (event.type === 'run') this.onRun(event);
        this.builders.get(event.experiment)?.ingest(event);
        this.memory.observe(event);
        if (event.type === 'request' && !event.shadow) {
          this.index.remember(event.id, event.experiment, event.variant, event.run);
          this.index.writtenOne(segment, event.id);
        }
      },
      resumed?.position,
    );
    this.log = opened.log;
    const rebuild = (exp: ExperimentRuntime): unknown => this.builders.set(exp.name, this.rebuild(exp));
    this.replay = startStats(opened.stats, resumed, rebuild); // experiments changed since: from the log
    if (opened.stats.segments > 1) this.checkpoints.capture(opened.end, []); // the next start need not replay them
    this.memory.handOver(this.replayedRollouts, this.replayedAlerts);
    markWriter(settings.dataDir);
    for (const exp of settings.experiments) {
      const last = this.memory.lastWeights.get(exp.name)?.weights;
      const lastConfig = this.memory.lastConfigWeights.get(exp.name)?.weights;
      // An API change survives a restart as long as the config's own weights did not change since.
      if (last && lastConfig && sameWeights(lastConfig, exp.configuredWeights) && sameVariants(last, exp)) {
        exp.setWeights(last);
      } else if (!last || !sameWeights(last, exp.weights)) {
        // Durable before the router answers anything: `open` awaits the flush.
        void this.recordWeights(exp, startSource, 'weights at start').catch(() => undefined);
      }
      this.metrics.weights(exp.name, { ...exp.weights });
    }
    this.reindex(settings.experiments);
  }

  /** Opens the data directory (replaying the log) and builds the state for `settings`. */
  static async open(
    settings: RouterSettings,
    logger: Logger,
    source: WeightsSource = 'config',
  ): Promise<RouterCore> {
    const core = new RouterCore(settings, logger, source);
    await core.log.flush();
    return core;
  }

  private reindex(experiments: readonly ExperimentRuntime[]): void {
    this.byName = new Map(experiments.map((e) => [e.name, e]));
    this.byEndpoint = new Map(experiments.map((e) => [e.endpoint, e]));
  }

  experimentByEndpoint = (endpoint: string): ExperimentRuntime | undefined => this.byEndpoint.get(endpoint);
  experimentByName = (name: string): ExperimentRuntime | undefined => this.byName.get(name);

  get experiments(): ExperimentRuntime[] {
    return [...this.byName.values()];
  }

  /** Appends an event to the log and folds it into the aggregates; a request is tagged with the current run. */
  record(event: ExperimentEvent): void {
    if (this.closed) return;
    if (event.type === 'request' && event.run === undefined) {
      const run = this.currentRun(event.experiment);
      if (run) event.run = run.id;
    }
    this.log.append(event);
    if (event.type === 'run') this.onRun(event);
    this.builders.get(event.experiment)?.ingest(event);
    this.memory.observe(event);
    if (event.type !== 'request') return;
    if (!event.shadow) this.index.remember(event.id, event.experiment, event.variant, event.run);
    this.detectors.observe(event);
  }

  /** The run an experiment is in now (undefined before its first run). */
  currentRun(name: string): RunInfo | undefined {
    return this.runs.get(name)?.at(-1);
  }

  /** An experiment's runs, oldest first. */
  runsOf(name: string): RunInfo[] {
    return [...(this.runs.get(name) ?? [])];
  }

  /**
   * Starts a new run of an experiment (a deploy, a demo's reset): durable before it answers.
   * From then on the report, the SRM, drift and the rollout gates cover the new run only. `run`:
   * one started elsewhere, with its id and start (from the ConfigMap, ./runsTruth.ts).
   */
  async startRun(exp: ExperimentRuntime, reason: string, run?: RunInfo): Promise<RunInfo> {
    const ts = run?.startedAt ?? Date.now();
    const event: RunEvent = {
      type: 'run',
      ts,
      experiment: exp.name,
      run: run?.id ?? newRunId(ts),
      reason,
      weights: { ...exp.weights },
    };
    await this.recordDurable([event]);
    return this.currentRun(exp.name)!;
  }

  /** A run starts: its own report builder, no rollout carried over (once per run id). */
  private onRun(event: RunEvent): void {
    const list = this.runs.get(event.experiment) ?? [];
    if (list.some((r) => r.id === event.run)) return; // recorded once; a second line changes nothing
    list.push({ id: event.run, startedAt: event.ts, ...(event.reason ? { reason: event.reason } : {}) });
    this.runs.set(event.experiment, list);
    this.replayedRollouts.delete(event.experiment);
    const exp = this.settings.experiments.find((e) => e.name === event.experiment);
    if (exp) this.builders.set(exp.name, this.newBuilder(exp, event.run));
    this.reportCache = undefined;
  }

  /** Records events and resolves once they are fsynced. */
  recordDurable(events: readonly ExperimentEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the router is shutting down'));
    for (const e of events) this.record(e);
    return this.log.flush();
  }

  /** Records feedback (resolves once durable) and counts it. */
  async recordFeedback(events: FeedbackEvent[]): Promise<void> {
    await this.recordDurable(events);
    for (const e of events) this.metrics.feedbackAccepted(e.experiment, e.variant ?? '', e.metric);
  }

  /** Applies new weights (all variants) and records the change durably. */
  async setWeights(
    exp: ExperimentRuntime,
    weights: Record<string, number>,
    source: WeightsSource,
    reason?: string,
  ): Promise<void> {
    exp.setWeights(weights);
    this.metrics.weights(exp.name, { ...exp.weights });
    await this.recordWeights(exp, source, reason);
  }

  private recordWeights(exp: ExperimentRuntime, source: WeightsSource, reason?: string): Promise<void> {
    const event: WeightsEvent = {
      type: 'weights',
      ts: Date.now(),
      experiment: exp.name,
      weights: { ...exp.weights },
      source,
      ...(reason ? { reason } : {}),
    };
    return this.recordDurable([event]);
  }

  /**
   * Switches to reloaded settings: weights follow the new config only where its weights (or
   * variants) changed, so an API change is not undone by an unrelated edit; a report whose
   * variants or settings changed is rebuilt from the log.
   */
  async applySettings(next: RouterSettings, source: WeightsSource): Promise<string[]> {
    const notes: string[] = [];
    const prev = this.settings;
    for (const key of ['host', 'port', 'dataDir', 'front'] as const) {
      if (prev[key] !== next[key]) notes.push(`${key} changed; it applies after a restart`);
    }
    for (const key of ['timeouts', 'limits', 'eventLog', 'grpc'] as const) {
      if (JSON.stringify(prev[key]) !== JSON.stringify(next[key]))
        notes.push(`${key} changed; it applies after a restart`);
    }
    const changedWeights: ExperimentRuntime[] = [];
    for (const exp of next.experiments) {
      const old = this.byName.get(exp.name);
      if (old) {
        const sameLayout = sameVariants(old.weights, exp);
        if (sameLayout && sameWeights(old.configuredWeights, exp.configuredWeights))
          exp.setWeights({ ...old.weights });
        for (const v of exp.variants) {
          const was = old.variants[old.byName.get(v.name) ?? -1];
          if (was && was.model === v.model && was.url === v.url) {
            v.defaultOutputs = was.defaultOutputs;
            v.augmentable = was.augmentable;
          }
        }
        if (!sameWeights(old.weights, exp.weights)) changedWeights.push(exp);
        if (!exp.sameShapeAs(old)) {
          this.builders.set(exp.name, this.rebuild(exp));
          notes.push(`${exp.name}: variants or report settings changed; its report was rebuilt from the log`);
        }
      } else {
        this.builders.set(exp.name, this.rebuild(exp));
        changedWeights.push(exp);
        notes.push(`${exp.name}: new experiment on /v2/models/${exp.endpoint}/infer`);
      }
    }
    for (const old of this.byName.values()) {
      if (!next.experiments.some((e) => e.name === old.name)) {
        this.builders.delete(old.name);
        this.metrics.weights(old.name, undefined);
        notes.push(`${old.name}: removed`);
      }
    }
    this.settings = next;
    this.reindex(next.experiments);
    this.detectors.configure(next.experiments);
    this.reportCache = undefined;
    for (const exp of next.experiments) this.metrics.weights(exp.name, { ...exp.weights });
    await Promise.all(changedWeights.map((exp) => this.recordWeights(exp, source)));
    for (const exp of changedWeights) notes.push(`${exp.name}: weights ${JSON.stringify(exp.weights)}`);
    return notes;
  }

  /** The request index (its callbacks are used only after construction, once `this.log` exists). */
  private newIndex(): RequestIndex {
    const { idCacheSize, segmentBytes } = this.settings.eventLog;
    const log = { segmentFiles: () => this.log.segmentFiles(), flush: () => this.log.flush() };
    return new RequestIndex(idCacheSize, segmentBytes, log.segmentFiles, log.flush);
  }

  /** A report builder remembering as many request ids as the router's index keeps in memory. */
  private newBuilder(exp: ExperimentRuntime, run = this.currentRun(exp.name)?.id): ReportBuilder {
    return new ReportBuilder(exp.experiment, {
      run,
      reference: exp.reference,
      idMemory: Math.max(1, Math.floor(this.settings.eventLog.idCacheSize / 2)),
      // The router's own index knows every recent id: no second map of a million ids.
      variantOf: (id) => {
        const hit = this.index.recent(id);
        return hit?.experiment === exp.name && hit.run === run ? hit.variant : undefined;
      },
    });
  }

  private rebuild(exp: ExperimentRuntime, run?: string): ReportBuilder {
    const builder = this.newBuilder(exp, run);
    // As at replay: outcomes for a request the log does not hold are left out.
    this.log.snapshot((e) => {
      if ((e.type === 'feedback' || e.type === 'label') && !this.index.mayHold(e.id)) return;
      builder.ingest(e);
    });
    return builder;
  }

  /**
   * The live report of an experiment's current run, or of an earlier run (`run`, rebuilt from the
   * log: it reads every segment). Undefined for an unknown experiment or run. With replicas, the
   * leader's current report is the merged one, unless `local` asks for this replica's own.
   */
  report(name: string, now?: number, run?: string, local = false): Report | undefined {
    const current = this.currentRun(name)?.id;
    const merged =
      local || (run !== undefined && run !== current) ? undefined : this.merged?.report(name, now);
    if (merged) return this.withLogHealth(merged);
    if (run === undefined || run === current) return this.withLogHealth(this.builders.get(name)?.report(now));
    const exp = this.byName.get(name);
    if (!exp || !this.runs.get(name)?.some((r) => r.id === run)) return undefined;
    return this.withLogHealth(withCompaction(this.rebuild(exp, run).report(now), this.settings.dataDir));
  }

  /** The quarantined lines of the log, when replay found any (src/router/quarantine.ts). */
  get logHealth(): LogHealth | undefined {
    return logHealthOf(this.replay.quarantined, this.settings.dataDir);
  }

  private withLogHealth(report: Report | undefined): Report | undefined {
    return withLogHealth(report, this.logHealth);
  }

  /** Every experiment's current report, at most a second old (shared by /metrics and alerts). */
  cachedReports(): Report[] {
    const merged = this.merged?.cachedReports(); // a follower's are on the leader
    if (merged) return merged;
    const now = Date.now();
    if (!this.reportCache || now - this.reportCache.at > REPORT_CACHE_MS) {
      const reports: Report[] = [];
      for (const [name, builder] of this.builders) {
        try {
          reports.push(builder.report(now));
        } catch (err) {
          this.logger.warn(`report of ${name} failed: ${(err as Error).message}`);
        }
      }
      this.reportCache = { at: now, reports };
    }
    return this.reportCache.reports;
  }

  /** Flushes and fsyncs the log and closes the upstream pools. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.detectors.close();
    await this.log.close();
    await this.checkpoints.settled();
    clearWriter(this.settings.dataDir);
    this.closed = true;
    await this.upstreams.close();
  }
}
