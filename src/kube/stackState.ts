/**
 * The live state of a stack that matters for changing it: the router config (which experiments
 * are routed, with which weights) and the experiment files beside it. Deploying or promoting one
 * experiment keeps the others; changing weights re-applies the router's ConfigMap — the router
 * watches it and switches within a second.
 */
import type {
  KubeConfig,
  V1ConfigMap,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { parseRouterConfig, type RouterConfigInput } from '../core/spec/routerConfig';
import { SpecError } from '../core/spec/errors';
import { ROUTER_CONFIG_KEY, routerConfigMap, stackNames, type StackOptions } from '../manifests/stack';
import { serverSideApply } from './apply';
import { readLive } from './objects';
import { resolveWeights } from '../shared/weights';

export type RouterExperimentInput = NonNullable<RouterConfigInput['experiments']>[number];

export interface LiveStack {
  /** The router config as written (defaults not expanded); undefined when there is no router. */
  config: RouterConfigInput | undefined;
  configMap: V1ConfigMap | undefined;
  experimentFiles: Record<string, string>;
  /** The router's replicas: its autoscaler's minimum, else its StatefulSet's. */
  routerReplicas?: number;
}

/** Reads the router config and experiment files of `opts.release` in `opts.namespace`. */
export async function readLiveStack(kc: KubeConfig, context: string, opts: StackOptions): Promise<LiveStack> {
  const names = stackNames(opts.release);
  const ref = (name: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: opts.namespace },
  });
  const router = (apiVersion: string, kind: string) => ({
    apiVersion,
    kind,
    metadata: { name: names.router, namespace: opts.namespace },
  });
  const [configMap, experiments, sts, hpa] = await Promise.all([
    readLive<V1ConfigMap>(kc, context, ref(names.routerConfig)),
    readLive<V1ConfigMap>(kc, context, ref(names.experiments)),
    readLive<V1StatefulSet>(kc, context, router('apps/v1', 'StatefulSet')),
    readLive<V2HorizontalPodAutoscaler>(kc, context, router('autoscaling/v2', 'HorizontalPodAutoscaler')),
  ]);
  // Under an autoscaler the StatefulSet's replicas are the autoscaler's; ours are its minimum.
  const replicas = hpa ? hpa.spec?.minReplicas : sts?.spec?.replicas;
  return {
    config: liveRouterConfig(configMap),
    configMap,
    experimentFiles: { ...experiments?.data },
    ...(replicas ? { routerReplicas: replicas } : {}),
  };
}

/**
 * `opts` with the live router's replicas when they are not given: re-applying the stack (`up`
 * again, a promotion) keeps a router scaled with `up --router-replicas` or by hand.
 */
export function keepLiveReplicas(opts: StackOptions, live: LiveStack): StackOptions {
  if (opts.router?.replicas !== undefined || live.routerReplicas === undefined) return opts;
  return { ...opts, router: { ...opts.router, replicas: live.routerReplicas } };
}

/**
 * The router config a live ConfigMap holds, validated (an invalid one throws, saying so), as the
 * raw document so defaults are not written back; undefined without one.
 */
export function liveRouterConfig(configMap: V1ConfigMap | undefined): RouterConfigInput | undefined {
  const text = configMap?.data?.[ROUTER_CONFIG_KEY];
  if (text === undefined) return undefined;
  const label = `ConfigMap ${configMap?.metadata?.namespace}/${configMap?.metadata?.name}`;
  try {
    parseRouterConfig(text, label);
  } catch (err) {
    if (err instanceof SpecError)
      throw new Error(`the live router config is invalid — fix or delete it:\n${err.message}`);
    throw err;
  }
  return (parse(text) ?? {}) as RouterConfigInput;
}

/** The live experiment entries with `entry` added or replaced. */
export function mergeExperiment(
  live: RouterConfigInput | undefined,
  entry: RouterExperimentInput,
): RouterExperimentInput[] {
  return [...(live?.experiments ?? []).filter((e) => e.name !== entry.name), entry].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
}

/** The live experiment files with one experiment's files replaced. */
export function mergeExperimentFiles(
  live: Record<string, string>,
  experiment: string,
  files: Record<string, string>,
): Record<string, string> {
  const kept = Object.entries(live).filter(
    ([k]) => k !== `${experiment}.yaml` && k !== `${experiment}.reference.csv`,
  );
  return { ...Object.fromEntries(kept), ...files };
}

/** The full weights after a (possibly partial) split, by the rule of shared/weights.ts. */
export function completeWeights(
  entry: RouterExperimentInput,
  weights: Record<string, number>,
): Record<string, number> {
  return resolveWeights(entry.name, entry.variants, weights);
}

/**
 * Sets the weights of a routed experiment by re-applying the router's ConfigMap, guarded by the
 * resourceVersion it read (a concurrent change makes it read and try again).
 */
export async function setRouterWeights(
  kc: KubeConfig,
  context: string,
  opts: StackOptions,
  experiment: string,
  weights: Record<string, number>,
): Promise<RouterExperimentInput> {
  for (let attempt = 0; ; attempt++) {
    const live = await readLiveStack(kc, context, opts);
    const entry = live.config?.experiments?.find((e) => e.name === experiment);
    if (!live.config || !entry) {
      const known = live.config?.experiments?.map((e) => e.name) ?? [];
      throw new Error(
        `experiment ${experiment} is not deployed in ${context}/${opts.namespace} (deployed: ${known.join(', ') || 'none'})`,
      );
    }
    const full = completeWeights(entry, weights);
    const updated: RouterExperimentInput = {
      ...entry,
      variants: entry.variants.map((v) => ({ ...v, weight: full[v.name] ?? 0 })),
    };
    const config: RouterConfigInput = { ...live.config, experiments: mergeExperiment(live.config, updated) };
    const cm = routerConfigMap(config, {
      ...opts,
      annotations: { ...ownAnnotations(live.configMap), ...opts.annotations },
    });
    cm.metadata = {
      ...cm.metadata,
      resourceVersion: live.configMap?.metadata?.resourceVersion,
    } as typeof cm.metadata;
    try {
      // Forced: the router writes its weights to this ConfigMap too (rollouts, PUT weights), which
      // makes it the owner of router.yaml; the user's change takes it back.
      await serverSideApply(kc, context, cm, { force: true });
      return updated;
    } catch (err) {
      // 409 without field conflicts: the resourceVersion moved on; read again.
      if (err instanceof ApiException && err.code === 409 && attempt < 3) continue;
      throw err;
    }
  }
}

/** Our annotations on a live object (kept when we re-apply it from a partial view). */
export function ownAnnotations(
  obj: { metadata?: { annotations?: Record<string, string> } } | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(obj?.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('modelcanary.dev/')),
  );
}
