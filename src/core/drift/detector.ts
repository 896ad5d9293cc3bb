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
 * - Decision: p-value tests use one correction across features × variants (Alibi Detect's
 *   per-batch rule, widened to every variant so `datasetDrift` holds its level): Bonferroni
 *   p < pValue / m, or Benjamini–Hochberg at q = pValue, where m is the number of features tested
 *   with a p-value times the number of variants with traffic (entries missing yet count as p = 1).
 *   Distance tests have no p-value (`pValue` is NaN — JSON null — because the report's type is
 *   a number) and drift above a fixed threshold: PSI > 0.2, normed Wasserstein > 0.1,
 *   Jensen–Shannon > 0.1 (see ./distances).
 * - `threshold` in the report: Bonferroni's pValue / m; with `fdr`, the FDR level q itself (each
 *   entry's `drift` carries the Benjamini–Hochberg decision).
 * - `variants`: per variant, whether any of its features drifts; `datasetDrift`: any of them.
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
 *
 * Model input (graph variants, `drift.modelInput`)
 * - The tensor a graph's model receives (a transformer's output) is tested like the features, with
 *   the same tests, window and correction, against its own reference CSV (columns in the tensor's
 *   column order). It is its own family: the correction spans its columns × the variants that
 *   recorded it, and `datasetDrift` (which a rollout acts on) stays the raw request's.
 */
import type { DriftReport, FeatureDrift, ModelInputDrift, PredictionDrift } from '../../shared/report';
import { benjaminiHochberg, bonferroniThreshold } from './corrections';
import {
  distanceThreshold,
  hasPValue,
  planFeatures,
  testFeature,
  toCategory,
  toNumber,
  type Feature,
} from './features';
import { testPrediction } from './predictions';
import type { ReferenceData } from './reference';
import type { DriftSettings, FeaturePlan } from './settings';
import type { DetectorEvent } from '../../shared/detectors';
import { DetectorVerdicts } from './verdicts';
import { VariantWindows, observePrediction } from './variantWindows';

export { parseCsv } from './reference';
export type { ReferenceData } from './reference';
export type { DriftSettings, DriftTest, FeaturePlan, FeatureType } from './settings';

export type DriftInputs = Record<string, number | string>;
export interface DriftOutputs {
  predict?: number | string;
  proba?: number;
}

export const MIN_FEATURE_SAMPLES = 30;
export const MIN_PREDICTION_SAMPLES = 50;

/** Feature and prediction drift of every variant against the experiment's reference data. */
export class DriftDetector {
  private readonly features: Feature[];
  private readonly nNumeric: number;
  private readonly nCategorical: number;
  private readonly variants = new Map<string, VariantWindows>();
  private readonly verdicts: DetectorVerdicts;
  /** Drift of the model's input in graph variants, when the experiment names it and its reference. */
  private readonly modelInput: { tensor: string; detector: DriftDetector } | undefined;

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
    this.verdicts = new DetectorVerdicts(settings.detectors ?? []);
    this.nNumeric = this.features.filter((f) => f.type === 'numeric').length;
    this.nCategorical = this.features.length - this.nNumeric;
    const modelInput = settings.modelInput;
    if (modelInput && reference.modelInput) {
      const { detectors: _detectors, modelInput: _own, ...plain } = settings;
      this.modelInput = {
        tensor: modelInput.tensor,
        detector: new DriftDetector(
          { ...plain, reference: modelInput.reference, features: 'auto' },
          reference.modelInput,
        ),
      };
    }
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
    modelInputs?: DriftInputs,
  ): void {
    if (modelInputs != null) this.modelInput?.detector.observe(variant, ts, modelInputs, undefined);
    let state = this.variants.get(variant);
    if (state === undefined) {
      state = new VariantWindows(this.settings.window, this.nNumeric, this.nCategorical);
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

  /** Folds a bring-your-own detector's verdict on a batch (./verdicts.ts). */
  verdict(event: DetectorEvent): void {
    this.verdicts.ingest(event);
  }

  /** The drift section of the report, computed from the windows held now. */
  report(): DriftReport {
    const { pValue, correction, window } = this.settings;
    // The family is every feature tested with a p-value in every variant with traffic, so that
    // datasetDrift (any of them) holds its nominal level however many variants there are.
    const m = this.features.filter((f) => hasPValue(f.test)).length * Math.max(1, this.variants.size);
    const threshold = correction === 'bonferroni' ? bonferroniThreshold(pValue, m) : pValue;
    const minFeature = Math.min(MIN_FEATURE_SAMPLES, window);
    const minPrediction = Math.min(MIN_PREDICTION_SAMPLES, window);
    const features: FeatureDrift[] = [];
    const prediction: PredictionDrift[] = [];
    for (const [variant, state] of this.variants) {
      for (const f of this.features) {
        const result = testFeature(f, state, minFeature);
        if (result === undefined) continue;
        features.push({ name: f.name, variant, ...result, drift: false });
      }
      const pred = testPrediction(state, minPrediction);
      if (pred !== undefined) prediction.push({ variant, ...pred, drift: pred.pValue < pValue });
    }
    const tested = features.filter((e) => hasPValue(e.test));
    const flags =
      correction === 'bonferroni'
        ? tested.map((e) => e.pValue < threshold)
        : benjaminiHochberg(
            tested.map((e) => e.pValue),
            pValue,
            m,
          ).drift;
    tested.forEach((e, i) => (e.drift = flags[i] ?? false));
    for (const e of features) if (!hasPValue(e.test)) e.drift = e.statistic > distanceThreshold(e.test);
    const variants = [...this.variants.keys()].map((variant) => ({
      variant,
      drift: features.some((f) => f.variant === variant && f.drift),
    }));
    return {
      reference: this.settings.reference,
      window,
      correction,
      threshold,
      features,
      prediction,
      variants,
      datasetDrift: features.some((f) => f.drift),
      ...withDetectors(this.verdicts.report()),
      ...(this.modelInput ? { modelInput: this.modelInputReport(this.modelInput) } : {}),
    };
  }

  private modelInputReport(m: { tensor: string; detector: DriftDetector }): ModelInputDrift {
    const {
      prediction: _prediction,
      detectors: _detectors,
      modelInput: _nested,
      ...drift
    } = m.detector.report();
    return { tensor: m.tensor, ...drift };
  }
}

function withDetectors(detectors: DriftReport['detectors']): Pick<DriftReport, 'detectors'> {
  return detectors ? { detectors } : {};
}
