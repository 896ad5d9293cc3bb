/**
 * The weights of the browser's one-step actions: Promote (the candidate takes all traffic)
 * and Roll back (the baseline does). Pure: no DOM; tested in node.
 *
 * Each panel shapes its own data in webview/panels/<panel>/shape.ts; the re-exports below
 * keep the older imports of charts.ts, theme.ts, uiState.ts and a unit test working.
 */
import type { Report } from '../src/shared/report';

export type { ColourKey } from './variants';
export type { DashEvent } from './panels/timeline/shape';
export { rolloutEvents } from './panels/timeline/shape';

/** Promotion at once (the browser's Promote): the candidate takes all traffic. */
export function promoteWeights(report: Report, candidate: string): Record<string, number> {
  return Object.fromEntries(report.variants.map((v) => [v.name, v.name === candidate ? 100 : 0]));
}

/** Roll back: the baseline takes all traffic. */
export function rollbackWeights(report: Report): Record<string, number> {
  return Object.fromEntries(report.variants.map((v) => [v.name, v.role === 'baseline' ? 100 : 0]));
}
