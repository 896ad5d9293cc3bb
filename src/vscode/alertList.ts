/**
 * The problems-style list of an experiment's alerts in the Experiments tree: what is wrong now
 * (guardrails, SRM, drift, worst first) and, when the rollout's last transition rolled it back or
 * failed, that transition. The same evaluator (`alertsOf`) the router's webhooks and `watch` use.
 * No `vscode` import, so it is tested in the unit tier.
 */
import { alertsOf, type Alert } from '../core/analysis/alerts';
import type { Report } from '../shared/report';

const RANK: Record<Alert['severity'], number> = { error: 0, warning: 1, info: 2 };

/** The report's current alerts, worst first; rollout history only as its last transition, when it is bad. */
export function currentAlerts(report: Report): Alert[] {
  const all = alertsOf(report);
  const conditions = all.filter((a) => a.kind !== 'rollout');
  const last = all.filter((a) => a.kind === 'rollout').at(-1);
  const list = last && last.severity === 'error' ? [...conditions, last] : conditions;
  return list
    .map((a, i) => ({ a, i }))
    .sort((x, y) => RANK[x.a.severity] - RANK[y.a.severity] || x.i - y.i)
    .map((x) => x.a);
}

/** "2 errors · 1 warning". */
export function alertsSummary(alerts: readonly Alert[]): string {
  const count = (severity: Alert['severity'], word: string): string | undefined => {
    const n = alerts.filter((a) => a.severity === severity).length;
    return n ? `${n} ${word}${n === 1 ? '' : 's'}` : undefined;
  };
  return [count('error', 'error'), count('warning', 'warning'), count('info', 'notice')]
    .filter(Boolean)
    .join(' · ');
}
