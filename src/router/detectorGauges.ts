/**
 * Bring-your-own detectors on /metrics: whether each detector's latest batch of a variant was
 * flagged (docs/drift.md#bring-your-own-detectors). Read from the live report on each scrape, like
 * the built-in drift gauges (./reportGauges.ts); the detectors are the experiment file's, so the
 * series are bounded by detectors × variants (docs/monitoring.md, "Cardinality").
 */
import { Gauge, type Registry } from 'prom-client';
import { METRICS } from '../shared/metricNames';
import type { Report } from '../shared/report';

/** Registers the detector gauge on `registry`; `reports` is the cached live reports. */
export function registerDetectorGauges(registry: Registry, reports: () => Report[]): void {
  new Gauge({
    name: METRICS.detectorFlagged,
    help: "Whether a bring-your-own detector flagged its latest batch of a variant's requests (1: drift or outliers) or not (0).",
    labelNames: ['experiment', 'variant', 'detector', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of reports())
        for (const v of r.drift?.detectors?.verdicts ?? [])
          if (v.error === undefined)
            this.set(
              { experiment: r.experiment, variant: v.variant, detector: v.detector, kind: v.kind },
              v.flagged ? 1 : 0,
            );
    },
  });
}
