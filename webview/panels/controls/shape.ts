/**
 * The split editor's arithmetic: the current split in whole percent, one candidate moved
 * with the baseline taking the rest, and whether a draft changes anything. Pure: no DOM.
 * (The browser's all-at-once promotion and roll back weights are in webview/shape.ts.)
 */
import type { Report } from '../../../src/shared/report';
import { shares } from '../../../src/shared/format';
import { currentWeights, variantOrder } from '../../variants';

/** The current split in whole percent, adding up to exactly 100 (the baseline takes the rest). */
export function editableSplit(report: Report): Record<string, number> {
  const order = variantOrder(report);
  const s = shares(currentWeights(report));
  const baseline = order[0];
  const out: Record<string, number> = {};
  let rest = 100;
  for (const name of order.slice(1)) {
    out[name] = Math.round((s[name] ?? 0) * 100);
    rest -= out[name];
  }
  if (baseline !== undefined) out[baseline] = Math.max(0, rest);
  return out;
}

/**
 * Moves one candidate's share to `value` percent; the baseline takes what is left, and a
 * candidate can never take more than the other candidates leave.
 */
export function withCandidateShare(
  split: Record<string, number>,
  baseline: string,
  candidate: string,
  value: number,
): Record<string, number> {
  if (candidate === baseline || !(candidate in split)) return { ...split };
  const others = Object.entries(split)
    .filter(([n]) => n !== baseline && n !== candidate)
    .reduce((s, [, v]) => s + v, 0);
  const v = Math.round(Math.min(100 - others, Math.max(0, Number.isFinite(value) ? value : 0)));
  return { ...split, [candidate]: v, [baseline]: 100 - others - v };
}

/** Whether two splits are the same (as shares). */
export function sameSplit(a: Record<string, number>, b: Record<string, number>): boolean {
  const sa = shares(a);
  const sb = shares(b);
  const names = new Set([...Object.keys(sa), ...Object.keys(sb)]);
  for (const n of names) if (Math.abs((sa[n] ?? 0) - (sb[n] ?? 0)) > 1e-9) return false;
  return true;
}
