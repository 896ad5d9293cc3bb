export { forContext, kubeconfigPaths, listContexts, loadKubeConfig } from './kubeconfig';
export type { KubeContextInfo } from './kubeconfig';
export { ApplyConflictError, ensureNamespace, serverSideApply } from './apply';
export type { ApplyOptions, FieldConflict } from './apply';
