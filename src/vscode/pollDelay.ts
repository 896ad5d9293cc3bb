/**
 * How long the live state waits before it reads status and reports again. A failing read backs
 * off exponentially (a cluster that is down or a VPN that dropped is not asked every two
 * seconds), and a slow one spaces the reads out so that reading never takes more than about a
 * third of the time, whatever the refresh setting says.
 */

/** The longest wait between reads, failing or not. */
export const MAX_POLL_DELAY_MS = 120_000;
/** The wait while nothing runs. */
export const IDLE_POLL_DELAY_MS = 15_000;

export interface PollInput {
  /** The environment answered and its router runs. */
  up: boolean;
  /** Reads that failed in a row (0 after a good read). */
  failures: number;
  /** modelCanary.refreshIntervalSeconds. */
  intervalSeconds: number;
  /** How long the last read took. */
  lastReadMs: number;
}

/** The delay before the next read. */
export function nextPollDelayMs({ up, failures, intervalSeconds, lastReadMs }: PollInput): number {
  const interval = Math.max(1, intervalSeconds) * 1000;
  if (failures > 0) {
    const first = Math.max(interval, 5_000);
    return Math.min(MAX_POLL_DELAY_MS, first * 2 ** Math.min(failures - 1, 10));
  }
  const base = up ? interval : Math.max(interval, IDLE_POLL_DELAY_MS);
  return Math.min(MAX_POLL_DELAY_MS, Math.max(base, 3 * lastReadMs));
}
