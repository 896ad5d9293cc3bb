/** Drift detection: statistical tests and distances on feature and prediction windows (see detector.ts). */
export { ks2samp, ks2sampSorted, ksStatisticSorted, KS_MAX_AUTO_N } from './ks';
export type { KsMethod, KsResult } from './ks';
export { kstwoSf, smirnov } from './kolmogorov';
export { chi2Homogeneity, chi2Categories, chi2Sf, countCategories, alignCounts } from './chi2';
export type { Chi2Result, CategoryCounts } from './chi2';
export {
  psi,
  jensenShannon,
  wasserstein,
  wassersteinNormed,
  quantileEdges,
  quantileSorted,
  binCounts,
  binIndex,
  PSI_THRESHOLD,
  PSI_EPSILON,
  WASSERSTEIN_THRESHOLD,
  JENSEN_SHANNON_THRESHOLD,
} from './distances';
export { bonferroni, bonferroniThreshold, benjaminiHochberg } from './corrections';
export type { CorrectionResult } from './corrections';
export { DriftDetector, MIN_FEATURE_SAMPLES, MIN_PREDICTION_SAMPLES, parseCsv } from './detector';
export type {
  DriftSettings,
  DriftTest,
  FeatureType,
  FeaturePlan,
  ReferenceData,
  DriftInputs,
  DriftOutputs,
} from './detector';
export { TimeWindow } from './window';
