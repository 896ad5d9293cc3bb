/**
 * The drift section of the report: feature drift of each variant's recent traffic against the
 * experiment's reference data, and prediction drift of each variant against its own early
 * predictions. Methods (contract: docs "Report" and "Methods"):
 *
 * Features
 * - `features: auto` = every reference column that has values; a column whose values are all
 *   numbers is numeric, any other is categorical; `{name, type}` entries force the type.
 * - Tests per feature: `test: auto` → KS (scipy ks_2samp, auto method) for numeric features,
 *   chi-square homogeneity (scipy chi2_contingency, no correction) for categorical ones.
 *   `ks` on a categorical feature and `wasserstein` on a categorical feature use chi-square
 *   (neither is defined on unordered categories). `chi2`, `psi` and `jensenshannon` on a numeric
 *   feature work on the reference-decile bins of ./distances; on a categorical one, on categories.
 * - Current data: per variant, the `window` most recent requests with inputs, by timestamp
 *   (./window; late arrivals older than everything kept are dropped). Memory is bounded by
 *   window × features per variant. A numeric input that is not a finite number (or a numeric
 *   string) counts as missing; categorical values are compared as strings.
 * - A feature reports no entry until the variant's window holds at least
 *   min(MIN_FEATURE_SAMPLES = 30, window) values of it.
 * - Decision: p-value tests use the correction across the variant's features, as Alibi Detect
 *   does per batch: Bonferroni p < pValue / m, or Benjamini–Hochberg at q = pValue, where m is
 *   the number of features tested with a p-value (features without an entry yet count as p = 1).
 *   Distance tests have no p-value (`pValue` is NaN — JSON null — because the report's type is
 *   a number) and drift above a fixed threshold: PSI > 0.2, normed Wasserstein > 0.1,
 *   Jensen–Shannon > 0.1 (see ./distances).
 * - `threshold` in the report: Bonferroni's pValue / m; with `fdr`, the FDR level q itself (the
 *   Benjamini–Hochberg cut-off differs per variant, each entry's `drift` carries the decision).
 * - `datasetDrift`: any feature entry of any variant drifts.
 *
 * Predictions
 * - The reference CSV has no predictions, so each variant's prediction reference is its own first
 *   `window` scored requests (earliest timestamps); later requests form the current window (the
 *   `window` most recent after the reference). The two windows never overlap, so the test asks
 *   "has this variant's output moved since it started serving?".
 * - Score `proba` → KS; otherwise the predicted class → chi-square. Single test: drift when
 *   p < pValue (no correction).
 * - No entry until the current window holds min(MIN_PREDICTION_SAMPLES = 50, window) scored
 *   requests (the reference is full by then).
 */
import type { DriftReport, FeatureDrift, PredictionDrift } from '../../shared/report';
import { alignCounts, chi2Homogeneity, countCategories } from './chi2';
import { benjaminiHochberg, bonferroniThreshold } from './corrections';
import {
  JENSEN_SHANNON_THRESHOLD,
  PSI_THRESHOLD,
  WASSERSTEIN_MIN_SCALE,
  WASSERSTEIN_THRESHOLD,
  binCounts,
  jensenShannon,
  populationStd,
  psi,
  quantileEdges,
  wassersteinSorted,
} from './distances';
import { ks2sampSorted } from './ks';
import type { ReferenceData } from './reference';
import { TimeWindow } from './window';

export { parseCsv } from './reference';
export type { ReferenceData } from './reference';

export type DriftTest = 'ks' | 'chi2' | 'psi' | 'wasserstein' | 'jensenshannon';
export type FeatureType = 'numeric' | 'categorical';

/** The experiment file's `drift:` section (after defaults). */
export interface DriftSettings {
  reference: string;
  features: 'auto' | (string | { name: string; type: FeatureType })[];
  test: 'auto' | DriftTest;
  pValue: number;
  correction: 'bonferroni' | 'fdr';
  window: number;
}

export type DriftInputs = Record<string, number | string>;
export interface DriftOutputs {
  predict?: number | string;
  proba?: number;
}

/** A feature as the detector tests it. */
export interface FeaturePlan {
  name: string;
  type: FeatureType;
  test: DriftTest;
}

export const MIN_FEATURE_SAMPLES = 30;
export const MIN_PREDICTION_SAMPLES = 50;

interface NumericFeature extends FeaturePlan {
  type: 'numeric';
  column: number;
  refSorted: Float64Array;
  edges: Float64Array;
  refBins: Float64Array;
  refScale: number;
}

interface CategoricalFeature extends FeaturePlan {
  type: 'categorical';
  column: number;
  refCounts: Map<string, number>;
}

type Feature = NumericFeature | CategoricalFeature;

/** Scored requests of one variant held by timestamp, proba and class per slot. */
class PredictionWindow {
  readonly rows: TimeWindow;
  readonly proba: Float64Array;
  readonly cls: (string | undefined)[];
  constructor(capacity: number, keep: 'latest' | 'earliest') {
    this.rows = new TimeWindow(capacity, keep);
    this.proba = new Float64Array(capacity);
    this.cls = new Array<string | undefined>(capacity);
  }
}

class VariantState {
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

/** Feature and prediction drift of every variant against the experiment's reference data. */
export class DriftDetector {
  private readonly features: Feature[];
  private readonly nNumeric: number;
  private readonly nCategorical: number;
  private readonly variants = new Map<string, VariantState>();

  constructor(
    private readonly settings: DriftSettings,
    reference: ReferenceData,
  ) {
    if (!Number.isInteger(settings.window) || settings.window < 1) {
      throw new RangeError(
        `drift.window must be a positive whole number of requests (got ${settings.window})`,
      );
    }
    if (!(settings.pValue > 0 && settings.pValue < 1)) {
      throw new RangeError(`drift.pValue must be between 0 and 1, for example 0.05 (got ${settings.pValue})`);
    }
    this.features = planFeatures(settings, reference);
    this.nNumeric = this.features.filter((f) => f.type === 'numeric').length;
    this.nCategorical = this.features.length - this.nNumeric;
  }

  /** The features tested, with their type and test. */
  plan(): FeaturePlan[] {
    return this.features.map(({ name, type, test }) => ({ name, type, test }));
  }

  /** Record one non-shadow request of a variant (inputs for feature drift, outputs for prediction drift). */
  observe(
    variant: string,
    ts: number,
    inputs: DriftInputs | undefined,
    outputs: DriftOutputs | undefined,
  ): void {
    let state = this.variants.get(variant);
    if (state === undefined) {
      state = new VariantState(this.settings.window, this.nNumeric, this.nCategorical);
      this.variants.set(variant, state);
    }
    if (inputs != null && this.features.length > 0) {
      const slot = state.inputs.admit(ts);
      if (slot >= 0) {
        for (const f of this.features) {
          const raw = inputs[f.name] as unknown;
          if (f.type === 'numeric') (state.numeric[f.column] as Float64Array)[slot] = toNumber(raw);
          else (state.categorical[f.column] as (string | undefined)[])[slot] = toCategory(raw);
        }
      }
    }
    if (outputs != null) {
      const p = outputs.proba as unknown;
      const proba = typeof p === 'number' && Number.isFinite(p) ? p : NaN;
      const cls = toCategory(outputs.predict as unknown);
      if (!Number.isNaN(proba) || cls !== undefined) observePrediction(state, ts, proba, cls);
    }
  }

  /** The drift section of the report, computed from the windows held now. */
  report(): DriftReport {
    const { pValue, correction, window } = this.settings;
    const m = this.features.filter((f) => hasPValue(f.test)).length;
    const threshold = correction === 'bonferroni' ? bonferroniThreshold(pValue, m) : pValue;
    const minFeature = Math.min(MIN_FEATURE_SAMPLES, window);
    const minPrediction = Math.min(MIN_PREDICTION_SAMPLES, window);
    const features: FeatureDrift[] = [];
    const prediction: PredictionDrift[] = [];
    for (const [variant, state] of this.variants) {
      const entries: FeatureDrift[] = [];
      for (const f of this.features) {
        const result = testFeature(f, state, minFeature);
        if (result === undefined) continue;
        entries.push({ name: f.name, variant, ...result, drift: false });
      }
      const tested = entries.filter((e) => hasPValue(e.test));
      const flags =
        correction === 'bonferroni'
          ? tested.map((e) => e.pValue < threshold)
          : benjaminiHochberg(
              tested.map((e) => e.pValue),
              pValue,
              m,
            ).drift;
      tested.forEach((e, i) => (e.drift = flags[i] ?? false));
      for (const e of entries) if (!hasPValue(e.test)) e.drift = e.statistic > distanceThreshold(e.test);
      features.push(...entries);
      const pred = testPrediction(state, minPrediction);
      if (pred !== undefined) prediction.push({ variant, ...pred, drift: pred.pValue < pValue });
    }
    return {
      reference: this.settings.reference,
      window,
      correction,
      threshold,
      features,
      prediction,
      datasetDrift: features.some((f) => f.drift),
    };
  }
}

function hasPValue(test: string): boolean {
  return test === 'ks' || test === 'chi2';
}

function distanceThreshold(test: string): number {
  if (test === 'psi') return PSI_THRESHOLD;
  if (test === 'wasserstein') return WASSERSTEIN_THRESHOLD;
  return JENSEN_SHANNON_THRESHOLD;
}

function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : NaN;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const v = Number(raw);
    return Number.isFinite(v) ? v : NaN;
  }
  return NaN;
}

function toCategory(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return undefined;
}

function observePrediction(state: VariantState, ts: number, proba: number, cls: string | undefined): void {
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

type TestResult = { test: DriftTest; statistic: number; pValue: number };

function testFeature(f: Feature, state: VariantState, minSamples: number): TestResult | undefined {
  const size = state.inputs.length;
  if (f.type === 'numeric') {
    const column = state.numeric[f.column] as Float64Array;
    let count = 0;
    for (let i = 0; i < size; i++) if (!Number.isNaN(column[i] as number)) count++;
    if (count < minSamples) return undefined;
    const cur = new Float64Array(count);
    let k = 0;
    for (let i = 0; i < size; i++) {
      const v = column[i] as number;
      if (!Number.isNaN(v)) cur[k++] = v;
    }
    cur.sort();
    switch (f.test) {
      case 'ks': {
        const r = ks2sampSorted(f.refSorted, cur, 'auto');
        return { test: 'ks', statistic: r.statistic, pValue: r.pValue };
      }
      case 'chi2': {
        const r = chi2Homogeneity(f.refBins, binCounts(f.edges, cur));
        return { test: 'chi2', statistic: r.statistic, pValue: r.pValue };
      }
      case 'psi':
        return { test: 'psi', statistic: psi(f.refBins, binCounts(f.edges, cur)), pValue: NaN };
      case 'jensenshannon':
        return {
          test: 'jensenshannon',
          statistic: jensenShannon(f.refBins, binCounts(f.edges, cur)),
          pValue: NaN,
        };
      case 'wasserstein':
        return {
          test: 'wasserstein',
          statistic: wassersteinSorted(f.refSorted, cur) / f.refScale,
          pValue: NaN,
        };
    }
  }
  const column = state.categorical[f.column] as (string | undefined)[];
  const values: string[] = [];
  for (let i = 0; i < size; i++) {
    const v = column[i];
    if (v !== undefined) values.push(v);
  }
  if (values.length < minSamples) return undefined;
  const [ref, cur] = alignCounts(f.refCounts, countCategories(values));
  if (f.test === 'psi') return { test: 'psi', statistic: psi(ref, cur), pValue: NaN };
  if (f.test === 'jensenshannon')
    return { test: 'jensenshannon', statistic: jensenShannon(ref, cur), pValue: NaN };
  const r = chi2Homogeneity(ref, cur);
  return { test: 'chi2', statistic: r.statistic, pValue: r.pValue };
}

function testPrediction(state: VariantState, minSamples: number): TestResult | undefined {
  const ref = state.predReference;
  const cur = state.predCurrent;
  if (cur.rows.length < minSamples) return undefined;
  const refProba = finiteSorted(ref.proba, ref.rows.length);
  const curProba = finiteSorted(cur.proba, cur.rows.length);
  if (refProba.length >= minSamples && curProba.length >= minSamples) {
    const r = ks2sampSorted(refProba, curProba, 'auto');
    return { test: 'ks', statistic: r.statistic, pValue: r.pValue };
  }
  const refCls = definedValues(ref.cls, ref.rows.length);
  const curCls = definedValues(cur.cls, cur.rows.length);
  if (refCls.length < minSamples || curCls.length < minSamples) return undefined;
  const [r, c] = alignCounts(countCategories(refCls), countCategories(curCls));
  const res = chi2Homogeneity(r, c);
  return { test: 'chi2', statistic: res.statistic, pValue: res.pValue };
}

function finiteSorted(values: Float64Array, size: number): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

function definedValues(values: (string | undefined)[], size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < size; i++) {
    const v = values[i];
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Resolve the configured features against the reference data and prepare each one's reference side. */
function planFeatures(settings: DriftSettings, reference: ReferenceData): Feature[] {
  const requested: { name: string; type?: FeatureType; explicit: boolean }[] =
    settings.features === 'auto'
      ? reference.columns.map((name) => ({ name, explicit: false }))
      : settings.features.map((f) =>
          typeof f === 'string'
            ? { name: f, explicit: true }
            : { name: f.name, type: f.type, explicit: true },
        );
  const known = new Set(reference.columns);
  const features: Feature[] = [];
  let numericColumn = 0;
  let categoricalColumn = 0;
  for (const r of requested) {
    if (!known.has(r.name)) {
      throw new Error(
        `drift feature "${r.name}" is not a column of ${settings.reference} ` +
          `(its columns: ${reference.columns.join(', ') || 'none'}) — fix the name in drift.features`,
      );
    }
    const raw = reference.rows
      .map((row) => row[r.name] as unknown)
      .filter((v) => v !== undefined && v !== null);
    const type: FeatureType = r.type ?? (raw.every((v) => typeof v === 'number') ? 'numeric' : 'categorical');
    if (type === 'numeric') {
      const values = Float64Array.from(raw.map(toNumber).filter((v) => !Number.isNaN(v))).sort();
      if (values.length === 0) {
        if (!r.explicit) continue;
        throw new Error(`drift feature "${r.name}" has no numeric values in ${settings.reference}`);
      }
      const edges = quantileEdges(values);
      features.push({
        name: r.name,
        type,
        test: numericTest(settings.test),
        column: numericColumn++,
        refSorted: values,
        edges,
        refBins: binCounts(edges, values),
        refScale: Math.max(populationStd(values), WASSERSTEIN_MIN_SCALE),
      });
    } else {
      const values = raw.map(toCategory).filter((v): v is string => v !== undefined);
      if (values.length === 0) {
        if (!r.explicit) continue;
        throw new Error(`drift feature "${r.name}" has no values in ${settings.reference}`);
      }
      features.push({
        name: r.name,
        type,
        test: categoricalTest(settings.test),
        column: categoricalColumn++,
        refCounts: countCategories(values),
      });
    }
  }
  return features;
}

function numericTest(test: DriftSettings['test']): DriftTest {
  return test === 'auto' ? 'ks' : test;
}

function categoricalTest(test: DriftSettings['test']): DriftTest {
  return test === 'psi' || test === 'jensenshannon' ? test : 'chi2';
}
