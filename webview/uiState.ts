/**
 * What the dashboard remembers across reloads (VS Code getState/setState, sessionStorage in
 * a browser): the last state it drew, so it comes back at once, and the history it built
 * from successive reports (drift p-values, snapshots, events). Pure; tested in node.
 */
import { isHostToWebview } from '../src/shared/protocol';
import type { DashboardState, DriftSample } from '../src/shared/protocol';
import type { DashEvent } from './panels/timeline/shape';
import type { Snapshot } from './series';

export interface UiState {
  v: 1;
  /**
   * The experiment on show, at the top level for the extension's WebviewPanelSerializer
   * (it receives this state and reopens the panel for `state.experiment`).
   */
  experiment?: string;
  last?: DashboardState;
  drift: DriftSample[];
  snapshots: Snapshot[];
  events: DashEvent[];
  /** The drift feature whose history is open. */
  feature?: string;
}

export const emptyUiState = (): UiState => ({ v: 1, drift: [], snapshots: [], events: [] });

/** Points of the report's timeline kept in saved state (the host resends the full one). */
const SAVED_TIMELINE_POINTS = 600;

/** Restores saved state, dropping whatever does not look right (an older version, a corrupt store). */
export function restoreUiState(saved: unknown): UiState {
  const s = saved as Partial<UiState> | null | undefined;
  if (!s || typeof s !== 'object' || s.v !== 1) return emptyUiState();
  const out = emptyUiState();
  if (s.last && isHostToWebview({ ...s.last, type: 'state' })) {
    out.last = s.last;
    out.experiment = s.last.experiment;
  } else if (typeof s.experiment === 'string' && s.experiment) out.experiment = s.experiment;
  if (Array.isArray(s.drift))
    out.drift = s.drift.filter(
      (d) => d && typeof d.ts === 'number' && typeof d.feature === 'string' && typeof d.variant === 'string',
    );
  if (Array.isArray(s.snapshots))
    out.snapshots = s.snapshots.filter(
      (x) => x && typeof x.ts === 'number' && typeof x.variants === 'object',
    );
  if (Array.isArray(s.events))
    out.events = s.events.filter((e) => e && typeof e.ts === 'number' && typeof e.text === 'string');
  if (typeof s.feature === 'string') out.feature = s.feature;
  return out;
}

/** The state to save: the last report with its timeline cut to the most recent points. */
export function stateForStorage(ui: UiState): UiState {
  const last = ui.last;
  const timeline = last?.report?.timeline;
  if (!last || !last.report || !timeline || timeline.points.length <= SAVED_TIMELINE_POINTS) return ui;
  return {
    ...ui,
    last: {
      ...last,
      report: {
        ...last.report,
        timeline: { ...timeline, points: timeline.points.slice(-SAVED_TIMELINE_POINTS) },
      },
    },
  };
}
