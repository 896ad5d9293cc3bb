/**
 * The merged report, built on the leader: every ~250 ms it pulls the events each replica logged
 * since its cursor (itself from its own log, the others over `GET /admin/events`), puts them in
 * time order (./merge.ts) and feeds one ReportBuilder per experiment. One builder sees every
 * event once, so the report is what a single router fed the whole stream would report.
 *
 * A follower builds nothing (its report requests go to the leader, ./reportProxy.ts). When
 * this replica becomes the leader it starts from the start of every log; when the experiment's
 * variants, report settings or run change, too. The cost: the aggregation rate measured by
 * bench/replicaMerge.ts, far above what the replicas can serve.
 */
import type { Agent } from 'undici';
import { ReportBuilder } from '../../core/analysis/reportBuilder';
import type { ExperimentEvent } from '../../shared/events';
import type { ReplicaStatus, Report } from '../../shared/report';
import type { ExperimentRuntime } from '../config';
import type { Logger, RouterCore } from '../core';
import type { MergedReports } from '../mergedReports';
import { LOG_START, type LogCursor } from './logReader';
import { releaseInOrder, type StreamState } from './merge';
import { LogReplaced, eventsOf, fetchPage, readOwnPage, type EventPage } from './pages';
import type { Peer, Peers } from './peers';

export interface AggregatorOptions {
  intervalMs?: number;
  /** How long a request may be in flight on a replica before its event may come out of order. */
  holdMs?: number;
  /** Events per pull, and pulls per replica per round. */
  pageEvents?: number;
  pagesPerRound?: number;
}

interface Stream extends StreamState {
  url: string | undefined; // undefined: this replica (read from its own log)
  cursor: LogCursor;
  lastEventAt: number | undefined;
  caughtUpAt: number;
  error: string | undefined;
}

interface Merged {
  exp: ExperimentRuntime;
  run: string | undefined;
  builder: ReportBuilder;
  lastWeights: string;
}

const REPORT_CACHE_MS = 1_000;
/** Events parsed or fed in one go before the event loop serves requests again. */
const SLICE = 20_000;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Aggregator implements MergedReports {
  private streams = new Map<string, Stream>();
  private merged = new Map<string, Merged>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = Date.now();
  private cache: { at: number; reports: Report[] } | undefined;
  private readonly opts: Required<AggregatorOptions>;
  private resetPending = false;
  /**
   * The newest run of each experiment found in any replica's log. Runs start on the replica a
   * deploy reached; a replica added later, or a leader that never received the run, would
   * otherwise report an older run. Kept across starts from scratch.
   */
  private readonly streamRuns = new Map<string, { run: string; ts: number }>();
  /** Events fed to the builders since the last start from scratch. */
  fed = 0;

  constructor(
    private readonly core: RouterCore,
    private readonly peers: Peers,
    private readonly agent: Agent,
    private readonly logger: Logger,
    opts: AggregatorOptions = {},
  ) {
    this.opts = { intervalMs: 250, holdMs: 1_000, pageEvents: 20_000, pagesPerRound: 10, ...opts };
  }

  /** Whether there is more than this replica to merge. */
  active(): boolean {
    return this.peers.list().some((p) => p.name !== this.core.leadership.self);
  }

  private leading(): boolean {
    return this.active() && this.core.leadership.isLeader();
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.round().finally(() => (this.running = undefined));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * The merged report as far as the merge has come. The events go in in time order, so while it
   * catches up this is the report as of an earlier moment, never this replica's share alone:
   * before the first round (or right after a change of run) it is the empty report.
   */
  report(name: string, now?: number): Report | undefined {
    if (!this.leading()) return undefined;
    const exp = this.core.experimentByName(name);
    if (!exp) return undefined;
    const run = this.runOf(name);
    const m = this.merged.get(name);
    const builder =
      m && m.run === run ? m.builder : new ReportBuilder(exp.experiment, { run, reference: exp.reference });
    return { ...builder.report(now), replicas: this.statuses() };
  }

  cachedReports(): Report[] | undefined {
    if (!this.active()) return undefined;
    if (!this.core.leadership.isLeader()) return [];
    const now = Date.now();
    if (!this.cache || now - this.cache.at > REPORT_CACHE_MS) {
      const reports: Report[] = [];
      for (const name of this.merged.keys()) {
        try {
          const r = this.report(name, now);
          if (r) reports.push(r);
        } catch (err) {
          this.logger.warn(`merged report of ${name} failed: ${(err as Error).message}`);
        }
      }
      this.cache = { at: now, reports };
    }
    return this.cache.reports;
  }

  /** What the report says about each replica. */
  statuses(): ReplicaStatus[] {
    const now = Date.now();
    return [...this.streams.values()]
      .map((s) => ({
        name: s.name,
        reachable: s.reachable,
        ...(s.lastEventAt !== undefined ? { lastEventAt: s.lastEventAt } : {}),
        lag: Math.max(0, now - s.caughtUpAt),
        ...(s.error ? { error: s.error } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One round: follow the replicas and the experiments, pull, release in order. */
  async round(): Promise<void> {
    if (!this.leading()) {
      // A follower keeps nothing: when it leads it starts from the start of every log.
      if (this.streams.size > 0 || this.merged.size > 0) this.reset();
      return;
    }
    if (this.resetPending || this.experimentsChanged()) this.reset();
    this.followPeers();
    const streams = [...this.streams.values()];
    await Promise.all(streams.map((s) => this.pull(s)));
    // Catching up (a new leader, a replica back) feeds many events: in slices, between requests.
    while (releaseInOrder(streams, (e, from) => this.feed(e, from as Stream), SLICE) === SLICE)
      await nextTurn();
  }

  private reset(): void {
    this.resetPending = false;
    this.streams.clear();
    this.merged.clear();
    this.cache = undefined;
    this.started = Date.now();
    this.fed = 0;
    for (const exp of this.core.experiments) {
      const run = this.runOf(exp.name);
      this.merged.set(exp.name, {
        exp,
        run,
        builder: new ReportBuilder(exp.experiment, { run, reference: exp.reference }),
        lastWeights: '',
      });
    }
  }

  /** A new experiment, or one whose variants, report settings or run changed, means starting over. */
  private experimentsChanged(): boolean {
    const exps = this.core.experiments;
    if (exps.length !== this.merged.size) return true;
    for (const exp of exps) {
      const m = this.merged.get(exp.name);
      if (!m || m.run !== this.runOf(exp.name)) return true;
      if (m.exp !== exp) {
        if (!m.exp.sameShapeAs(exp)) return true;
        m.exp = exp;
      }
    }
    return false;
  }

  private followPeers(): void {
    const self = this.core.leadership.self;
    const listed = new Map<string, Peer | undefined>(this.peers.list().map((p) => [p.name, p]));
    if (!listed.has(self)) listed.set(self, undefined);
    for (const [name, peer] of listed) {
      const url = name === self ? undefined : peer!.url;
      const known = this.streams.get(name);
      if (known) {
        known.url = url; // a Pod that came back on another address keeps its log (and cursor)
        continue;
      }
      this.streams.set(name, {
        name,
        url,
        cursor: LOG_START,
        buffer: [],
        head: 0,
        watermark: -Infinity,
        reachable: false,
        lastEventAt: undefined,
        caughtUpAt: this.started,
        error: undefined,
      });
    }
    // A replica gone from the list (scaled down) stays: its log holds events of the experiment.
  }

  private async pull(s: Stream): Promise<void> {
    for (let page = 0; page < this.opts.pagesPerRound; page++) {
      let got: EventPage;
      try {
        got =
          s.url === undefined
            ? readOwnPage(this.core, s.cursor, this.opts.pageEvents)
            : await fetchPage(this.core, this.agent, s.url, s.cursor, this.opts.pageEvents);
      } catch (err) {
        if (err instanceof LogReplaced) this.resetPending = true;
        if (s.reachable || s.error === undefined)
          this.logger.warn(
            `replica ${s.name}: its events cannot be read (${(err as Error).message}); the report misses them until it answers`,
          );
        s.reachable = false;
        s.error = (err as Error).message;
        return;
      }
      if (!s.reachable && s.error !== undefined)
        this.logger.info(`replica ${s.name}: reachable again, catching up`);
      s.reachable = true;
      s.error = undefined;
      eventsOf(got, s.buffer);
      s.cursor = got.next;
      await nextTurn();
      if (!got.more) {
        s.watermark = got.clock - this.opts.holdMs;
        s.caughtUpAt = Date.now();
        return;
      }
    }
  }

  /** The run the merged report covers: the newest in any replica's log, else this replica's. */
  private runOf(name: string): string | undefined {
    const local = this.core.currentRun(name);
    const seen = this.streamRuns.get(name);
    if (!seen) return local?.id;
    return local && local.startedAt > seen.ts ? local.id : seen.run;
  }

  private feed(e: ExperimentEvent, from: Stream): void {
    from.lastEventAt = Math.max(from.lastEventAt ?? -Infinity, e.ts);
    const m = this.merged.get(e.experiment);
    if (!m) return;
    if (e.type === 'run') {
      const known = this.streamRuns.get(e.experiment);
      if (!known || e.ts > known.ts) this.streamRuns.set(e.experiment, { run: e.run, ts: e.ts });
      // A newer run than the one merged: start over on it (the next round reads every log again).
      if (e.run !== m.run && (!known || e.ts > known.ts)) this.resetPending = true;
    }
    if (e.type === 'weights') {
      // Every replica logs the same weight change (they all watch the ConfigMap): keep one.
      const key = JSON.stringify(e.weights);
      if (key === m.lastWeights) return;
      m.lastWeights = key;
    }
    m.builder.ingest(e);
    this.fed++;
  }
}
