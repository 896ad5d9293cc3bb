/**
 * The event log's quarantine: `quarantine.jsonl` beside the segments, one JSON object per line
 * that replay refused (`{"segment", "offset", "reason", "line"}`), so a bad line is kept for
 * inspection and never stops the router. A line already quarantined by an earlier start is not
 * written again. `model-canary log repair` removes the lines from the segments themselves.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A line replay refused: where it is and why. */
export interface BadLine {
  segment: string;
  /** Byte offset of the line's first byte in the segment. */
  offset: number;
  reason: string;
  line: string;
}

export const QUARANTINE_FILE = 'quarantine.jsonl';

/** What the report and `status` say of the quarantine. */
export interface LogHealth {
  quarantined: number;
  quarantineFile: string;
}

/** The log's health when replay quarantined lines, else undefined. */
export function logHealthOf(quarantined: number, dataDir: string): LogHealth | undefined {
  return quarantined > 0 ? { quarantined, quarantineFile: join(dataDir, QUARANTINE_FILE) } : undefined;
}

/** The report with the log's health, when there is something to say. */
export function withLogHealth<R extends object>(report: R | undefined, health: LogHealth | undefined) {
  return report && health ? { ...report, eventLog: health } : report;
}
/** The longest line kept in full; a longer one is cut (its offset still finds it). */
const MAX_LINE = 64 * 1024;

export class Quarantine {
  private readonly known = new Set<string>();
  private pending: BadLine[] = [];
  readonly file: string;

  constructor(dir: string) {
    this.file = join(dir, QUARANTINE_FILE);
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // none yet
    }
    for (const line of text.split('\n')) {
      try {
        const e = JSON.parse(line) as { segment?: unknown; offset?: unknown };
        if (typeof e.segment === 'string' && typeof e.offset === 'number')
          this.known.add(key(e.segment, e.offset));
      } catch {
        // a torn line of the quarantine itself: the bad line is quarantined again
      }
    }
  }

  /** Queues a bad line; false when an earlier start quarantined it already. */
  add(bad: BadLine): boolean {
    const k = key(bad.segment, bad.offset);
    if (this.known.has(k)) return false;
    this.known.add(k);
    this.pending.push({ ...bad, line: bad.line.length > MAX_LINE ? bad.line.slice(0, MAX_LINE) : bad.line });
    return true;
  }

  /** Appends the new entries; a failure is only warned about (the segments still hold the lines). */
  save(warn?: (m: string) => void): void {
    if (this.pending.length === 0) return;
    try {
      appendFileSync(this.file, this.pending.map((b) => JSON.stringify(b) + '\n').join(''));
    } catch (err) {
      warn?.(`could not write ${this.file}: ${(err as Error).message}`);
    }
    this.pending = [];
  }
}

function key(segment: string, offset: number): string {
  return `${segment}:${offset}`;
}
