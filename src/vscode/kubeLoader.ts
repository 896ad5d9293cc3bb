/**
 * The Kubernetes layer (client-node, ~1.5 MB) lives in its own bundle, dist/kube.js, and
 * is loaded on first use so activation stays small and fast.
 */
import { join } from 'node:path';
import type * as Kube from '../operations/kubeBundle';

type KubeModule = typeof Kube;
let loaded: KubeModule | undefined;

/** The Kubernetes layer, loaded from dist/kube.js the first time it is needed. */
export function loadKube(): KubeModule {
  // A computed path keeps esbuild from inlining the module into the activation bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require(join(__dirname, 'kube.js')) as KubeModule;
  return loaded;
}
