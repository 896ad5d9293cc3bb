/**
 * `down` on Kubernetes: deletes the release's objects, workloads first; with `purge` also the
 * event log's volume, and waits until it is gone (it goes once the router Pod that mounts it has
 * stopped: the pvc-protection finalizer), as `kubectl delete` waits.
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
  ['apps/v1', 'Deployment'],
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
  for (const [apiVersion, kind] of kinds) {
    options.signal?.throwIfAborted();
    const items = await listObjects(p.kc, p.context, apiVersion, kind, p.namespace, selector).catch(() => []);
    for (const item of items) {
      options.onProgress?.(`deleting ${kind} ${p.namespace}/${item.metadata?.name}`);
      await deleteObject(p.kc, p.context, { ...item, apiVersion, kind });
    }
  }
  if (!p.purge) {
    options.onProgress?.(`kept the event log's volume ${data} (model-canary down --purge deletes it)`);
    return;
  }
  options.onProgress?.(`waiting for the volume ${p.namespace}/${data} to be released by the router Pod`);
  const claim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: data, namespace: p.namespace },
  };
  if (
    !(await waitUntilGone(p.kc, p.context, claim, { timeoutMs: RELEASE_TIMEOUT_MS, signal: options.signal }))
  )
    throw new RuntimeError(
      `the event log's volume ${p.namespace}/${data} is still there after ${RELEASE_TIMEOUT_MS / 60_000} minutes — check \`kubectl --context ${p.context} -n ${p.namespace} describe pvc ${data}\``,
    );
}
