/**
 * Objects of a release that a new plan no longer has: the model servers of a variant removed
 * from an experiment, an autoscaler or disruption budget whose setting was turned off, and the
 * router Deployment of a release from before the router ran as a StatefulSet. Applying alone
 * never removes anything, so without this they would keep running (an old router Pod behind the
 * same Service, serving with its own config and its own rollout controller).
 *
 * The scope is what the plan covers in full: one experiment's objects (its label), or the
 * router's (the labels its Pods are selected by). The prometheus-adapter, Secrets,
 * the experiment files and volumes are never pruned.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { LABEL_EXPERIMENT, releaseSelector } from '../manifests/labels';
import { DEFAULT_RELEASE, stackNames } from '../manifests/stack';
import { routerSelector } from '../manifests/stack/metadata';
import { refOf } from './applyPlan';
import { deleteObject, listObjects } from './objects';

/** The kinds a plan's scope can hold and this removes. */
const PRUNED_KINDS: readonly [apiVersion: string, kind: string][] = [
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
];

export type PruneScope = { experiment: string } | { router: true };

/**
 * The label selector of a scope within a release: an experiment's label, or the labels the
 * router's Pods are selected by (which a router Deployment of any earlier release carries).
 */
export function scopeSelector(release: string, scope: PruneScope): string {
  if ('experiment' in scope) return `${releaseSelector(release)},${LABEL_EXPERIMENT}=${scope.experiment}`;
  return Object.entries(routerSelector(release))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const key = (o: KubernetesObject): string => `${o.kind}/${o.metadata?.name}`;

/**
 * The live objects of `scopes` in `namespace` that `planned` does not name (by kind and name),
 * each with `apiVersion` and `kind` set so it can be deleted or shown. A namespace or kind the
 * server lacks has none.
 */
export async function staleObjects(
  kc: KubeConfig,
  context: string,
  namespace: string,
  planned: readonly KubernetesObject[],
  scopes: readonly PruneScope[],
  release = DEFAULT_RELEASE,
): Promise<KubernetesObject[]> {
  const keep = new Set(planned.map(key));
  const out: KubernetesObject[] = [];
  for (const scope of scopes) {
    const selector = scopeSelector(release, scope);
    for (const [apiVersion, kind] of PRUNED_KINDS) {
      const items = await listObjects(kc, context, apiVersion, kind, namespace, selector).catch(() => []);
      for (const item of items) {
        const obj = { ...item, apiVersion, kind };
        if (!keep.has(key(obj))) out.push(obj);
      }
    }
  }
  return out;
}

/** Why an object goes, for the progress line: a router Deployment is the one from before StatefulSets. */
export function pruneReason(obj: KubernetesObject, release = DEFAULT_RELEASE): string {
  const names = stackNames(release);
  return obj.kind === 'Deployment' && obj.metadata?.name === names.router
    ? `the router is a StatefulSet now (the old event log stays in ${names.data})`
    : 'no longer in the plan';
}

/** Deletes `stale`, saying each and why; what the server no longer has is skipped. */
export async function pruneObjects(
  kc: KubeConfig,
  context: string,
  stale: readonly KubernetesObject[],
  progress: (message: string) => void = () => undefined,
  release = DEFAULT_RELEASE,
): Promise<string[]> {
  const deleted: string[] = [];
  for (const obj of stale) {
    progress(`deleting ${refOf(obj)}: ${pruneReason(obj, release)}`);
    if (await deleteObject(kc, context, obj)) deleted.push(refOf(obj));
  }
  return deleted;
}
