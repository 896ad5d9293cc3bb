/**
 * The verdicts of bring-your-own detectors (src/shared/detectors.ts): the latest batch of each
 * detector × variant, with counts over the run. The detectors run in MLServer; the router logs
 * what they said as `detector` events, and this folds them like any other event, so a replay
 * of the log gives the same verdicts.
 */
import type { DetectorSpec } from '../spec/detectorSpec';
import {
  isFlagged,
  type DetectorEvent,
  type DetectorsReport,
  type DetectorVerdict,
} from '../../shared/detectors';

export class DetectorVerdicts {
  private readonly latest = new Map<string, DetectorVerdict>();
  private readonly specs: ReadonlyMap<string, DetectorSpec>;

  constructor(specs: readonly DetectorSpec[]) {
    this.specs = new Map(specs.map((d) => [d.name, d]));
  }

  /** Folds one judged (or failed) batch; a detector the experiment no longer names is ignored. */
  ingest(e: DetectorEvent): void {
    const spec = this.specs.get(e.detector);
    if (!spec) return;
    const key = `${e.detector}\u0000${e.variant}`;
    const before = this.latest.get(key);
    const flagged = e.error === undefined && isFlagged(spec.kind, e.result);
    this.latest.set(key, {
      detector: e.detector,
      kind: spec.kind,
      variant: e.variant,
      gate: spec.gate,
      flagged,
      batches: (before?.batches ?? 0) + (e.error === undefined ? 1 : 0),
      flaggedBatches: (before?.flaggedBatches ?? 0) + (flagged ? 1 : 0),
      failedBatches: (before?.failedBatches ?? 0) + (e.error === undefined ? 0 : 1),
      ts: e.ts,
      rows: e.rows,
      ...(e.result ? { result: e.result } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
    });
  }

  /** The report's `drift.detectors`, undefined when the experiment names none. */
  report(): DetectorsReport | undefined {
    if (this.specs.size === 0) return undefined;
    return {
      settings: [...this.specs.values()].map((d) => ({
        detector: d.name,
        kind: d.kind,
        gate: d.gate,
        batchSize: d.batchSize,
        features: [...d.features],
      })),
      verdicts: [...this.latest.values()].map((v) => ({ ...v })),
    };
  }
}
