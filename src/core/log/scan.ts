/**
 * Reads an event log's segments (`events-<n>.jsonl`) and checks every line against the event
 * schema, for `model-canary log check|repair` (src/operations/eventLog.ts). Read-only.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkLine } from './eventSchema';

export const SEGMENT_FILE = /^events-(\d{8})\.jsonl$/;
/** The pid of the router writing the log, while it runs (`log repair` refuses to rewrite under it). */
export const WRITER_FILE = 'writer.pid';

export interface BadLogLine {
  /** 1-based line number in the segment. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  reason: string;
  /** The line's start, for the message. */
  excerpt: string;
}

export interface SegmentScan {
  file: string;
  lines: number;
  bytes: number;
  bad: BadLogLine[];
  /** Bytes after the last newline (a write torn by a crash): never acknowledged, dropped by a repair. */
  tornBytes: number;
}

/** The segment files of a data directory, oldest first; none when it holds no log. */
export async function segmentFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => SEGMENT_FILE.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Checks one segment's bytes. */
export function scanSegment(file: string, data: Buffer): SegmentScan {
  const bad: BadLogLine[] = [];
  let start = 0;
  let lineNo = 0;
  for (;;) {
    const nl = data.indexOf(10, start);
    if (nl < 0) break;
    lineNo++;
    if (nl > start) {
      const text = data.toString('utf8', start, nl);
      const checked = checkLine(text);
      if (!checked.ok)
        bad.push({ line: lineNo, offset: start, reason: checked.reason, excerpt: text.slice(0, 80) });
    }
    start = nl + 1;
  }
  return { file, lines: lineNo, bytes: data.length, bad, tornBytes: data.length - start };
}

/** Checks every segment of `dir`. */
export async function scanLog(dir: string): Promise<SegmentScan[]> {
  const out: SegmentScan[] = [];
  for (const file of await segmentFiles(dir)) out.push(scanSegment(file, await readFile(file)));
  return out;
}

/** The segment without its bad lines and torn tail. */
export function withoutBadLines(data: Buffer, scan: SegmentScan): Buffer {
  const drop = new Set(scan.bad.map((b) => b.offset));
  const keep: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(10, start);
    if (nl < 0) break;
    if (!drop.has(start) && nl > start) keep.push(data.subarray(start, nl + 1));
    start = nl + 1;
  }
  return Buffer.concat(keep);
}
