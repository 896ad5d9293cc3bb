/**
 * The merged report's cost (#18): the leader reads every replica's log after its cursor,
 * parses the lines, puts them in time order and feeds one report builder
 * (src/router/replicas/aggregator.ts). Measured with the aggregator's own parts — readAfter,
 * checkLine, releaseInOrder, ReportBuilder — on real log files of 10^6 events per replica (a
 * request and feedback for 60% of them, like bench/report.ts; STICKY=1 adds sticky users that span
 * replicas, which the unit tracker makes several times slower), for 3 and 10 replicas,
 * beside the single-replica report time in the same run: one router's builder over one replica's
 * 10^6 events. Prints figures; asserts nothing.  node --import tsx bench/replicaMerge.ts
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportBuilder } from '../src/core/analysis/reportBuilder';
import { checkLine } from '../src/core/log/eventSchema';
import { parseExperiment } from '../src/core/spec/experiment';
import { seededRandom } from '../src/core/stats/random';
import { LOG_START, readAfter, type LogCursor } from '../src/router/replicas/logReader';
import { releaseInOrder, type StreamState } from '../src/router/replicas/merge';
import type { ExperimentEvent } from '../src/shared/events';

const PER_REPLICA = Number(process.env.EVENTS ?? 1_000_000);
const SIZES = (process.env.REPLICAS ?? '3,10').split(',').map(Number);
const PAGE = 20_000; // the aggregator's page
const STICKY = process.env.STICKY === '1';
const experiment = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: bench }
spec:
  endpoint: bench
${STICKY ? '  routing: { sticky: { header: x-user-id } }\n' : ''}  variants:
    - { name: v1, model: m1, role: baseline, weight: 95 }
    - { name: v2, model: m2, weight: 5 }
  metrics:
    primary: { name: conversion, kind: proportion }
    guardrails: { latencyP95Ms: { max: 50 }, errorRate: { max: 0.01 } }
`,
  'bench.yaml',
);

const dir = mkdtempSync(join(tmpdir(), 'mc-merge-'));
const T0 = 1_764_000_000_000;

/** Replica k of `of`: its share of a round-robin stream, written as its log would hold it. */
function writeReplicaLog(k: number, of: number): string {
  const d = join(dir, `${of}-${k}`);
  const file = join(d, 'events-00000001.jsonl');
  mkdirSync(d, { recursive: true });
  const fd = openSync(file, 'w');
  const random = seededRandom(1000 + k);
  let lines: string[] = [];
  let written = 0;
  for (let i = 0; written < PER_REPLICA; i++) {
    const ts = T0 + (i * of + k) * 2;
    const user = ((i * of + k) * 7919) % 400_000;
    const userHash = user.toString(16).padStart(16, '0');
    const variant = STICKY ? ((user * 2654435761) % 100 < 95 ? 'v1' : 'v2') : random() < 0.95 ? 'v1' : 'v2';
    const id = `r${k}~${String(i).padStart(36, '0')}`;
    const request: ExperimentEvent = {
      type: 'request',
      id,
      ts,
      experiment: 'bench',
      variant,
      latencyMs: 2 + 20 * random() ** 3,
      status: random() < 0.002 ? 502 : 200,
      ...(STICKY ? { assignment: 'sticky' as const, user: userHash } : {}),
    };
    lines.push(JSON.stringify(request));
    written++;
    if (written < PER_REPLICA && random() < 0.6) {
      const fb: ExperimentEvent = {
        type: 'feedback',
        id,
        ts: ts + 1,
        experiment: 'bench',
        metric: 'conversion',
        value: random() < 0.1 ? 1 : 0,
        variant,
      };
      lines.push(JSON.stringify(fb));
      written++;
    }
    if (lines.length >= 50_000) {
      writeSync(fd, lines.join('\n') + '\n');
      lines = [];
    }
  }
  if (lines.length) writeSync(fd, lines.join('\n') + '\n');
  closeSync(fd);
  return file;
}

interface BenchStream extends StreamState {
  file: string;
  cursor: LogCursor;
  done: boolean;
}

/** The aggregator's rounds over `files` until every event is fed: ms, events fed. */
function merge(files: string[]): { ms: number; fed: number } {
  const t0 = performance.now();
  const builder = new ReportBuilder(experiment);
  const streams: BenchStream[] = files.map((file, k) => ({
    name: `r${k}`,
    file,
    cursor: LOG_START,
    buffer: [],
    head: 0,
    watermark: -Infinity,
    reachable: true,
    done: false,
  }));
  let fed = 0;
  while (streams.some((s) => !s.done || s.head < s.buffer.length)) {
    for (const s of streams) {
      if (s.done) continue;
      const page = readAfter(
        { segmentFiles: () => [{ segment: 1, file: s.file }] },
        s.cursor,
        PAGE,
        16 << 20,
      );
      for (const line of page.lines.toString('utf8').split('\n')) {
        if (line === '') continue;
        const c = checkLine(line);
        if (c.ok) s.buffer.push(c.event);
      }
      s.cursor = page.next;
      if (!page.more) {
        s.done = true;
        s.watermark = Infinity; // caught up with a log nobody writes to any more
      }
    }
    fed += releaseInOrder(streams, (e) => builder.ingest(e));
  }
  const r = builder.report(T0 + PER_REPLICA * 100);
  if (r.variants.length !== 2) throw new Error('unexpected report');
  return { ms: performance.now() - t0, fed };
}

/** One router: its builder over one replica's events, already parsed (what the report costs it). */
function single(file: string): number {
  const events: ExperimentEvent[] = [];
  const page = readAfter({ segmentFiles: () => [{ segment: 1, file }] }, LOG_START, Infinity, Infinity);
  for (const line of page.lines.toString('utf8').split('\n')) {
    const c = line && checkLine(line);
    if (c && c.ok) events.push(c.event);
  }
  const t0 = performance.now();
  const b = new ReportBuilder(experiment);
  for (const e of events) b.ingest(e);
  b.report(T0 + PER_REPLICA * 100);
  return performance.now() - t0;
}

try {
  console.log(
    `${PER_REPLICA.toLocaleString('en-US')} events per replica (requests, feedback for 60%${STICKY ? ', sticky users across replicas' : ''})`,
  );
  const one = writeReplicaLog(0, 1);
  const alone = single(one);
  const oneMerged = merge([one]);
  console.log(
    `single replica: report builder over its events ${alone.toFixed(0)} ms (${Math.round((PER_REPLICA / alone) * 1000).toLocaleString('en-US')} events/s); through the merge path (read + parse + order + build) ${oneMerged.ms.toFixed(0)} ms`,
  );
  for (const n of SIZES) {
    const files = Array.from({ length: n }, (_, k) => writeReplicaLog(k, n));
    const m = merge(files);
    if (m.fed !== n * PER_REPLICA) throw new Error(`fed ${m.fed}, expected ${n * PER_REPLICA}`);
    const rate = (m.fed / m.ms) * 1000;
    console.log(
      `${n} replicas: merged report over ${m.fed.toLocaleString('en-US')} events in ${(m.ms / 1000).toFixed(1)} s — ${Math.round(rate).toLocaleString('en-US')} events/s, ${(m.ms / n / oneMerged.ms).toFixed(2)}× the single replica's merge-path time per replica; ${(m.ms / alone).toFixed(1)}× its report time`,
    );
    for (const f of files) rmSync(join(f, '..'), { recursive: true, force: true });
  }
  const heap = process.memoryUsage();
  console.log(`peak RSS ${(heap.rss / 1e6).toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
