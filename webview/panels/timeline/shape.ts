/**
 * The timeline's events: weight changes and rollout transitions from the router, and what
 * changed between two reports (decisions, SRM, guardrails, dataset drift), which the
 * dashboard keeps itself. Pure: no DOM.
 */
import type { Report, RolloutStatus, WeightChange } from '../../../src/shared/report';
import { pValue, splitText } from '../../../src/shared/format';
import { srmBanner } from '../notices/shape';
import { guardrailLabel, guardrailText } from '../shared/guardrails';

export type EventKind = 'weights' | 'decision' | 'srm' | 'guardrail' | 'drift' | 'rollout';

export interface DashEvent {
  ts: number;
  kind: EventKind;
  text: string;
  reason?: string;
}

/** Rollout transitions as events: "Progressing → Progressing at 25%", with the gate's reason. */
export function rolloutEvents(rollout: RolloutStatus | undefined): DashEvent[] {
  return (rollout?.history ?? []).map((t) => ({
    ts: t.ts,
    kind: 'rollout' as const,
    text: `rollout ${t.from} → ${t.to}${t.weight >= 0 ? ` at ${t.weight}%` : ''}`,
    reason: t.reason,
  }));
}

/** Weight changes as events: "v1 95% · v2 5% → v1 75% · v2 25%", with source and reason. */
export function weightEvents(changes: readonly WeightChange[], order: readonly string[]): DashEvent[] {
  const sorted = [...changes].sort((a, b) => a.ts - b.ts);
  return sorted.map((c, i) => {
    const before = sorted[i - 1];
    const to = splitText(c.weights, order.length ? order : undefined);
    const text = before
      ? `${splitText(before.weights, order.length ? order : undefined)} → ${to}`
      : `split ${to}`;
    const reason = [c.source, c.reason]
      .filter((x): x is string => typeof x === 'string' && x.length > 0)
      .join(': ');
    return { ts: c.ts, kind: 'weights' as const, text, ...(reason ? { reason } : {}) };
  });
}

/**
 * What changed between two reports, as events: decisions, SRM, guardrails, dataset drift.
 * The dashboard keeps them, so the timeline tells the story even without a server history.
 */
export function reportEvents(prev: Report | undefined, next: Report, ts: number): DashEvent[] {
  if (!prev || prev.experiment !== next.experiment) return [];
  const out: DashEvent[] = [];
  for (const c of next.comparisons) {
    const before = prev.comparisons.find((x) => x.variant === c.variant);
    if (before && before.decision !== c.decision)
      out.push({
        ts,
        kind: 'decision',
        text: `${c.variant}: ${before.decision} → ${c.decision}`,
        reason: c.reason,
      });
  }
  if (!prev.srm?.mismatch && next.srm?.mismatch)
    out.push({ ts, kind: 'srm', text: 'sample-ratio mismatch detected', reason: srmBanner(next) ?? '' });
  if (prev.srm?.mismatch && !next.srm?.mismatch)
    out.push({
      ts,
      kind: 'srm',
      text: 'sample ratio back in line',
      reason: `SRM p = ${pValue(next.srm.pValue)}`,
    });
  for (const g of next.guardrails) {
    const before = prev.guardrails.find((x) => x.name === g.name && x.variant === g.variant);
    if (before && before.ok && !g.ok)
      out.push({ ts, kind: 'guardrail', text: `${g.variant}: guardrail breached`, reason: guardrailText(g) });
    if (before && !before.ok && g.ok)
      out.push({
        ts,
        kind: 'guardrail',
        text: `${g.variant}: ${guardrailLabel(g.name)} back within its guardrail`,
      });
  }
  if (prev.drift && next.drift && !prev.drift.datasetDrift && next.drift.datasetDrift) {
    const drifting = next.drift.features.filter((f) => f.drift).map((f) => `${f.name}@${f.variant}`);
    out.push({ ts, kind: 'drift', text: 'input drift detected', reason: drifting.join(', ') });
  }
  return out;
}

/** Newest first, without duplicates, at most `limit`. */
export function mergeEvents(a: readonly DashEvent[], b: readonly DashEvent[], limit = 200): DashEvent[] {
  const seen = new Set<string>();
  const out: DashEvent[] = [];
  for (const e of [...a, ...b].sort((x, y) => y.ts - x.ts)) {
    const key = `${e.ts}\u0000${e.kind}\u0000${e.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
    if (out.length >= limit) break;
  }
  return out;
}
