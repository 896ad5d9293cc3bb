/**
 * Reading the stack of a Model Canary release on Kubernetes: its components and experiments as an
 * `EnvironmentStatus`, one component's workload (the router's StatefulSet, a model server's
 * Deployment) by name or by model, and waiting for them to roll out. Shared by `KubeRuntime` and its connection to the router.
 */
import type {
  KubeConfig,
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Pod,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { ROUTER_NODE_PORT } from '../kind/commands';
import type { RouterConfigInput } from '../core/spec/routerConfig';
import { newestFirst } from '../kube/cluster';
import { listObjects, readLive } from '../kube/objects';
import { pruneObjects, staleObjects, type PruneScope } from '../kube/prune';
import { rolloutState, waitForRollouts, type Workload, type WorkloadKind } from '../kube/rollout';
import { liveRouterConfig } from '../kube/stackState';
import { releaseSelector, ANNOTATION_MODEL } from '../manifests/labels';
import { DEFAULT_RELEASE, type stackNames } from '../manifests/stack';
import { RuntimeError, type ComponentStatus, type EnvironmentStatus, type OperationOptions } from './runtime';

/** The component name of the router (model servers go by their Deployment's name). */
export const ROUTER_COMPONENT = 'router';

/** Where a release's stack lives: the cluster (kubeconfig and context), namespace and object names. */
export interface KubeStackTarget {
  readonly kc: KubeConfig;
  readonly context: string;
  readonly namespace: string;
  /** Default: DEFAULT_RELEASE. */
  readonly release?: string;
  readonly names: ReturnType<typeof stackNames>;
}

/** `context/namespace`, as messages name the stack's place. */
export function stackPlace(target: KubeStackTarget): string {
  return `${target.context}/${target.namespace}`;
}

/**
 * The stack's components and experiments in three requests made together, however many model
 * servers run (trees and status bars poll this): the Deployments, the Pods, and the router's
 * config ConfigMap (not the experiments ConfigMap, which carries drift references).
 */
export async function readStackStatus(
  target: KubeStackTarget,
  endpoint: () => Promise<string>,
  grpcEndpoint: () => Promise<string | undefined> = async () => undefined,
  /** What the ready router has to say beyond its rollout (its replicas' quarantined log lines). */
  routerDetail: () => Promise<string | undefined> = async () => undefined,
): Promise<EnvironmentStatus> {
  const { kc, context, namespace, names } = target;
  const release = target.release ?? DEFAULT_RELEASE;
  const list = <T extends KubernetesObject>(apiVersion: string, kind: string, selector: string) =>
    listObjects<T>(kc, context, apiVersion, kind, namespace, selector).catch(() => [] as T[]);
  const [deployments, statefulSets, pods, configMap] = await Promise.all([
    // Not swallowed: an API server that does not answer is not "nothing running".
    listObjects<V1Deployment>(
      kc,
      context,
      'apps/v1',
      'Deployment',
      namespace,
      releaseSelector(release),
    ).catch((err: Error) => {
      const server = kc.getCluster(kc.getContextObject(context)?.cluster ?? '')?.server ?? 'no server';
      throw new RuntimeError(
        `cannot read the stack in ${stackPlace(target)} from the API server of context "${context}" (${server}): ${err.message.split('\n')[0]} — check \`kubectl --context ${context} get deployments -n ${namespace}\``,
      );
    }),
    // The router (a StatefulSet since it runs replicas).
    list<V1StatefulSet>('apps/v1', 'StatefulSet', releaseSelector(release)),
    // Each workload's own selector picks its Pods out of these.
    list<V1Pod>('v1', 'Pod', `app.kubernetes.io/instance=${release}`),
    readLive<V1ConfigMap>(kc, context, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: names.routerConfig, namespace },
    }).catch(() => undefined),
  ]);
  const newest = newestFirst(pods);
  const workloads: Workload[] = [
    ...statefulSets.map((d) => ({ ...d, kind: 'StatefulSet' })),
    ...deployments.map((d) => ({ ...d, kind: 'Deployment' })),
  ];
  const components: ComponentStatus[] = workloads.map((d) => {
    const name = d.metadata?.name ?? '';
    const isRouter = name === names.router;
    const state = rolloutState(d, `${d.kind} ${namespace}/${name}`);
    const available = (d.status?.availableReplicas ?? 0) > 0;
    const match = Object.entries(d.spec?.selector?.matchLabels ?? {});
    const pod = newest.find((p) => match.every(([k, v]) => p.metadata?.labels?.[k] === v));
    const port = isRouter ? 8090 : 8080;
    return {
      name: isRouter ? ROUTER_COMPONENT : name,
      kind: isRouter ? 'router' : 'model-server',
      id: pod?.metadata?.name ?? '',
      url: `http://${name}.${namespace}.svc:${port}`,
      state: state.done && available ? 'ready' : 'not-ready',
      ...(state.done ? {} : { detail: state.message }),
    };
  });
  const router = components.find((c) => c.kind === 'router');
  if (router?.state === 'ready') {
    const detail = await routerDetail().catch(() => undefined);
    if (detail) router.detail = detail;
  }
  let config: RouterConfigInput | undefined;
  try {
    config = liveRouterConfig(configMap);
  } catch {
    // An invalid config lists no experiments here; deploy and promote say what is wrong with it.
  }
  const up = components.some((c) => c.kind === 'router');
  return {
    runtime: 'kubernetes',
    up,
    ...(up ? { routerUrl: await endpoint() } : {}),
    ...(up ? await grpcEndpoint().then((g) => (g ? { routerGrpc: g } : {})) : {}),
    components,
    experiments: (config?.experiments ?? []).map((e) => ({
      name: e.name,
      endpoint: e.endpoint,
      file: `configmap/${namespace}/${names.experiments}/${e.name}.yaml`,
    })),
  };
}

/** A component's workload: the router's StatefulSet, a Deployment by name, or the one serving a model. */
export async function findDeployment(target: KubeStackTarget, component: string): Promise<Workload> {
  const { kc, context, namespace, names } = target;
  const isRouter = component === ROUTER_COMPONENT || component === names.router;
  const direct = await readLive<Workload>(kc, context, {
    apiVersion: 'apps/v1',
    kind: isRouter ? 'StatefulSet' : 'Deployment',
    metadata: { name: isRouter ? names.router : component, namespace },
  });
  if (direct) return direct;
  // A model name (as in the local runtime): the Deployment serving it.
  const all = await listObjects<V1Deployment>(
    kc,
    context,
    'apps/v1',
    'Deployment',
    namespace,
    releaseSelector(target.release ?? 'model-canary'),
  );
  const byModel = all.find((d) => d.metadata?.annotations?.[ANNOTATION_MODEL] === component);
  if (byModel) return byModel;
  throw new RuntimeError(
    `no component "${component}" in ${stackPlace(target)} — choose one of: ${[ROUTER_COMPONENT, ...all.map((d) => d.metadata?.name).filter((n) => n !== names.router)].join(', ')}`,
  );
}

/** Waits for the named Deployments (or StatefulSets: `kind`) of the stack's namespace to roll out. */
export async function waitDeployments(
  target: KubeStackTarget,
  names: string[],
  options: OperationOptions,
  timeoutMs = 300_000,
  kind: WorkloadKind = 'Deployment',
): Promise<void> {
  await waitForRollouts(
    target.kc,
    target.context,
    names.map((name) => ({ name, namespace: target.namespace, kind })),
    {
      timeoutMs,
      onProgress: options.onProgress,
      signal: options.signal,
    },
  ).catch((err: Error) => {
    if (err.name === 'AbortError') throw err;
    throw new RuntimeError(err.message);
  });
}

/**
 * On kind the router's Service takes the fixed NodePort that the cluster maps to this machine: a
 * second release would fail on it after creating half its objects, so look before applying.
 */
export async function assertRouterNodePortFree(target: KubeStackTarget): Promise<void> {
  const services = await listObjects<V1Service>(target.kc, target.context, 'v1', 'Service', undefined);
  const taken = services.find(
    (svc) =>
      svc.spec?.ports?.some((p) => p.nodePort === ROUTER_NODE_PORT) &&
      !(svc.metadata?.namespace === target.namespace && svc.metadata?.name === target.names.router),
  );
  if (!taken) return;
  const ns = taken.metadata?.namespace ?? '';
  throw new RuntimeError(
    `NodePort ${ROUTER_NODE_PORT}, which the kind cluster maps to this machine, is taken by Service ${ns}/${taken.metadata?.name} — one router per kind cluster: use namespace ${ns} (modelCanary.kubernetes.namespace, or --namespace ${ns}), or stop that one first (model-canary down --runtime kube --namespace ${ns}); nothing was applied`,
  );
}

/**
 * Deletes the objects of `scopes` that `planned` no longer has (src/kube/prune.ts): a variant's
 * model servers once it left the experiment, and the router Deployment of a release from before
 * the router ran replicas (its event log's volume, `<release>-router-data`, stays; `down
 * --purge` deletes it with the rest).
 */
export async function pruneStale(
  target: KubeStackTarget,
  planned: readonly KubernetesObject[],
  scopes: readonly PruneScope[],
  progress: (message: string) => void,
): Promise<void> {
  const stale = await staleObjects(
    target.kc,
    target.context,
    target.namespace,
    planned,
    scopes,
    target.release,
  );
  await pruneObjects(target.kc, target.context, stale, progress, target.release);
}

/** Waits for the router's StatefulSet to roll out. */
export async function waitRouter(
  target: KubeStackTarget,
  options: OperationOptions,
  timeoutMs?: number,
): Promise<void> {
  await waitDeployments(target, [target.names.router], options, timeoutMs, 'StatefulSet');
}
