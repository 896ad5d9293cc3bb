/**
 * Retention of the event log (#18 item 4, config `eventLog.retention`): closed segments older
 * than `maxAgeDays` (by the time they were last written), or beyond `maxBytes` of segments in
 * all (oldest first), are deleted — but only segments that a durable checkpoint covers
 * (./checkpoints.ts: fsynced and renamed into place before it counts), so the report, the runs
 * and the request index after compaction are the ones before it: a restart restores the
 * checkpoint and replays what is left. The current segment and the segments after the newest
 * checkpoint are never deleted, so the log may exceed `maxBytes` by up to a segment or two.
 *
 * It runs on start, after each checkpoint is written, and every ten minutes. What it removed is
 * appended to `compacted.json` beside the log, so reads of old segments (an earlier run's
 * report, `model-canary log check`) can say what is gone instead of failing or silently
 * counting less.
 */
import { existsSync } from 'node:fs';
import { readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPACTED_FILE, compactedNote, readCompacted, type Compacted } from '../core/log/compacted';
import type { Report } from '../shared/report';
import { positionOf } from './checkpoints';
import { fsyncDir } from './fileSync';

const SEGMENT = /^events-(\d{8})\.jsonl$/;
const EVERY_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  maxAgeDays: number;
  maxBytes: number;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly dir: string,
    private readonly policy: RetentionPolicy,
    /** The segment being written: never deleted. */
    private readonly currentSegment: () => number,
    /** The newest durable checkpoint that fits the router's settings (its file name). */
    private readonly checkpoint: () => string | undefined,
    private readonly logger: { info(message: string): void; warn(message: string): void },
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs now and every ten minutes. */
  start(): void {
    this.trigger();
    this.timer = setInterval(() => this.trigger(), EVERY_MS);
    this.timer.unref();
  }

  /** Runs a pass (after the one running, if any); never rejects. */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass()
      .catch((err: Error) => this.logger.warn(`retention: ${err.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.trigger();
        }
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.again = false;
    await this.running;
  }

  private async pass(): Promise<void> {
    const file = this.checkpoint();
    const covered = file === undefined ? undefined : positionOf(file);
    if (!covered || !existsSync(join(this.dir, file!))) return;
    const limit = Math.min(covered.segment, this.currentSegment());
    const segments: { name: string; n: number; bytes: number; mtimeMs: number }[] = [];
    for (const name of await readdir(this.dir)) {
      const m = SEGMENT.exec(name);
      if (!m) continue;
      const info = await stat(join(this.dir, name)).catch(() => undefined);
      if (info) segments.push({ name, n: Number(m[1]), bytes: info.size, mtimeMs: info.mtimeMs });
    }
    segments.sort((a, b) => a.n - b.n);
    let total = segments.reduce((n, s) => n + s.bytes, 0);
    const removed: Compacted['segments'] = [];
    const oldest = this.now() - this.policy.maxAgeDays * DAY_MS;
    for (const s of segments) {
      if (s.n >= limit) break;
      if (!(total > this.policy.maxBytes || s.mtimeMs < oldest)) break;
      await unlink(join(this.dir, s.name));
      total -= s.bytes;
      removed.push({ name: s.name, bytes: s.bytes, lastWrittenAt: new Date(s.mtimeMs).toISOString() });
    }
    if (removed.length === 0) return;
    fsyncDir(this.dir);
    const before = readCompacted(this.dir) ?? { segments: [], bytes: 0 };
    const after: Compacted = {
      segments: [...before.segments, ...removed],
      bytes: before.bytes + removed.reduce((n, s) => n + s.bytes, 0),
    };
    const record = join(this.dir, COMPACTED_FILE);
    await writeFile(`${record}.tmp`, JSON.stringify(after, null, 1));
    await rename(`${record}.tmp`, record);
    this.logger.info(
      `retention: removed ${removed.map((s) => s.name).join(', ')} (${(removed.reduce((n, s) => n + s.bytes, 0) / 1e6).toFixed(1)} MB), covered by ${file}; the log holds ${(total / 1e6).toFixed(1)} MB`,
    );
  }
}

/** An earlier run's report, rebuilt from the segments, with what retention removed from them. */
export function withCompaction(report: Report, dir: string): Report {
  const c = readCompacted(dir);
  if (!c) return report;
  const note = `${compactedNote(c)}; this earlier run's report is rebuilt from the segments left and misses their events`;
  return { ...report, compacted: { segments: c.segments.length, bytes: c.bytes, note } };
}
