/**
 * What the detector holds per variant: the inputs of its most recent requests (one column array
 * per feature, indexed by the TimeWindow's slots) and its scored requests as two prediction
 * windows, the earliest ones (its own reference) and the most recent after them.
 */
import { TimeWindow } from './window';

/** Scored requests of one variant held by timestamp, proba and class per slot. */
export class PredictionWindow {
  readonly rows: TimeWindow;
  readonly proba: Float64Array;
  readonly cls: (string | undefined)[];
  constructor(capacity: number, keep: 'latest' | 'earliest') {
    this.rows = new TimeWindow(capacity, keep);
    this.proba = new Float64Array(capacity);
    this.cls = new Array<string | undefined>(capacity);
  }
}

/** The input and prediction windows of one variant. */
export class VariantWindows {
  readonly inputs: TimeWindow;
  readonly numeric: Float64Array[];
  readonly categorical: (string | undefined)[][];
  readonly predReference: PredictionWindow;
  readonly predCurrent: PredictionWindow;
  constructor(window: number, nNumeric: number, nCategorical: number) {
    this.inputs = new TimeWindow(window, 'latest');
    this.numeric = Array.from({ length: nNumeric }, () => new Float64Array(window));
    this.categorical = Array.from({ length: nCategorical }, () => new Array<string | undefined>(window));
    this.predReference = new PredictionWindow(window, 'earliest');
    this.predCurrent = new PredictionWindow(window, 'latest');
  }
}

/** Record one scored request: into the reference while it fills (or for an earlier request), else into the current window. */
export function observePrediction(
  state: VariantWindows,
  ts: number,
  proba: number,
  cls: string | undefined,
): void {
  const ref = state.predReference;
  const slot = ref.rows.admit(ts);
  if (slot < 0) {
    pushPrediction(state.predCurrent, ts, proba, cls);
    return;
  }
  const evictedTs = ref.rows.evictedTs;
  const evictedProba = ref.proba[slot] as number;
  const evictedCls = ref.cls[slot];
  ref.proba[slot] = proba;
  ref.cls[slot] = cls;
  // A late request older than the reference's newest pushes that one into the current window.
  if (!Number.isNaN(evictedTs)) pushPrediction(state.predCurrent, evictedTs, evictedProba, evictedCls);
}

function pushPrediction(w: PredictionWindow, ts: number, proba: number, cls: string | undefined): void {
  const slot = w.rows.admit(ts);
  if (slot < 0) return;
  w.proba[slot] = proba;
  w.cls[slot] = cls;
}
