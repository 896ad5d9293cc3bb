/**
 * What the extension loads lazily from dist/kube.js (client-node is about 1.5 MB, so it stays out
 * of the activation bundle): the Kubernetes runtime, the promotion operation and the kubeconfig
 * helpers the environment picker needs. The CLI bundles all of it directly.
 */
export { promoteToContext } from './promoteToContext';
export { KubeRuntime } from '../runtime/kubeRuntime';
export { kubeconfigPaths, listContexts, loadKubeConfig } from '../kube/kubeconfig';
export { kubeRequest, statusMessage } from '../kube/request';
export { isKindContext } from '../kube/promote';
export { diffText } from '../kube/diff';
