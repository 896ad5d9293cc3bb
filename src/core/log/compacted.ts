/**
 * The record of what retention removed from an event log (src/router/retention.ts):
 * `compacted.json` beside the segments. Readers of old segments (an earlier run's report,
 * `model-canary log check`) use it to say which events are gone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const COMPACTED_FILE = 'compacted.json';

/** What compaction removed so far. */
export interface Compacted {
  /** Segments deleted, oldest first, with their sizes and when each was last written. */
  segments: { name: string; bytes: number; lastWrittenAt: string }[];
  bytes: number;
}

/** The compaction record of a data directory; undefined when nothing was ever compacted. */
export function readCompacted(dir: string): Compacted | undefined {
  const file = join(dir, COMPACTED_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Compacted;
    return Array.isArray(record.segments) && record.segments.length > 0 ? record : undefined;
  } catch {
    return undefined; // a torn record: the segments are gone either way
  }
}

/** One line for a reader: which segments are gone, and up to when. */
export function compactedNote(c: Compacted): string {
  const last = c.segments.at(-1)!;
  return `${c.segments.length} older segments (${(c.bytes / 1e6).toFixed(1)} MB, through ${last.name}, last written ${last.lastWrittenAt}) were removed by retention; the live report still covers them through its checkpoint`;
}
