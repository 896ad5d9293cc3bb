/**
 * Checkpoints of what the router rebuilds from its event log (contract: docs/architecture.md,
 * "Checkpoints"), so a start replays only the segments written after the newest one.
 *
 * When the log closes segment N, the router captures its replayed state — every report builder
 * (src/core/analysis/checkpoint.ts), the runs, the request index (in-memory ids and the
 * segments' Bloom filters), the last weights, the rollout and the alert deliveries — at log
 * position (N + 1, bytes of the lines already appended that go first into N + 1). Capturing is
 * synchronous (the state must be the one at that position); writing is not: the text goes to
 * `checkpoint-<N>.json.tmp`, is fsynced, renamed and the directory fsynced, after the answers
 * of that turn went out. The two newest are kept.
 *
 * A start restores the newest checkpoint that fits and replays from its position. One that
 * does not fit is ignored with a warning, and the next older (or a full replay) is used: a
 * torn or unparsable file, another version, changed settings (an experiment, its reference
 * data, the id cache or segment size), a covered segment whose size changed or a segment
 * before the position that it does not know, or a position past the end of the log.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LATE_CLASSES, settingsHash, stableJson } from '../core/analysis/checkpoint';
import type { ReportBuilder } from '../core/analysis/reportBuilder';
import { encodeState, restoreState, type EncodedState } from '../core/analysis/stateCodec';
import type { RunInfo } from '../shared/report';
import type { ExperimentRuntime, RouterSettings } from './config';
import type { LogPosition, ReplayStats } from './eventLog';
import { fdatasync, fsyncDir } from './fileSync';
import { jsonChunks } from './jsonChunks';
import { BloomFilter, type RequestIndex } from './requestIndex';
import { ReplayMemory } from './replayMemory';

export { ReplayMemory } from './replayMemory';

const VERSION = 3;
const FILE = /^checkpoint-(\d{8})-(\d{12})\.json$/;
const SEGMENT = /^events-(\d{8})\.jsonl$/;
// Named by position, so the newest sorts last.
const fileName = (p: LogPosition): string =>
  `checkpoint-${String(p.segment).padStart(8, '0')}-${String(p.offset).padStart(12, '0')}.json`;
const KEEP = 2;
const WRITE_CHUNK = 1 << 20;

/** What replay builds: restored from a checkpoint, or captured into one. */
export interface RouterState {
  builders: Map<string, ReportBuilder>;
  runs: Map<string, RunInfo[]>;
  index: RequestIndex;
  memory: ReplayMemory;
}

interface CheckpointFile {
  version: number;
  settings: string;
  position: LogPosition;
  /** Segments before the position, with their sizes. */
  covers: { segment: number; size: number }[];
  /** Primary request ids of the position's first `offset` bytes (for that segment's Bloom filter). */
  pendingIds: string[];
  /** Lines quarantined by replays of the covered part. */
  quarantined: number;
  /**
   * Each experiment's report builder, on its own: the run it reports on (null: before the first
   * run), a hash of its experiment's settings, and its state.
   */
  builders: Record<string, { run: string | null; settings: string; state: EncodedState }>;
  /** The runs, the request index and the replay memory. */
  state: EncodedState;
}

/** A hash of the router settings the whole state depends on besides the log. */
export function routerSettingsHash(settings: RouterSettings): string {
  const { idCacheSize, segmentBytes } = settings.eventLog;
  return createHash('sha256')
    .update(stableJson({ v: VERSION, idCacheSize, segmentBytes }))
    .digest('hex');
}

/** A hash of what an experiment's report builder depends on besides the log (RouterCore.newBuilder). */
function experimentHash(exp: ExperimentRuntime, settings: RouterSettings): string {
  const idMemory = Math.max(1, Math.floor(settings.eventLog.idCacheSize / 2));
  return settingsHash(exp.experiment, { reference: exp.reference, idMemory, variantOf: () => undefined });
}

const constantsOf = (experiments: readonly ExperimentRuntime[]): Record<string, unknown> =>
  Object.fromEntries(
    experiments.flatMap((e) => [
      [`experiment:${e.name}`, e.experiment],
      ...(e.reference ? [[`reference:${e.name}`, e.reference]] : []),
    ]),
  );

/** Makes the fresh objects a checkpoint is restored into. */
export interface FreshState {
  builder(exp: ExperimentRuntime, run: string | undefined): ReportBuilder;
  index(): RequestIndex;
}

/**
 * The state of the newest checkpoint in `dir` that fits the log and `settings`, and the
 * position to replay from; undefined (after a warning for each one that did not fit) for a
 * full replay.
 */
export interface Restored {
  state: RouterState;
  position: LogPosition;
  quarantined: number;
  file: string;
  ms: number;
  /** Experiments new or changed since the checkpoint: their reports are rebuilt from the log. */
  stale: ExperimentRuntime[];
}

export function restoreCheckpoint(
  settings: RouterSettings,
  fresh: FreshState,
  warn: (message: string) => void,
): Restored | undefined {
  const started = performance.now();
  const dir = settings.dataDir;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => FILE.test(f)) : [];
  const hash = routerSettingsHash(settings);
  for (const name of files.sort().reverse()) {
    const file = join(dir, name);
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as CheckpointFile;
      const problem = misfit(doc, dir, hash);
      if (problem) throw new Error(problem);
      const builders = new Map<string, ReportBuilder>();
      const stale: ExperimentRuntime[] = [];
      for (const exp of settings.experiments) {
        const saved = doc.builders[exp.name];
        if (saved?.settings !== experimentHash(exp, settings)) {
          stale.push(exp);
          builders.set(exp.name, fresh.builder(exp, undefined)); // replaced by a rebuild from the log
          continue;
        }
        const builder = fresh.builder(exp, saved.run ?? undefined);
        builders.set(exp.name, restoreState(builder, saved.state, constantsOf([exp]), LATE_CLASSES));
      }
      const target = { runs: new Map(), index: fresh.index(), memory: new ReplayMemory() };
      const rest = restoreState(target, doc.state, {}, [BloomFilter]);
      rest.index.written(doc.position.segment, doc.pendingIds);
      if (stale.length > 0)
        warn(
          `${name}: ${stale.map((e) => e.name).join(', ')} new or changed since; rebuilding their reports from the log`,
        );
      const ms = performance.now() - started;
      const state = { ...rest, builders };
      return { state, position: doc.position, quarantined: doc.quarantined, file: name, ms, stale };
    } catch (err) {
      warn(`${file}: ignored (${(err as Error).message}); replaying the log from an older point`);
    }
  }
  return undefined;
}

function misfit(doc: CheckpointFile, dir: string, hash: string): string | undefined {
  if (doc.version !== VERSION) return `version ${doc.version}, this router writes ${VERSION}`;
  if (doc.settings !== hash) return 'the settings changed since it was written';
  const { segment, offset } = doc.position;
  const covered = new Map(doc.covers.map((c) => [c.segment, c.size]));
  const later: number[] = [];
  for (const f of readdirSync(dir)) {
    const n = Number(SEGMENT.exec(f)?.[1] ?? NaN);
    if (n >= segment) later.push(n);
    if (!(n < segment)) continue;
    const size = statSync(join(dir, f)).size;
    if (covered.get(n) !== size)
      return `segment ${f} is ${size} bytes, the checkpoint knew ${covered.get(n) ?? 'none'}`;
  }
  // Retention deletes only segments a newer checkpoint covers: what this one needs must all be there.
  const gap = later.sort((a, b) => a - b).findIndex((n, i) => n !== segment + i);
  if (gap >= 0)
    return `segment ${segment + gap}, which it needs, is gone (compacted after a newer checkpoint)`;
  const at = join(dir, `events-${String(segment).padStart(8, '0')}.jsonl`);
  const size = existsSync(at) ? statSync(at).size : 0;
  if (size < offset) return `it covers ${offset} bytes of segment ${segment}, which has ${size}`;
  if (offset > 0 && byteAt(at, offset - 1) !== 10)
    return `byte ${offset} of segment ${segment} is not a line's start`;
  return undefined;
}

function byteAt(file: string, at: number): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    return b[0]!;
  } finally {
    closeSync(fd);
  }
}

/** A start's figures: the replay after the checkpoint, plus the restore and the rebuild of experiments changed since, and the lines it had quarantined. */
export function startStats(
  replay: ReplayStats,
  resumed: Restored | undefined,
  rebuild: (exp: ExperimentRuntime) => unknown,
): ReplayStats {
  if (!resumed) return replay;
  const started = performance.now();
  for (const exp of resumed.stale) rebuild(exp); // timed with the start
  const ms = replay.ms + resumed.ms + (performance.now() - started);
  const quarantined = replay.quarantined + resumed.quarantined;
  return { ...replay, quarantined, ms, checkpoint: resumed.file };
}

/** What a capture reads: the settings in force, the state and the quarantined lines so far. */
export interface Capture {
  settings: RouterSettings;
  state: RouterState;
  quarantined: number;
}

/** Writes a checkpoint each time the log closes a segment, one at a time (./eventLog.ts onRotated). */
export class CheckpointWriter {
  private writing: Promise<void> | undefined;
  private hashOf: { settings: RouterSettings; hash: string; experiments: Map<string, string> } | undefined;
  written = 0;
  /** The newest checkpoint known to fit: written by this process, or restored at start (its file name). */
  durable: string | undefined;
  /** Called after each checkpoint is durable (retention runs then). */
  afterWrite: (() => void) | undefined;

  constructor(
    private readonly state: () => Capture,
    private readonly logger: { info(message: string): void; warn(message: string): void },
  ) {}

  /** Segment `closed` was closed: capture now, write after this turn (skipped while one is still being written). */
  rotated(closed: number, pending: { bytes: number; ids: readonly string[] }): void {
    this.capture({ segment: closed + 1, offset: pending.bytes }, pending.ids);
  }

  /**
   * Captures the state, which is the one at log `position` (and holds the events of the
   * position's segment before its offset, whose primary request ids are `pendingIds`).
   */
  capture(position: LogPosition, pendingIds: readonly string[]): void {
    if (this.writing) return;
    const started = performance.now();
    const { settings, state, quarantined } = this.state();
    if (this.hashOf?.settings !== settings) {
      const experiments = new Map(settings.experiments.map((e) => [e.name, experimentHash(e, settings)]));
      this.hashOf = { settings, hash: routerSettingsHash(settings), experiments };
    }
    const builders: CheckpointFile['builders'] = {};
    for (const exp of settings.experiments) {
      const builder = state.builders.get(exp.name);
      if (!builder) continue;
      // A builder reports on its experiment's current run (RouterCore.newBuilder).
      const run = state.runs.get(exp.name)?.at(-1)?.id ?? null;
      const settingsOf = this.hashOf.experiments.get(exp.name)!;
      builders[exp.name] = { run, settings: settingsOf, state: encodeState(builder, constantsOf([exp])) };
    }
    const head = {
      version: VERSION,
      settings: this.hashOf.hash,
      position,
      pendingIds: [...pendingIds],
      quarantined,
      builders,
    };
    const encoded = encodeState({ runs: state.runs, index: state.index, memory: state.memory });
    const capturedMs = performance.now() - started;
    this.writing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.write(settings.dataDir, head, encoded))
      .then((written) => {
        this.logger.info(
          `${written.file} written (${(written.bytes / 1e6).toFixed(1)} MB): held the event loop ${capturedMs.toFixed(0)} ms to capture, then at most ${written.longestMs.toFixed(0)} ms at a time to write`,
        );
        this.afterWrite?.();
      })
      .catch((err: Error) =>
        this.logger.warn(
          `checkpoint at segment ${position.segment} byte ${position.offset} not written: ${err.message}`,
        ),
      )
      .finally(() => (this.writing = undefined));
  }

  private async write(
    dir: string,
    head: Omit<CheckpointFile, 'covers' | 'state'>,
    state: EncodedState,
  ): Promise<{ file: string; bytes: number; longestMs: number }> {
    const covers: CheckpointFile['covers'] = [];
    for (const f of await readdir(dir)) {
      const n = Number(SEGMENT.exec(f)?.[1] ?? NaN);
      if (n < head.position.segment) covers.push({ segment: n, size: (await stat(join(dir, f))).size });
    }
    // Written a piece at a time, yielding to requests between megabytes (./jsonChunks.ts).
    const target = join(dir, fileName(head.position));
    const handle = await open(`${target}.tmp`, 'w');
    let bytes = 0;
    let longestMs = 0;
    try {
      const parts = jsonChunks({ ...head, covers, state } satisfies CheckpointFile);
      for (let done = false; !done;) {
        const started = performance.now();
        let buffer = '';
        while (buffer.length < WRITE_CHUNK) {
          const next = parts.next();
          if (next.done) {
            done = true;
            break;
          }
          buffer += next.value;
        }
        longestMs = Math.max(longestMs, performance.now() - started);
        bytes += buffer.length;
        await handle.write(buffer);
      }
      await fdatasync(handle.fd);
    } finally {
      await handle.close();
    }
    await rename(`${target}.tmp`, target);
    fsyncDir(dir);
    this.written++;
    this.durable = fileName(head.position);
    const old = (await readdir(dir))
      .filter((f) => FILE.test(f))
      .sort()
      .reverse()
      .slice(KEEP);
    for (const f of old) await rm(join(dir, f), { force: true });
    return { file: fileName(head.position), bytes, longestMs };
  }

  /** Resolves once the checkpoint being written (if any) is on disk. */
  async settled(): Promise<void> {
    await this.writing;
  }
}

/** The log position a checkpoint file's name gives (undefined for another file). */
export function positionOf(file: string): LogPosition | undefined {
  const m = FILE.exec(file);
  return m ? { segment: Number(m[1]), offset: Number(m[2]) } : undefined;
}
