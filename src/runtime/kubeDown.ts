/**
 * `down` on Kubernetes: deletes the release's objects in its namespace, autoscalers and workloads
 * first; with `purge` also the event logs' volumes (one per router replica), and waits until they
 * are gone (each goes once the router Pod that mounts it has stopped: the pvc-protection
 * finalizer), as `kubectl delete` waits. The cluster-wide objects of an installed
 * prometheus-adapter (its APIServices and ClusterRoles) stay: docs/kubernetes.md says how to
 * remove them.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { deleteObject, listObjects, waitUntilGone } from '../kube/objects';
import { releaseSelector } from '../manifests/labels';
import { stackNames } from '../manifests/stack';
import { RuntimeError, type OperationOptions } from './runtime';

export interface StackPlace {
  kc: KubeConfig;
  context: string;
  namespace: string;
  release?: string;
  purge: boolean;
}

/** How long `down --purge` waits for the router Pod to release the event log's volume. */
const RELEASE_TIMEOUT_MS = 120_000;

const KINDS: [string, string][] = [
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'Deployment'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['v1', 'ServiceAccount'],
];

export async function deleteStack(p: StackPlace, options: OperationOptions = {}): Promise<void> {
  const selector = releaseSelector(p.release ?? 'model-canary');
  const data = stackNames(p.release).data;
  const kinds: [string, string][] = [
    ...KINDS,
    ...(p.purge ? ([['v1', 'PersistentVolumeClaim']] as [string, string][]) : []),
  ];
  const purged: string[] = [];
  for (const [apiVersion, kind] of kinds) {
    options.signal?.throwIfAborted();
    const items = await listObjects(p.kc, p.context, apiVersion, kind, p.namespace, selector).catch(() => []);
    for (const item of items) {
      if (kind === 'PersistentVolumeClaim' && item.metadata?.name) purged.push(item.metadata.name);
      options.onProgress?.(`deleting ${kind} ${p.namespace}/${item.metadata?.name}`);
      await deleteObject(p.kc, p.context, { ...item, apiVersion, kind });
    }
  }
  if (!p.purge) {
    options.onProgress?.(
      "kept the router's event-log volumes, one per replica (model-canary down --purge deletes them)",
    );
    return;
  }
  // Each router replica's claim (`data-<router>-<n>`, labelled from the claim template), and the
  // single volume of a release from before the router ran replicas.
  const claims = new Set([data, ...purged]);
  const deadline = Date.now() + RELEASE_TIMEOUT_MS;
  for (const name of [...claims].sort()) {
    options.onProgress?.(`waiting for the volume ${p.namespace}/${name} to be released by the router Pod`);
    const claim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: p.namespace },
    };
    const timeoutMs = Math.max(0, deadline - Date.now());
    if (!(await waitUntilGone(p.kc, p.context, claim, { timeoutMs, signal: options.signal })))
      throw new RuntimeError(
        `the event log's volume ${p.namespace}/${name} is still there after ${RELEASE_TIMEOUT_MS / 60_000} minutes — check \`kubectl --context ${p.context} -n ${p.namespace} describe pvc ${name}\``,
      );
  }
}
