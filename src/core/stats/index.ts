/**
 * A/B statistics for the report: proportions (z-test, Newcombe and log risk-ratio
 * intervals, chance to beat), always-valid sequential p-values, Welch's t-test on running
 * moments, sample-ratio mismatch, sample size and multiple-comparison corrections. Pure
 * functions; each module's header names the method and the library it matches.
 */
export {
  chanceToBeatBaseline,
  newcombeDiffCI,
  relativeLiftCI,
  twoProportionZTest,
  wilsonInterval,
  type ZTestResult,
} from './proportions';
export {
  defaultMixingVariance,
  msprtPValue,
  SequentialTest,
  type MsprtOptions,
  type MsprtResult,
  type SequentialLook,
} from './sequential';
export {
  AlwaysValidState,
  msprtMeans,
  normalMixtureHalfWidth,
  normalMixtureLogLambda,
  type NormalMixtureLook,
} from './alwaysValid';
export { Moments, welchTTest, type MomentSummary, type WelchResult } from './continuous';
export {
  clusteredDiff,
  emptyClusterSums,
  moveUnit,
  ratioMean,
  type ClusterSums,
  type ClusteredDiff,
} from './clustered';
export { sampleRatioMismatch, type SrmResult } from './srm';
export {
  absoluteEffect,
  requiredSampleSize,
  sampleSizePerArm,
  timeToDecision,
  type Effect,
  type SampleSizeOptions,
  type TimeToDecisionOptions,
} from './power';
export { benjaminiHochbergAdjust, holmAdjust } from './multiple';
