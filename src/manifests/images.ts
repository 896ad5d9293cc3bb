/**
 * Container images the stack runs, pinned; each can be overridden (settings / CLI options).
 * Never `:latest`: a pinned tag is what makes a promotion's diff mean something.
 *
 * How they were chosen and checked:
 * - MLServer: SeldonIO/MLServer `hack/build-images.sh` tags runtime images `<version>-<runtime>`
 *   (folder `runtimes/sklearn` → `seldonio/mlserver:<version>-sklearn`); 1.7.1 is the MLServer the
 *   local process runtime installs (tools/versions.env MLSERVER_VERSION), so local and cluster
 *   serve with the same server.
 * - Node: the official image, Node 22 LTS on Alpine. The router bundle targets node20 and runs on
 *   22; Node 20 itself left support on 2026-04-30.
 * - curl: the curl project's own image, only for the init container that fetches models on
 *   remote clusters.
 */

import { modelRuntimeOf } from '../core/workspace/modelRuntimes';

export interface StackImages {
  /** MLServer with the scikit-learn runtime. */
  mlserver: string;
  /** Runs the router bundle (from a ConfigMap) when no router image is configured. */
  node: string;
  /** Fetches model files over HTTP(S) on remote clusters. */
  fetcher: string;
}

export const DEFAULT_IMAGES: Readonly<StackImages> = Object.freeze({
  mlserver: 'seldonio/mlserver:1.7.1-sklearn',
  node: 'node:22.22.0-alpine',
  fetcher: 'curlimages/curl:8.12.1',
});

/** Throws when an image has no tag or digest, or is `:latest`. */
export function assertPinned(image: string, what: string): void {
  const digest = image.includes('@sha256:');
  const lastSegment = image.split('/').pop() ?? image;
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  if (!digest && (!tag || tag === 'latest'))
    throw new Error(
      `the ${what} image "${image}" is not pinned — name a version tag (e.g. ${DEFAULT_IMAGES.mlserver}) or a digest, never :latest`,
    );
}

/**
 * The MLServer image for a model's runtime. MLServer publishes one image per runtime,
 * `seldonio/mlserver:<version>-<runtime>` (`-sklearn`, `-xgboost`, `-lightgbm`): a configured
 * image whose tag ends in `-sklearn` is swapped to the model's runtime at the same version.
 * Any other image (a custom one) is used as it is, so it must carry every runtime the
 * workspace's models use.
 */
export function runtimeImage(mlserverImage: string, implementation: string | undefined): string {
  const runtime = implementation ? modelRuntimeOf(implementation) : undefined;
  if (!runtime || runtime === 'sklearn' || !/:[^/:]+-sklearn$/.test(mlserverImage)) return mlserverImage;
  return mlserverImage.replace(/-sklearn$/, `-${runtime}`);
}
