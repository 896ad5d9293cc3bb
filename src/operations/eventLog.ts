/**
 * `log check|repair <dir>`: verifies a router's event log (every line against the event schema,
 * src/core/log/eventSchema.ts) and rewrites it without the lines that are not events, keeping the
 * original segments in a backup folder beside them. Stop the router before a repair: it appends
 * to the last segment, and a rewrite under it would lose what it writes next.
 */
import { copyFile, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { compactedNote, readCompacted } from '../core/log/compacted';
import { scanLog, withoutBadLines, WRITER_FILE, type SegmentScan } from '../core/log/scan';
import type { OperationOptions } from '../runtime/runtime';
import { usageError } from './errors';

export interface LogInput {
  /** The router's data directory (`dataDir`, e.g. .model-canary/data). */
  dir: string;
}

export interface LogCheckResult {
  dir: string;
  segments: number;
  lines: number;
  /** Lines that are not events, by segment, with line number, byte offset and reason. */
  bad: { segment: string; line: number; offset: number; reason: string; excerpt: string }[];
  /** Segments ending in a torn line (bytes after the last newline). */
  torn: { segment: string; bytes: number }[];
  /** Older segments that the router's retention removed (after a checkpoint covered them). */
  compacted?: { segments: number; bytes: number; note: string };
}

export interface LogRepairResult extends LogCheckResult {
  /** The folder holding the original segments that were rewritten; undefined when nothing needed it. */
  backup: string | undefined;
  rewritten: string[];
}

async function requireLogDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw usageError(
      `${dir} is not a folder — give the router's data directory (dataDir), e.g. .model-canary/data`,
    );
}

function summary(dir: string, scans: SegmentScan[]): LogCheckResult {
  const c = readCompacted(dir);
  return {
    ...(c ? { compacted: { segments: c.segments.length, bytes: c.bytes, note: compactedNote(c) } } : {}),
    dir,
    segments: scans.length,
    lines: scans.reduce((n, s) => n + s.lines, 0),
    bad: scans.flatMap((s) => s.bad.map((b) => ({ segment: basename(s.file), ...b }))),
    torn: scans
      .filter((s) => s.tornBytes > 0)
      .map((s) => ({ segment: basename(s.file), bytes: s.tornBytes })),
  };
}

/** Checks every segment; changes nothing. */
export async function checkLog(input: LogInput, options: OperationOptions = {}): Promise<LogCheckResult> {
  await requireLogDir(input.dir);
  options.onProgress?.(`checking the event log in ${input.dir}`);
  const scans = await scanLog(input.dir);
  if (scans.length === 0)
    throw usageError(`${input.dir} holds no event log (events-<n>.jsonl) — give the router's data directory`);
  return summary(input.dir, scans);
}

/** Rewrites the segments that hold bad lines or a torn tail, after copying them to a backup folder. */
export async function repairLog(input: LogInput, options: OperationOptions = {}): Promise<LogRepairResult> {
  const checked = await checkLog(input, options);
  const writer = Number((await readFile(join(input.dir, WRITER_FILE), 'utf8').catch(() => '')).trim());
  if (writer > 0 && isAlive(writer))
    throw usageError(
      `a router (pid ${writer}) is writing this log — stop it first (\`model-canary down\`, or SIGTERM), then repair`,
    );
  const scans = await scanLog(input.dir);
  const damaged = scans.filter((s) => s.bad.length > 0 || s.tornBytes > 0);
  if (damaged.length === 0) return { ...checked, backup: undefined, rewritten: [] };
  const backup = join(input.dir, `backup-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`);
  await mkdir(backup, { recursive: true });
  const rewritten: string[] = [];
  for (const scan of damaged) {
    options.signal?.throwIfAborted();
    const name = basename(scan.file);
    await copyFile(scan.file, join(backup, name));
    const clean = withoutBadLines(await readFile(scan.file), scan);
    // Write beside it, make it durable, then rename over: a crash leaves the old or the new file.
    const tmp = `${scan.file}.repair`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(clean);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, scan.file);
    options.onProgress?.(
      `${name}: removed ${scan.bad.length} lines${scan.tornBytes ? ' and a torn tail' : ''}`,
    );
    rewritten.push(name);
  }
  // The quarantine's offsets name the old files: it goes with them.
  await rename(join(input.dir, 'quarantine.jsonl'), join(backup, 'quarantine.jsonl')).catch(() => undefined);
  return { ...checked, backup, rewritten };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
