/**
 * The serving stack as Kubernetes objects, built from an experiment, the workspace's models and
 * a target — pure data, no I/O, so it is unit-tested and used by the runtime, promotion and
 * export alike.
 *
 * Per namespace (a "release", default `model-canary`):
 * - the router: ServiceAccount, Role + RoleBinding (its ConfigMaps, EndpointSlices, its Lease),
 *   a StatefulSet of N replicas with a volume claim per replica for its event log (the official
 *   Node image running the router bundle unpacked from a ConfigMap, or a configured router
 *   image), a Service (NodePort 30090 on kind, mapped to 127.0.0.1:<router port> by the cluster
 *   config; ClusterIP elsewhere), the headless `<release>-router-peers`, a PodDisruptionBudget
 *   and, with autoscaling, an HPA (plus prometheus-adapter for `requests`: ./stack/autoscaling);
 * - the router's config (`<release>-router-config`, key `router.yaml`), watched by the router
 *   through the API server: weights change by changing it;
 * - the router's tokens: the Secret `<release>-router-admin` (keys `token` and `ingest-token`)
 *   mounted into the router and named by the config's `adminTokenFile` and `ingestTokenFile`. It is not one of these objects — its value
 *   is random, made once per namespace by `ensureAdminToken` (src/kube/adminToken.ts) before the
 *   router is applied, so re-applying and diffing the stack never touch or show it. Exported
 *   manifests leave creating it to the user (see src/manifests/export.ts);
 * - `<release>-experiments`: each experiment's file (with its drift reference beside it), mounted
 *   into the router so reports get the experiment's metrics, guardrails and drift settings.
 * Per experiment and variant (the shadow too): an MLServer Deployment, its Service, its
 * PodDisruptionBudget and, with autoscaling, its HPA.
 *
 * Models come from the kind node's `/models` mount (the workspace folder, see src/kind) or, on
 * other clusters, from an HTTP(S) base URL (see ./stack/modelServers).
 *
 * This module composes the stack from its components in ./stack/ — the namespace, the router's
 * RBAC, workload, bundle, config and experiment files, the model servers — and is their public
 * face: the options, inputs and constants they share are in ./stack/options.
 */
import type { RouterConfigInput } from '../core/spec/routerConfig';
import { ROUTER_NODE_PORT } from '../kind/commands';
import { assertPinned } from './images';
import type { KubeObject } from './types';
import { experimentFiles, experimentsConfigMap } from './stack/experimentFiles';
import { modelServerObjects } from './stack/modelServers';
import { namespaceObject } from './stack/namespace';
import { resolveStackOptions, type ExperimentInput, type StackOptions } from './stack/options';
import { routerRbacObjects } from './stack/rbac';
import { autoscalingMode, disruptionBudget, routerAutoscaler } from './stack/autoscaling';
import { routerLabels } from './stack/metadata';
import { prometheusAdapterObjects } from './stack/prometheusAdapter';
import { routerPeersService, routerReplicas, routerService, routerStatefulSet } from './stack/router';
import { routerBundleConfigMap } from './stack/routerBundle';
import { routerConfig, routerConfigMap, routerExperimentEntry } from './stack/routerConfig';

export { ROUTER_NODE_PORT };
export {
  ADMIN_TOKEN_KEY,
  CONFIGMAP_LIMIT_BYTES,
  INGEST_TOKEN_KEY,
  DEFAULT_NAMESPACE,
  DEFAULT_RELEASE,
  KIND_MODELS_ROOT,
  MLSERVER_HTTP_PORT,
  ROUTER_CONFIG_KEY,
  ROUTER_CONTAINER_PORT,
  stackNames,
  type ExperimentInput,
  type AutoscalingOptions,
  type ModelRef,
  type ModelSource,
  type Resources,
  type StackOptions,
} from './stack/options';
export {
  autoscalingMode,
  ROUTER_RPS_METRIC,
  SHADOW_RPS_METRIC,
  VARIANT_RPS_METRIC,
} from './stack/autoscaling';
export { adapterRules, ADAPTER_IMAGE, prometheusAdapterObjects } from './stack/prometheusAdapter';
export { eventLogVolume, routerRetention, BYTES_PER_REQUEST } from './stack/retention';
export {
  NAMESPACE_ENV,
  REPLICA_ENV,
  ROUTER_DATA_CLAIM,
  routerReplicas,
  routerStatefulSet,
} from './stack/router';
export { modelServerName, routerSelector } from './stack/metadata';
export { adminTokenSecret } from './stack/adminTokenSecret';
export { experimentFiles, experimentsConfigMap } from './stack/experimentFiles';
export { routerBundleConfigMap, routerBundleSha256, UNPACK_SCRIPT } from './stack/routerBundle';
export type { RouterBundle } from '../shared/routerFiles';
export { routerConfig, routerConfigMap, routerConfigText, routerExperimentEntry } from './stack/routerConfig';
export { modelFileUrl, modelRefs, modelServerObjects, servedVariants } from './stack/modelServers';

/** The namespace and the router with everything it needs (its config included). */
export function routerObjects(
  config: RouterConfigInput,
  experimentFilesData: Record<string, string>,
  opts: StackOptions,
): KubeObject[] {
  const { images } = resolveStackOptions(opts);
  const routerImage = opts.router?.image;
  if (routerImage) assertPinned(routerImage, 'router');
  else assertPinned(images.node, 'Node');
  if (!routerImage && opts.router?.bundle === undefined)
    throw new Error(
      'the router bundle (dist/router.js with dist/webview.js and dist/dashboard.css) is needed when no router image is configured — run `node esbuild.mjs` first',
    );
  const bundle =
    routerImage || !opts.router?.bundle ? undefined : routerBundleConfigMap(opts.router.bundle, opts);
  const { names, release } = resolveStackOptions(opts);
  return [
    namespaceObject(opts),
    ...routerRbacObjects(opts),
    ...(bundle ? [bundle.configMap] : []),
    experimentsConfigMap(experimentFilesData, opts),
    routerConfigMap(config, opts),
    routerService(opts),
    routerPeersService(opts),
    routerStatefulSet(opts, bundle?.sha256),
    disruptionBudget(opts, names.router, routerLabels(release)),
    ...routerAutoscaler(opts, names.router, routerLabels(release), routerReplicas(opts)),
    ...(autoscalingMode(opts) === 'requests' ? prometheusAdapterObjects(opts) : []),
  ];
}

/** The whole stack for a set of experiments, in the order it is applied. */
export function buildStack(inputs: readonly ExperimentInput[], opts: StackOptions): KubeObject[] {
  const config = routerConfig(
    inputs.map((i) => routerExperimentEntry(i, opts)),
    opts,
  );
  const files = Object.assign({}, ...inputs.map(experimentFiles)) as Record<string, string>;
  return [...routerObjects(config, files, opts), ...inputs.flatMap((i) => modelServerObjects(i, opts))];
}
