/**
 * The replicas' event streams → one stream in time order, for the leader's report builders.
 *
 * Why order and not merged aggregates: what the report holds is path dependent. The always-valid
 * test looks after every event, a sticky user's requests land on several replicas, a proportion
 * counts a request's latest feedback, and an attribution window matures units on the log's clock
 * (the newest timestamp seen). Fed the same events in the same order, one builder gives the same
 * report as a single router would have; sums of per-replica aggregates could not.
 *
 * Each replica's log is kept in its own order (a request's feedback after the request; the
 * replica that served a request records all its feedback, ./forward.ts). Across replicas the
 * earliest head goes first, once every other reachable replica has shown it has nothing earlier:
 * a replica that is caught up vouches for everything up to its clock at the read, less `holdMs`
 * for requests still in flight there (a request event carries its arrival time and is written
 * when it is answered). A replica that does not answer vouches for nothing and is not waited
 * for: its events come in late when it returns (the report lists it as unreachable meanwhile).
 */
import type { ExperimentEvent } from '../../shared/events';

export interface StreamState {
  readonly name: string;
  /** Events read and not yet released, in the replica's log order. */
  buffer: ExperimentEvent[];
  /** Index of the next event of `buffer` to release. */
  head: number;
  /** Every event of this replica with an earlier timestamp has been read (epoch ms). */
  watermark: number;
  /** Whether the last read of this replica succeeded. */
  reachable: boolean;
}

/** A bound on buffered events: past it the earliest heads are released without waiting. */
export const MAX_BUFFERED = 500_000;

/** Releases, in time order, every event that no reachable replica can still precede; returns how many. */
export function releaseInOrder(
  streams: readonly StreamState[],
  emit: (e: ExperimentEvent, from: StreamState) => void,
): number {
  let released = 0;
  let buffered = streams.reduce((n, s) => n + s.buffer.length - s.head, 0);
  for (;;) {
    let first: StreamState | undefined;
    for (const s of streams) {
      if (s.head >= s.buffer.length) continue;
      if (!first || s.buffer[s.head]!.ts < first.buffer[first.head]!.ts) first = s;
    }
    if (!first) break;
    const event = first.buffer[first.head]!;
    if (buffered <= MAX_BUFFERED) {
      let bound = Infinity;
      for (const s of streams)
        if (s !== first && s.reachable && s.head >= s.buffer.length) bound = Math.min(bound, s.watermark);
      if (event.ts > bound) break;
    }
    first.head++;
    buffered--;
    released++;
    emit(event, first);
  }
  for (const s of streams) {
    if (s.head > 0 && s.head >= s.buffer.length) {
      s.buffer = [];
      s.head = 0;
    } else if (s.head > 4096) {
      s.buffer = s.buffer.slice(s.head);
      s.head = 0;
    }
  }
  return released;
}
