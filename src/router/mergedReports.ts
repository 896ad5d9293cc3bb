/**
 * The seam between the router's state and the replicas' merged report (./replicas/): RouterCore
 * asks it first and falls back to its own builders when it answers undefined.
 */
import type { Report } from '../shared/report';

export interface MergedReports {
  /** The merged report of the current run, on the leader of several replicas; else undefined. */
  report(name: string, now?: number): Report | undefined;
  /** Every experiment's merged report (the leader), none (a follower), or undefined (no replicas). */
  cachedReports(): Report[] | undefined;
}
