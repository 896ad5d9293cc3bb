/**
 * The analyze cache (docs/engine.md): what a pass over an event log found, kept beside the log
 * so that the next `analyze` of the same log and experiment does not read it again.
 *
 * Two files per log, experiment and `--run`:
 * - `<log>.<key>.report.json`: the result (report, runs, malformed lines), valid while the log
 *   is the same file with the same size and modification time: a warm analyze reads only it;
 * - `<log>.<key>.state.json`: the pass's state at the log's last line break (the report
 *   builder's checkpoint, src/core/analysis/checkpoint.ts, with the runs, malformed lines and
 *   clock): when the log has grown by appends since (same file, at least as long, the bytes
 *   before that position unchanged as far as prefixHash() samples them), analyze restores it and
 *   reads only what was appended.
 * The key is a hash of the log's path and of everything else the report depends on: the
 * experiment as loaded, the drift reference and `--run`; any change means other files, so an
 * edited experiment never meets an old cache. A cache that does not fit is ignored with a
 * warning. The files go in `.model-canary-cache/` beside the log when that folder is writable,
 * else in ~/.cache/model-canary/analyze.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  checkpointBuilder,
  restoreBuilder,
  settingsHash,
  type BuilderCheckpoint,
} from '../core/analysis/checkpoint';
import type { LogAnalysis } from '../core/analysis/logAnalysis';
import { type MalformedLine } from '../core/analysis/logAnalysis';
import { encodeState, restoreState, type EncodedState } from '../core/analysis/stateCodec';
import type { ReferenceData } from '../core/drift';
import type { Experiment } from '../core/spec/experiment';
import type { Report, RunInfo } from '../shared/report';

const VERSION = 2;
/** What of the log before the cached position is compared on a resume (prefixHash). */
const TAIL = 64 * 1024;
const SAMPLES = 32;
const BLOCK = 4096;

export interface AnalyzeResult {
  report: Report;
  malformed: MalformedLine[];
  orphanFeedback: number;
  runs: RunInfo[];
}

/** Where a report came from: `report` (the cached result), `state` (resumed), `none` (a full read) or `off`. */
export interface CacheUse {
  used: 'report' | 'state' | 'none' | 'off';
  /** The cache folder. */
  dir?: string;
  /** Bytes of the log covered by the cache, and bytes read now. */
  cachedBytes: number;
  readBytes: number;
}

interface FileId {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
  /** A regular file (a pipe is read, never cached). */
  regular: boolean;
}

interface ReportFile {
  version: number;
  key: string;
  log: FileId;
  result: EncodedState;
}

interface StateFile {
  version: number;
  key: string;
  log: { ino: number; dev: number };
  position: number;
  lines: number;
  /** prefixHash() of the log at `position`. */
  prefix: string;
  builderRun: string | null;
  runs: RunInfo[];
  malformed: MalformedLine[];
  lastTs: number;
  builder: BuilderCheckpoint;
}

export class AnalyzeCache {
  private constructor(
    private readonly log: string,
    readonly dir: string,
    private readonly base: string,
    private readonly key: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** The cache of `log` for this experiment, reference and run. */
  static async open(
    log: string,
    experiment: Experiment,
    reference: ReferenceData | undefined,
    run: string | undefined,
    warn: (message: string) => void,
  ): Promise<AnalyzeCache> {
    const path = resolve(log);
    const key = createHash('sha256')
      .update(JSON.stringify([VERSION, path, settingsHash(experiment, { reference, run }), run ?? null]))
      .digest('hex')
      .slice(0, 16);
    return new AnalyzeCache(path, await cacheDir(path), `${basename(path)}.${key}`, key, warn);
  }

  private file(kind: 'report' | 'state'): string {
    return join(this.dir, `${this.base}.${kind}.json`);
  }

  /** The cached result, when the log is unchanged since it was written. */
  async report(log: FileId): Promise<AnalyzeResult | undefined> {
    const doc = await this.read<ReportFile>('report');
    if (!doc || !sameFile(doc.log, log) || doc.log.size !== log.size || doc.log.mtimeMs !== log.mtimeMs)
      return undefined;
    try {
      return restoreState({}, doc.result) as AnalyzeResult;
    } catch (err) {
      this.warn(`ignoring the analyze cache ${this.file('report')}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** The cached pass, restored, when `log` is the cached one grown by appends. */
  async resume(
    log: FileId,
    fresh: () => LogAnalysis,
  ): Promise<{ analysis: LogAnalysis; position: number; lines: number } | undefined> {
    const doc = await this.read<StateFile>('state');
    if (!doc || !sameFile(doc.log, log) || doc.position > log.size) return undefined;
    if ((await prefixHash(this.log, doc.position)) !== doc.prefix) return undefined;
    try {
      const analysis = fresh();
      analysis.builder = restoreBuilder(
        analysis.experiment,
        { reference: analysis.reference, run: doc.builderRun ?? undefined },
        doc.builder,
      );
      analysis.builderRun = doc.builderRun ?? undefined;
      analysis.runs.push(...doc.runs);
      analysis.malformed.push(...doc.malformed);
      analysis.lastTs = doc.lastTs;
      return { analysis, position: doc.position, lines: doc.lines };
    } catch (err) {
      this.warn(`ignoring the analyze cache ${this.file('state')}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * Writes the result for `log`, and the pass's state when the log ends at a line break
   * (`position`, after `lines` lines). Never fails the analysis: a cache that cannot be written
   * is reported and skipped.
   */
  async save(
    log: FileId,
    result: AnalyzeResult,
    analysis: LogAnalysis,
    position: number,
    lines: number,
  ): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const report: ReportFile = { version: VERSION, key: this.key, log, result: encodeState(result) };
      await this.write('report', report);
      if (position !== log.size) return;
      const state: StateFile = {
        version: VERSION,
        key: this.key,
        log: { ino: log.ino, dev: log.dev },
        position,
        lines,
        prefix: '',
        builderRun: analysis.builderRun ?? null,
        runs: analysis.runs,
        malformed: analysis.malformed,
        lastTs: analysis.lastTs,
        builder: checkpointBuilder(analysis.builder, {
          reference: analysis.reference,
          run: analysis.builderRun,
        }),
      };
      state.prefix = await prefixHash(this.log, position);
      await this.write('state', state);
    } catch (err) {
      this.warn(`could not write the analyze cache in ${this.dir}: ${(err as Error).message}`);
    }
  }

  private async read<T extends { version: number; key: string }>(
    kind: 'report' | 'state',
  ): Promise<T | undefined> {
    const file = this.file(kind);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const doc = JSON.parse(text) as T;
      if (doc.version !== VERSION || doc.key !== this.key) throw new Error('written by another version');
      return doc;
    } catch (err) {
      this.warn(`ignoring the analyze cache ${file}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async write(kind: 'report' | 'state', doc: object): Promise<void> {
    const file = this.file(kind);
    await writeFile(`${file}.tmp`, JSON.stringify(doc));
    await rename(`${file}.tmp`, file);
  }
}

/** The log's identity and version: what the report cache is keyed by. */
export async function fileId(file: string): Promise<FileId> {
  const s = await stat(file);
  return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, dev: s.dev, regular: s.isFile() };
}

function sameFile(a: { ino: number; dev: number }, b: { ino: number; dev: number }): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * A fingerprint of the log's bytes before `position`: the last 64 KiB and 32 blocks of 4 KiB
 * spread evenly over the rest. Appends leave it unchanged; an edit in place almost surely not
 * (one missing every sampled block is not seen: `--no-cache` then).
 */
async function prefixHash(file: string, position: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    const tail = Math.min(TAIL, position);
    const blocks: [number, number][] = [];
    const before = position - tail;
    for (let i = 0; i < SAMPLES && before > 0; i++) {
      const at = Math.floor((before * i) / SAMPLES);
      blocks.push([at, Math.min(BLOCK, before - at)]);
    }
    blocks.push([before, tail]);
    for (const [at, length] of blocks) {
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, at);
      hash.update(buffer);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** `.model-canary-cache` beside the log when writable there, else ~/.cache/model-canary/analyze. */
async function cacheDir(log: string): Promise<string> {
  const beside = join(dirname(log), '.model-canary-cache');
  try {
    await mkdir(beside, { recursive: true });
    await access(beside, fsConstants.W_OK);
    return beside;
  } catch {
    return join(homedir(), '.cache', 'model-canary', 'analyze');
  }
}
