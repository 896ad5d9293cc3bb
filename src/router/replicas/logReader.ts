/**
 * A replica's recorded events after a cursor, read from its durable log (src/router/eventLog.ts)
 * for the aggregator on the leader: the cursor is `<segment>:<offset>` (the byte after the last
 * line handed out), so a pull after a restart, or after the aggregator lost its place, resumes
 * exactly where it stopped. Only complete lines are handed out: a batch being written (or a torn
 * line a crash left, which the next start cuts off) ends without its newline and waits.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { EventLog } from '../eventLog';

export interface LogCursor {
  segment: number;
  offset: number;
}

export interface LogPage {
  /** Complete JSON lines, each with its newline, in log order. */
  lines: Buffer;
  count: number;
  next: LogCursor;
  /** Whether lines remain after `next` (the caller should ask again at once). */
  more: boolean;
}

/** The start of a log: before its first segment. */
export const LOG_START: LogCursor = { segment: 0, offset: 0 };

export function formatCursor(c: LogCursor): string {
  return `${c.segment}:${c.offset}`;
}

/** Parses `<segment>:<offset>`; undefined when it is not one. */
export function parseCursor(text: string): LogCursor | undefined {
  const m = /^(\d{1,9}):(\d{1,15})$/.exec(text);
  return m ? { segment: Number(m[1]), offset: Number(m[2]) } : undefined;
}

export class CursorBeyondLog extends Error {}

const CHUNK = 1024 * 1024;

/** The offset after the newline ending the line that starts at `from`; -1 when it has none yet. */
function lineEnd(fd: number, from: number, size: number): number {
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let at = from; at < size; at += buf.length) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    const nl = buf.indexOf(10);
    if (nl >= 0 && nl < n) return at + nl + 1;
  }
  return -1;
}

/**
 * Up to `limit` lines (and about `maxBytes`) after `after`. A cursor past the end of the log
 * (another log in the same place: a wiped volume) throws CursorBeyondLog; a segment removed by
 * retention is skipped to the oldest one left.
 */
export function readAfter(
  log: Pick<EventLog, 'segmentFiles'>,
  after: LogCursor,
  limit: number,
  maxBytes: number,
): LogPage {
  const segments = log.segmentFiles();
  const last = segments.at(-1);
  if (!last || after.segment > last.segment) {
    if (after.segment === 0 && after.offset === 0)
      return { lines: Buffer.alloc(0), count: 0, next: after, more: false };
    throw new CursorBeyondLog(`the cursor ${formatCursor(after)} is past the end of this log`);
  }
  const chunks: Buffer[] = [];
  let count = 0;
  let bytes = 0;
  let cursor = after;
  for (const { segment, file } of segments) {
    if (segment < cursor.segment) continue;
    let at = segment === cursor.segment ? cursor.offset : 0;
    const isLast = segment === last.segment;
    const fd = openSync(file, 'r');
    let rest: boolean; // bytes left in this segment after `at`
    let budget = false; // the next line does not fit in `maxBytes`
    try {
      const size = fstatSync(fd).size;
      if (at > size)
        throw new CursorBeyondLog(`the cursor ${formatCursor(cursor)} is past the end of segment ${segment}`);
      // Read in chunks, so a page of a few lines reads a few kilobytes, not `maxBytes`.
      while (at < size && count < limit && bytes < maxBytes) {
        const want = Math.min(size - at, maxBytes - bytes, CHUNK);
        const buf = Buffer.allocUnsafe(want);
        const n = readSync(fd, buf, 0, want, at);
        let end = 0;
        while (count < limit) {
          const nl = buf.indexOf(10, end);
          if (nl < 0 || nl >= n) break;
          end = nl + 1;
          count++;
        }
        if (end === 0) {
          // No whole line in the chunk: a line longer than it (read more), or one being written.
          if (want === size - at) break;
          const whole = want < CHUNK ? 0 : lineEnd(fd, at, size);
          if (whole < 0) break;
          if (want < CHUNK || bytes + (whole - at) > maxBytes) {
            budget = true;
            break;
          }
          const line = Buffer.allocUnsafe(whole - at);
          readSync(fd, line, 0, line.length, at);
          chunks.push(line);
          count++;
          bytes += line.length;
          at = whole;
          continue;
        }
        chunks.push(buf.subarray(0, end));
        bytes += end;
        at += end;
        if (end < n && count < limit && want === size - (at - end)) break; // the rest is a line being written
      }
      rest = at < size;
    } finally {
      closeSync(fd);
    }
    cursor = { segment, offset: at };
    if (count >= limit || bytes >= maxBytes || budget)
      return { lines: Buffer.concat(chunks), count, next: cursor, more: rest || !isLast };
    if (isLast) return { lines: Buffer.concat(chunks), count, next: cursor, more: false };
    // A closed segment read to its end (replay skips an unterminated last line of one): the next.
    cursor = { segment: segment + 1, offset: 0 };
  }
  return { lines: Buffer.concat(chunks), count, next: cursor, more: false };
}
