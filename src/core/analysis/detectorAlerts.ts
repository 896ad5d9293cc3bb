/** Alerts from bring-your-own detectors: a flagged latest batch, or a detector that cannot judge. */
import type { Report } from '../../shared/report';
import type { Alert } from './alerts';

/** One alert per detector × variant whose latest batch was flagged or failed; the key is stable while it lasts. */
export function detectorAlerts(report: Report): Alert[] {
  return (report.drift?.detectors?.verdicts ?? []).flatMap((v): Alert[] => {
    if (v.error !== undefined)
      return [
        {
          key: `drift:detector:${v.detector}:${v.variant}:error`,
          kind: 'drift',
          severity: 'warning',
          variant: v.variant,
          subject: `detector:${v.detector}:error`,
          message: `${v.variant}: detector ${v.detector} could not judge its last batch — ${v.error}`,
        },
      ];
    if (!v.flagged) return [];
    const what =
      v.kind === 'drift'
        ? `drift in the last ${v.rows} requests`
        : `${v.result?.outliers ?? 0} outliers in the last ${v.rows} requests`;
    return [
      {
        key: `drift:detector:${v.detector}:${v.variant}`,
        kind: 'drift',
        severity: v.gate ? 'error' : 'warning',
        variant: v.variant,
        // Webhook labels carry it as the drift alert's `feature`: one alert per detector × variant.
        subject: `detector:${v.detector}`,
        message: `${v.variant}: detector ${v.detector} flags ${what}`,
      },
    ];
  });
}
