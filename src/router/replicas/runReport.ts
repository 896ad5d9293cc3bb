/**
 * The report of an earlier run with replicas (`GET …/report?run=ID` on the leader; a follower
 * asks the leader, ./reportProxy.ts): every replica's log is read from its start, the events of
 * the experiment put in time order (./merge.ts) and fed to one fresh builder for that run, as the
 * live merge does for the current run (./aggregator.ts). So an earlier run's report counts every
 * replica's requests, not only the answering replica's. A replica that does not answer is left
 * out and listed as unreachable in the report's `replicas`.
 *
 * It reads whole logs, so a result is kept a few seconds and concurrent asks share one rebuild.
 */
import { ReportBuilder } from '../../core/analysis/reportBuilder';
import type { ExperimentEvent } from '../../shared/events';
import type { ReplicaStatus, Report } from '../../shared/report';
import type { ExperimentRuntime } from '../config';
import type { RouterCore } from '../core';
import { withCompaction } from '../retention';
import { replicasOf, type Replicas } from './index';
import { LOG_START, type LogCursor } from './logReader';
import { releaseInOrder, type StreamState } from './merge';
import { eventsOf, fetchPage, readOwnPage } from './pages';

/** How long a rebuilt report of an earlier run is served again before it is rebuilt. */
export const RUN_REPORT_CACHE_MS = 5_000;
const PAGE_EVENTS = 20_000;
/** A request is logged when answered with its arrival time: within a log, times may step back this much. */
const HOLD_MS = 1_000;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface RunStream extends StreamState {
  url: string | undefined; // undefined: this replica
  cursor: LogCursor;
  done: boolean;
  newest: number;
  lastEventAt: number | undefined;
  error: string | undefined;
}

const cache = new WeakMap<RouterCore, Map<string, { at: number; report: Promise<Report> }>>();

/**
 * The merged report of `run`, an earlier run of `name`, when this router leads replicas;
 * undefined when the answer is this router's own (no replicas, a follower, the current run, an
 * unknown run: the caller answers as a router alone does).
 */
export function mergedRunReport(
  core: RouterCore,
  name: string,
  run: string | undefined,
  now?: number,
): Promise<Report> | undefined {
  const replicas = replicasOf(core);
  if (run === undefined || !replicas?.active() || !core.leadership.isLeader()) return undefined;
  const exp = core.experimentByName(name);
  if (!exp || run === core.currentRun(name)?.id || !core.runsOf(name).some((r) => r.id === run))
    return undefined;
  const own = cache.get(core) ?? new Map<string, { at: number; report: Promise<Report> }>();
  cache.set(core, own);
  const key = `${name}\n${run}\n${now ?? ''}`;
  const hit = own.get(key);
  if (hit && Date.now() - hit.at < RUN_REPORT_CACHE_MS) return hit.report;
  const report = rebuild(replicas, exp, run, now);
  own.set(key, { at: Date.now(), report });
  report.catch(() => own.delete(key));
  for (const [k, v] of own) if (Date.now() - v.at >= RUN_REPORT_CACHE_MS) own.delete(k);
  return report;
}

async function rebuild(
  replicas: Replicas,
  exp: ExperimentRuntime,
  run: string,
  now?: number,
): Promise<Report> {
  const { core } = replicas;
  const streams: RunStream[] = [{ name: replicas.self, url: undefined } as const, ...replicas.others()].map(
    (p) => ({
      name: p.name,
      url: p.url,
      cursor: LOG_START,
      buffer: [],
      head: 0,
      watermark: -Infinity,
      reachable: true,
      done: false,
      newest: -Infinity,
      lastEventAt: undefined,
      error: undefined,
    }),
  );
  const builder = new ReportBuilder(exp.experiment, { run, reference: exp.reference });
  let lastWeights = '';
  const feed = (e: ExperimentEvent, from: StreamState): void => {
    const s = from as RunStream;
    s.lastEventAt = Math.max(s.lastEventAt ?? -Infinity, e.ts);
    if (e.type === 'weights') {
      // Every replica logs the same weight change (they all watch the ConfigMap): keep one.
      const key = JSON.stringify(e.weights);
      if (key === lastWeights) return;
      lastWeights = key;
    }
    builder.ingest(e);
  };
  for (;;) {
    // Each stream with nothing left to release reads its next page.
    await Promise.all(
      streams.filter((s) => !s.done && s.head >= s.buffer.length).map((s) => pull(replicas, s, exp.name)),
    );
    releaseInOrder(streams, feed);
    if (streams.every((s) => s.done && s.head >= s.buffer.length)) break;
    await nextTurn();
  }
  const statuses: ReplicaStatus[] = streams
    .map((s) => ({
      name: s.name,
      reachable: s.reachable,
      ...(s.lastEventAt !== undefined ? { lastEventAt: s.lastEventAt } : {}),
      lag: 0,
      ...(s.error ? { error: s.error } : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { ...withCompaction(builder.report(now), core.settings.dataDir), replicas: statuses };
}

async function pull(replicas: Replicas, s: RunStream, name: string): Promise<void> {
  try {
    const page =
      s.url === undefined
        ? readOwnPage(replicas.core, s.cursor, PAGE_EVENTS)
        : await fetchPage(replicas.core, replicas.agent, s.url, s.cursor, PAGE_EVENTS);
    const events: ExperimentEvent[] = [];
    eventsOf(page, events);
    for (const e of events) {
      s.newest = Math.max(s.newest, e.ts);
      if (e.experiment === name) s.buffer.push(e);
    }
    s.cursor = page.next;
    s.done = !page.more;
    // Caught up: everything it holds is read. Else: nothing earlier than its newest less the hold is left.
    s.watermark = s.done ? Infinity : s.newest - HOLD_MS;
  } catch (err) {
    s.reachable = false;
    s.done = true;
    s.error = (err as Error).message;
    replicas.logger.warn(
      `replica ${s.name}: its events cannot be read (${s.error}); the report of an earlier run leaves them out`,
    );
  }
}
