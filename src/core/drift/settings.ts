/** The drift settings an experiment file gives, and the features the detector plans from them. */
import type { DetectorSpec } from '../spec/detectorSpec';

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
  /** Bring-your-own Alibi Detect detectors (../spec/detectorSpec.ts). */
  detectors?: DetectorSpec[];
  /**
   * Drift on the model's input in graph variants: the tensor (a graph reference such as
   * `features.outputs.features`) whose first row the router records, and its reference CSV.
   */
  modelInput?: { tensor: string; reference: string };
}

/** A feature as the detector tests it. */
export interface FeaturePlan {
  name: string;
  type: FeatureType;
  test: DriftTest;
}
