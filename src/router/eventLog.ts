/**
 * The durable event log: JSON Lines segments `events-<n>.jsonl` in the data directory.
 *
 * Appends are group-committed: every line appended during one turn of the event loop goes to
 * disk in one write(2), made synchronously at the end of that turn (in `setImmediate`, so the
 * answers waiting on it go out in the same turn, with no hop through the thread pool). The
 * callers that need durability (feedback, weight changes) are resolved only after an fdatasync
 * covering their lines; request events ride along and are fsynced at least every
 * `fsyncIntervalMs`. The fdatasync runs on the thread pool and never holds up the next writes.
 * A write(2) that returned survives SIGKILL (it is in the page cache); the fsync is what makes
 * an acknowledgement survive a machine crash.
 *
 * Segments are closed at `segmentBytes` (the router checkpoints its state then: ./checkpoints.ts).
 * On open, every segment is replayed in order, or those from a checkpoint's position on; a last
 * line without its newline (a write torn by a crash) is cut off, since no caller was ever told
 * it was durable.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, readdirSync } from 'node:fs';
import * as fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkLine } from '../core/log/eventSchema';
import { scanEvent } from '../core/log/lineScanner';
import { fsyncDir, writeAllSync } from './fileSync';
import { LogSync, type Waiter } from './logSync';
import { Quarantine, type BadLine } from './quarantine';
import type { ExperimentEvent, RequestEvent } from '../shared/events';

export interface EventLogOptions {
  segmentBytes: number;
  fsyncIntervalMs: number;
  /** Called after each batch is written, with the segment it went to and its primary request ids. */
  onWritten?: (segment: number, requestIds: readonly string[]) => void;
  /** Problems that must not stop the router (a failed write, a skipped line). */
  warn?: (message: string) => void;
  /**
   * Called, synchronously, when a segment is closed and the next opened: with the lines already
   * appended that go first into the new one (their bytes and primary request ids). ./checkpoints.ts
   */
  onRotated?: (closed: number, pending: { bytes: number; ids: readonly string[] }) => void;
}

/** Where a replay starts: a checkpoint covers the segments before `segment` and its first `offset` bytes. */
export interface LogPosition {
  segment: number;
  offset: number;
}

export interface ReplayStats {
  segments: number;
  events: number;
  bytes: number;
  ms: number;
  /** Bytes cut off the end of the last segment (a torn last line). */
  tornBytes: number;
  /** Complete lines that were not valid JSON (reported, skipped). */
  skippedLines: number;
  /** Lines that are not events (not JSON, not the schema, or not applicable): skipped and kept in `quarantine.jsonl`. */
  quarantined: number;
  /** The checkpoint the replay started from (./checkpoints.ts), when one fitted. */
  checkpoint?: string;
}

const SEGMENT = /^events-(\d{8})\.jsonl$/;
const segmentName = (n: number): string => `events-${String(n).padStart(8, '0')}.jsonl`;
const READ_CHUNK = 8 * 1024 * 1024;

/** The request id of an event that feedback can be attributed to (a routed, not mirrored, request). */
export function attributableId(event: ExperimentEvent): string | undefined {
  return event.type === 'request' && !event.shadow ? event.id : undefined;
}

export class EventLog {
  private fd = -1;
  private segment: number;
  private size = 0;
  private lines: string[] = [];
  private ids: string[] = [];
  /** Callers waiting for an fdatasync covering what they appended, still in `lines`. */
  private waiters: Waiter[] = [];
  /** Callers waiting for the write(2) of what they appended, not its fsync. */
  private writeWaiters: (() => void)[] = [];
  private readonly fsync: LogSync;
  /** While a segment closes, appends wait in `lines` and go first into the next one. */
  private rotating: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly dir: string,
    private readonly opts: EventLogOptions,
    lastSegment: number,
    lastSize: number,
  ) {
    this.segment = lastSegment;
    this.size = lastSize;
    this.fd = openSync(join(dir, segmentName(this.segment)), 'a');
    if (lastSize === 0) fsyncDir(dir);
    this.fsync = new LogSync(opts.fsyncIntervalMs, opts.warn, () => this.schedule());
    this.timer = setInterval(() => {
      if (!this.fsync.isDirty) return;
      this.fsync.due = true;
      this.schedule();
    }, opts.fsyncIntervalMs);
    this.timer.unref();
  }

  /**
   * Opens the log in `dir`, replaying every event to `visit` first (with the segment it is in),
   * from `from` on when given, and returns it ready for appends.
   */
  static open(
    dir: string,
    opts: EventLogOptions,
    visit: (event: ExperimentEvent, segment: number) => void,
    from: LogPosition = { segment: 0, offset: 0 },
  ): { log: EventLog; stats: ReplayStats; end: LogPosition } {
    mkdirSync(dir, { recursive: true });
    const started = performance.now();
    const segments = listSegments(dir).filter((n) => n >= from.segment);
    const stats: ReplayStats = {
      segments: segments.length,
      events: 0,
      bytes: 0,
      ms: 0,
      tornBytes: 0,
      skippedLines: 0,
      quarantined: 0,
    };
    const quarantine = new Quarantine(dir);
    const onBad = (bad: BadLine): void => {
      stats.quarantined++;
      if (quarantine.add(bad))
        opts.warn?.(
          `${bad.segment} at byte ${bad.offset}: quarantined a line that is not an event (${bad.reason})`,
        );
    };
    let lastSize = 0;
    segments.forEach((n, i) => {
      const last = i === segments.length - 1;
      const start = n === from.segment ? from.offset : 0;
      const r = replaySegment(join(dir, segmentName(n)), n, { repair: last, start }, visit, opts.warn, onBad);
      stats.events += r.events;
      stats.bytes += r.size - start;
      stats.tornBytes += r.tornBytes;
      stats.skippedLines += r.skipped;
      if (last) lastSize = r.size - r.tornBytes;
    });
    quarantine.save(opts.warn);
    stats.ms = performance.now() - started;
    const lastSegment = segments[segments.length - 1] ?? Math.max(1, from.segment);
    const end = { segment: lastSegment, offset: lastSize };
    return { log: new EventLog(dir, opts, lastSegment, lastSize), stats, end };
  }

  /** Segment files in order, oldest first. */
  segmentFiles(): { segment: number; file: string }[] {
    return listSegments(this.dir).map((n) => ({ segment: n, file: join(this.dir, segmentName(n)) }));
  }

  get currentSegment(): number {
    return this.segment;
  }

  /**
   * Replays every event appended so far — written, being written and queued — in log order,
   * synchronously, so no event can slip in between the replay and the caller's next step.
   */
  snapshot(visit: (event: ExperimentEvent) => void): void {
    for (const n of listSegments(this.dir)) {
      if (n > this.segment) break;
      const limit = n === this.segment ? this.size : undefined;
      replaySegment(join(this.dir, segmentName(n)), n, { repair: false, limit }, visit, undefined);
    }
    for (const line of this.lines) visit(JSON.parse(line) as ExperimentEvent);
  }

  /** Queues an event; it is written within this turn of the event loop and fsynced soon after. */
  append(event: ExperimentEvent): void {
    if (this.closed) throw new Error('the event log is closed');
    this.lines.push(JSON.stringify(event) + '\n');
    const id = attributableId(event);
    if (id !== undefined) this.ids.push(id);
    this.schedule();
  }

  /** Queues events and resolves once they are fsynced (rejects when the write or fsync failed). */
  appendDurable(events: readonly ExperimentEvent[]): Promise<void> {
    for (const e of events) this.append(e);
    return this.flush();
  }

  /**
   * Resolves once everything queued so far is written (write(2): in the page cache, so it
   * survives SIGKILL, fsynced within `fsyncIntervalMs`). The router answers a request after
   * this: one write per turn of the event loop covers every request answered in it. Never
   * rejects: a failed write is warned about, and the answer goes out anyway.
   */
  written(): Promise<void> {
    if (this.lines.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.writeWaiters.push(resolve);
      this.schedule();
    });
  }

  /** Resolves once everything queued so far is written and fsynced. */
  flush(): Promise<void> {
    if (this.closed && this.lines.length === 0 && !this.fsync.busy && !this.rotating)
      return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Flushes, fsyncs and closes the current segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearInterval(this.timer);
    while (this.rotating || this.fsync.busy) await (this.rotating ?? this.fsync.busy);
    closeSync(this.fd);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  // The end of a turn: write what it appended, start an fdatasync when one is wanted, rotate.
  private turn(): void {
    // The rotation writes what is queued once the next segment is open.
    if (this.rotating) return;
    if (this.lines.length > 0) this.write();
    this.fsync.endOfTurn(this.fd, this.waiters);
    this.waiters = [];
    if (this.size >= this.opts.segmentBytes) this.rotate();
  }

  private write(): void {
    const { lines, ids, writeWaiters } = this;
    this.lines = [];
    this.ids = [];
    this.writeWaiters = [];
    try {
      const data = Buffer.from(lines.join(''), 'utf8');
      writeAllSync(this.fd, data);
      this.size += data.length;
      this.fsync.wrote();
      this.opts.onWritten?.(this.segment, ids);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.opts.warn?.(`event log: writing ${lines.length} events failed: ${error.message}`);
      for (const w of this.waiters.splice(0)) w.reject(error);
    }
    for (const w of writeWaiters) w();
  }

  private rotate(): void {
    this.rotating = (async () => {
      await this.fsync.final(() => this.fd);
      closeSync(this.fd);
      this.segment += 1;
      this.size = 0;
      this.fd = openSync(join(this.dir, segmentName(this.segment)), 'a');
      fsyncDir(this.dir);
      const bytes = this.lines.reduce((n, line) => n + Buffer.byteLength(line), 0);
      this.opts.onRotated?.(this.segment - 1, { bytes, ids: [...this.ids] });
    })()
      .catch((err: unknown) =>
        this.opts.warn?.(`event log: closing segment ${this.segment} failed: ${(err as Error).message}`),
      )
      .finally(() => {
        this.rotating = undefined;
        this.schedule();
      });
  }
}

function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => SEGMENT.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

function replaySegment(
  file: string,
  segment: number,
  how: { repair: boolean; limit?: number; start?: number },
  visit: (event: ExperimentEvent, segment: number) => void,
  warn: ((message: string) => void) | undefined,
  onBad?: (bad: BadLine) => void,
): { events: number; size: number; tornBytes: number; skipped: number } {
  const last = how.repair;
  const fd = openSync(file, last ? 'r+' : 'r');
  try {
    const size = Math.min(fstatSync(fd).size, how.limit ?? Infinity);
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(size, 1)));
    let carry: Buffer | undefined;
    let pos = how.start ?? 0;
    let events = 0;
    let skipped = 0;
    while (pos < size) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      // File offset of the chunk's first byte (the carried incomplete line comes first).
      const base = pos - (carry?.length ?? 0);
      pos += n;
      const chunk = carry ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const end = chunk.lastIndexOf(10);
      if (end < 0) {
        carry = Buffer.from(chunk);
        continue;
      }
      let start = 0;
      while (start <= end) {
        const nl = chunk.indexOf(10, start);
        if (nl > start) {
          // The writer's own lines are decoded from the bytes (src/core/log/lineScanner.ts);
          // anything else is decoded, parsed and checked as before.
          const scanned = scanEvent(chunk, start, nl);
          const checked = scanned
            ? { ok: true as const, event: scanned }
            : checkLine(chunkLine(chunk, start, nl));
          let reason = checked.ok ? undefined : checked.reason;
          if (checked.ok) {
            try {
              visit(checked.event, segment);
              events++;
            } catch (err) {
              reason = `the router could not apply it: ${(err as Error).message}`;
            }
          }
          if (reason !== undefined) {
            skipped++;
            onBad?.({
              segment: basename(file),
              offset: base + start,
              reason,
              line: chunkLine(chunk, start, nl),
            });
          }
        }
        start = nl + 1;
      }
      // `buf` is reused by the next read: keep a copy of the incomplete line.
      carry = end + 1 < chunk.length ? Buffer.from(chunk.subarray(end + 1)) : undefined;
    }
    const tornBytes = carry?.length ?? 0;
    if (tornBytes > 0) {
      if (last) {
        ftruncateSync(fd, size - tornBytes);
        fs.fsyncSync(fd);
        warn?.(`${file}: cut off a torn last line (${tornBytes} bytes, never acknowledged)`);
      } else {
        skipped++;
        warn?.(`${file}: skipped an unterminated last line (${tornBytes} bytes)`);
      }
    }
    return { events, size, tornBytes: last ? tornBytes : 0, skipped };
  } finally {
    closeSync(fd);
  }
}

const chunkLine = (chunk: Buffer, start: number, end: number): string => chunk.toString('utf8', start, end);

/** The last non-mirrored request event with this id in a segment file, if any. */
export async function findRequestInSegment(file: string, id: string): Promise<RequestEvent | undefined> {
  const data = await readFile(file).catch(() => undefined);
  if (!data) return undefined;
  const needle = Buffer.from(`"id":${JSON.stringify(id)}`);
  let found: RequestEvent | undefined;
  let at = data.indexOf(needle);
  while (at >= 0) {
    const start = data.lastIndexOf(10, at) + 1;
    let end = data.indexOf(10, at);
    if (end < 0) end = data.length;
    // A torn or quarantined line is not a request anyone was told about.
    const checked = checkLine(data.toString('utf8', start, end));
    const event = checked.ok ? checked.event : undefined;
    if (event?.type === 'request' && !event.shadow && event.id === id) found = event;
    at = data.indexOf(needle, end);
  }
  return found;
}
