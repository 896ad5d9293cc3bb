export { forContext, kubeconfigPaths, listContexts, loadKubeConfig } from './kubeconfig';
export type { KubeContextInfo } from './kubeconfig';
export { ApplyConflictError, ensureNamespace, serverSideApply } from './apply';
export type { ApplyOptions, FieldConflict } from './apply';
export { applyObjects, applyPlan, planApply, PartialApplyError, refOf } from './applyPlan';
export type { AppliedObject, ApplyPlan, ApplyStep } from './applyPlan';
export { apiErrorMessage, deleteObject, isNotFound, listObjects, objectApi, readLive } from './objects';
export { diffText, lineDiff, normalizeForDiff, unifiedDiff } from './diff';
export { previewApply, summarizePreview } from './preview';
export type { ObjectChange, Preview } from './preview';
export { rolloutState, RolloutError, waitForRollouts } from './rollout';
export type { RolloutState, WaitOptions } from './rollout';
export { kubeRequest, serviceProxyPath, serviceProxyRequest, statusMessage } from './request';
export { ensureAdminToken, ingestTokenHint, readAdminToken, readIngestToken } from './adminToken';
export { installCrds, newestPod, podLog, recordEvent, waitForCrdEstablished } from './cluster';
export {
  completeWeights,
  mergeExperiment,
  mergeExperimentFiles,
  readLiveStack,
  setRouterWeights,
} from './stackState';
export type { LiveStack } from './stackState';
export {
  canaryWeights,
  CANARY_PERCENT,
  DEFAULT_PROTECTED_PATTERN,
  isKindContext,
  promote,
  PromotionError,
} from './promote';
export { undoText } from './promotionUndo';
export { pruneObjects, staleObjects } from './prune';
export type { PruneScope } from './prune';
export type { Confirm, ConfirmQuestion, PromoteOptions, PromotionPlan, PromotionResult } from './promote';
export { forwardedRequest, openPortForward, PortForwardError } from './portForward';
export type {
  ForwardedRequestOptions,
  OpenPortForward,
  PortForwardFailure,
  PortForwardOptions,
} from './portForward';
