/**
 * Alerts from a report: the thresholds of the experiment (guardrails, SRM, drift) and the
 * rollout's transitions, each with a stable key so a watcher reports each one once.
 */
import type { Report } from '../../shared/report';
import { detectorAlerts } from './detectorAlerts';

export interface Alert {
  key: string;
  kind: 'guardrail' | 'srm' | 'drift' | 'rollout';
  severity: 'warning' | 'error' | 'info';
  message: string;
  /** The variant it is about, when it is about one. */
  variant?: string;
  /** What it is about: the guardrail, or the feature (`prediction` for the predictions). */
  subject?: string;
  /** For a rollout transition: when it happened (epoch ms). */
  at?: number;
}

/** Everything alarming in a report right now (plus the rollout history). */
export function alertsOf(report: Report): Alert[] {
  const out: Alert[] = [];
  for (const g of report.guardrails) {
    if (!g.ok)
      out.push({
        key: `guardrail:${g.name}:${g.variant}`,
        kind: 'guardrail',
        severity: 'error',
        variant: g.variant,
        subject: g.name,
        message: `${g.variant}: ${g.detail ?? `${g.name} ${round(g.value)} over its limit ${g.limit}`}`,
      });
  }
  if (report.srm.mismatch) {
    out.push({
      key: 'srm',
      kind: 'srm',
      severity: 'error',
      message: `sample-ratio mismatch (p = ${report.srm.pValue.toExponential(1)}): the observed split does not match the weights`,
    });
  }
  for (const f of report.drift?.features ?? []) {
    if (f.drift)
      out.push({
        key: `drift:${f.name}:${f.variant}`,
        kind: 'drift',
        severity: 'warning',
        variant: f.variant,
        subject: f.name,
        message: `${f.variant}: feature ${f.name} drifts (${f.test}, p = ${f.pValue.toExponential(1)})`,
      });
  }
  for (const p of report.drift?.prediction ?? []) {
    if (p.drift)
      out.push({
        key: `drift:prediction:${p.variant}`,
        kind: 'drift',
        severity: 'warning',
        variant: p.variant,
        subject: 'prediction',
        message: `${p.variant}: the prediction distribution drifts (${p.test}, p = ${p.pValue.toExponential(1)})`,
      });
  }
  out.push(...detectorAlerts(report));
  for (const h of report.rollout?.history ?? []) {
    out.push({
      key: `rollout:${h.ts}:${h.to}:${h.step}`,
      kind: 'rollout',
      severity: h.to === 'RolledBack' || h.to === 'Failed' ? 'error' : 'info',
      subject: h.to,
      at: h.ts,
      message: `rollout ${h.from} → ${h.to}: ${h.reason}`,
    });
  }
  return out;
}

function round(x: number): string {
  return String(Number(x.toPrecision(3)));
}
