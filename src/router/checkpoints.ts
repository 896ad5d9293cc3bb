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
import { BloomFilter, type RequestIndex } from './requestIndex';
import { ReplayMemory } from './replayMemory';

export { ReplayMemory } from './replayMemory';

const VERSION = 1;
const FILE = /^checkpoint-(\d{8})-(\d{12})\.json$/;
const SEGMENT = /^events-(\d{8})\.jsonl$/;
// Named by position, so the newest sorts last.
const fileName = (p: LogPosition): string =>
  `checkpoint-${String(p.segment).padStart(8, '0')}-${String(p.offset).padStart(12, '0')}.json`;
const KEEP = 2;

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
  /** The run each builder reports on (null: before the first run). */
  builderRuns: Record<string, string | null>;
  state: EncodedState;
}

/** A hash of the settings a checkpoint's state depends on besides the log. */
export function routerSettingsHash(settings: RouterSettings): string {
  const idMemory = Math.max(1, Math.floor(settings.eventLog.idCacheSize / 2));
  const experiments = settings.experiments.map((e) => [
    e.name,
    settingsHash(e.experiment, { reference: e.reference, idMemory, variantOf: () => undefined }),
  ]);
  const { idCacheSize, segmentBytes } = settings.eventLog;
  return createHash('sha256')
    .update(stableJson({ v: VERSION, idCacheSize, segmentBytes, experiments }))
    .digest('hex');
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
export function restoreCheckpoint(
  settings: RouterSettings,
  fresh: FreshState,
  warn: (message: string) => void,
): { state: RouterState; position: LogPosition; quarantined: number; file: string; ms: number } | undefined {
  const started = performance.now();
  const dir = settings.dataDir;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => FILE.test(f)) : [];
  const hash = routerSettingsHash(settings);
  for (const name of files.sort().reverse()) {
    const file = join(dir, name);
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as CheckpointFile;
      const problem = misfit(doc, dir, hash, settings);
      if (problem) throw new Error(problem);
      const builders = new Map<string, ReportBuilder>();
      for (const exp of settings.experiments)
        builders.set(exp.name, fresh.builder(exp, doc.builderRuns[exp.name] ?? undefined));
      const target: RouterState = {
        builders,
        runs: new Map(),
        index: fresh.index(),
        memory: new ReplayMemory(),
      };
      const state = restoreState(target, doc.state, constantsOf(settings.experiments), [
        ...LATE_CLASSES,
        BloomFilter,
      ]);
      state.index.written(doc.position.segment, doc.pendingIds);
      const ms = performance.now() - started;
      return { state, position: doc.position, quarantined: doc.quarantined, file: name, ms };
    } catch (err) {
      warn(`${file}: ignored (${(err as Error).message}); replaying the log from an older point`);
    }
  }
  return undefined;
}

function misfit(
  doc: CheckpointFile,
  dir: string,
  hash: string,
  settings: RouterSettings,
): string | undefined {
  if (doc.version !== VERSION) return `version ${doc.version}, this router writes ${VERSION}`;
  if (doc.settings !== hash) return 'the settings changed since it was written';
  const names = Object.keys(doc.builderRuns).sort();
  if (stableJson(names) !== stableJson(settings.experiments.map((e) => e.name).sort()))
    return 'the experiments changed since it was written';
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

/** A start's figures: the replay after the checkpoint, plus the restore's time and the lines it had quarantined. */
export function startStats(
  replay: ReplayStats,
  resumed: { quarantined: number; ms: number; file: string } | undefined,
): ReplayStats {
  if (!resumed) return replay;
  const { quarantined, ms, file } = resumed;
  return { ...replay, quarantined: replay.quarantined + quarantined, ms: replay.ms + ms, checkpoint: file };
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
  private hashOf: { settings: RouterSettings; hash: string } | undefined;
  /** The event loop was held this long by the last capture (encode and stringify), for the bench. */
  lastPauseMs = 0;
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
    if (this.hashOf?.settings !== settings) this.hashOf = { settings, hash: routerSettingsHash(settings) };
    // A builder reports on its experiment's current run (RouterCore.newBuilder).
    const builderRuns = Object.fromEntries(
      [...state.builders.keys()].map((name) => [name, state.runs.get(name)?.at(-1)?.id ?? null]),
    );
    const head = {
      version: VERSION,
      settings: this.hashOf.hash,
      position,
      pendingIds: [...pendingIds],
      quarantined,
      builderRuns,
    };
    const encoded = encodeState(state, constantsOf(settings.experiments));
    this.lastPauseMs = performance.now() - started;
    const capturedMs = this.lastPauseMs;
    this.writing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.write(settings.dataDir, head, encoded))
      .then((written) => {
        this.logger.info(
          `${written.file} written (${(written.bytes / 1e6).toFixed(1)} MB): held the event loop ${capturedMs.toFixed(0)} ms to capture, ${written.stringifyMs.toFixed(0)} ms to serialise`,
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
  ): Promise<{ file: string; bytes: number; stringifyMs: number }> {
    const covers: CheckpointFile['covers'] = [];
    for (const f of await readdir(dir)) {
      const n = Number(SEGMENT.exec(f)?.[1] ?? NaN);
      if (n < head.position.segment) covers.push({ segment: n, size: (await stat(join(dir, f))).size });
    }
    const started = performance.now();
    const text = JSON.stringify({ ...head, covers, state } satisfies CheckpointFile);
    const stringifyMs = performance.now() - started;
    this.lastPauseMs += stringifyMs;
    const target = join(dir, fileName(head.position));
    const handle = await open(`${target}.tmp`, 'w');
    try {
      await handle.writeFile(text);
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
    return { file: fileName(head.position), bytes: text.length, stringifyMs };
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
