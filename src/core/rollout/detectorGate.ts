/**
 * The gate of bring-your-own detectors (`spec.drift.detectors[].gate: true`): the latest batch
 * of the baseline or the candidate that such a detector flagged (drift, or outliers) pauses the
 * rollout, like input drift does. Detectors without `gate` only show on the dashboard. Each
 * verdict is about a fresh batch, so the gate does not re-test overlapping windows; a detector's
 * own threshold (its `p_val`) sets its false-alarm rate per batch.
 */
import type { DetectorVerdict } from '../../shared/detectors';
import type { Report } from '../../shared/report';
import type { GateCheck } from './gates';
import type { RolloutState } from './state';

/** Undefined when the experiment has no gating detector: then there is no gate to show. */
export function detectorGate(state: RolloutState, report: Report): GateCheck | undefined {
  const settings = report.drift?.detectors?.settings.filter((s) => s.gate) ?? [];
  if (settings.length === 0) return undefined;
  const flagged = (report.drift?.detectors?.verdicts ?? []).filter(
    (v) => v.gate && v.flagged && (v.variant === state.candidate || v.variant === state.baseline),
  );
  const names = flagged.map(describe);
  if (names.length === 0)
    return {
      gate: {
        name: 'detector',
        ok: true,
        detail: `no flag from ${settings.map((s) => s.detector).join(', ')}`,
      },
    };
  return {
    gate: { name: 'detector', ok: false, detail: `flagged: ${names.join('; ')}` },
    stopReason: `paused: detector ${names.join('; ')} — check the data, then resume`,
  };
}

function describe(v: DetectorVerdict): string {
  const what =
    v.kind === 'drift'
      ? `drift in the last ${v.rows} requests`
      : `${v.result?.outliers ?? 0} outliers in the last ${v.rows} requests`;
  return `${v.detector}@${v.variant} (${what})`;
}
