/**
 * The event log's retention and the size of each router replica's volume derived from it
 * (docs/kubernetes.md, "Event-log volumes"). The router compacts its log by age and size
 * (`eventLog.retention` in its config); the volume holds what retention keeps, plus room for
 * the segment being written while an old one is compacted, the aggregates' checkpoint and the
 * quarantine.
 */
import type { StackOptions } from './options';

/** What one request writes to the log with the sample experiment (a 100% shadow mirror), bytes. */
export const BYTES_PER_REQUEST = 700;
export const DEFAULT_RETENTION = { maxAgeDays: 7, maxBytes: 1024 ** 3 } as const;
/** Requests per second per replica a volume is sized for unless told. */
export const DEFAULT_EXPECTED_RPS = 10;
/** Room over what retention keeps, as a fraction of it. */
const HEADROOM = 0.25;
/** The router's log segment size (eventLog.segmentBytes): one more segment is written before an old one goes. */
const SEGMENT_BYTES = 64 * 1024 ** 2;
const MIB = 1024 ** 2;

/** The retention the router config carries, with its defaults. */
export function routerRetention(opts: StackOptions): { maxAgeDays: number; maxBytes: number } {
  const r = opts.router?.retention ?? {};
  const maxAgeDays = r.maxAgeDays ?? DEFAULT_RETENTION.maxAgeDays;
  const maxBytes = r.maxBytes ?? DEFAULT_RETENTION.maxBytes;
  if (!(maxAgeDays > 0) || !Number.isFinite(maxAgeDays))
    throw new Error(`retention maxAgeDays must be a positive number of days, got ${maxAgeDays}`);
  if (!(maxBytes >= SEGMENT_BYTES) || !Number.isFinite(maxBytes))
    throw new Error(
      `retention maxBytes must be at least one log segment (${SEGMENT_BYTES} bytes), got ${maxBytes}`,
    );
  return { maxAgeDays, maxBytes };
}

/**
 * The bytes retention keeps at the expected rate, min(maxBytes, days × rps × 86 400 s × 0.7 KB),
 * and the volume that holds them: × 1.25 plus one segment, rounded up to a MiB.
 */
export function eventLogVolume(opts: StackOptions): { keptBytes: number; size: string } {
  const { maxAgeDays, maxBytes } = routerRetention(opts);
  const rps = opts.router?.expectedRps ?? DEFAULT_EXPECTED_RPS;
  if (!(rps > 0) || !Number.isFinite(rps))
    throw new Error(`the expected request rate must be a positive number of requests per second, got ${rps}`);
  const keptBytes = Math.min(maxBytes, maxAgeDays * rps * 86_400 * BYTES_PER_REQUEST);
  const mib = Math.ceil((keptBytes * (1 + HEADROOM) + SEGMENT_BYTES) / MIB);
  return { keptBytes, size: `${mib}Mi` };
}
