/** Reading, listing and deleting arbitrary objects through one cached client per context. */
import { ApiException, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { forContext } from './kubeconfig';

const clients = new WeakMap<KubeConfig, Map<string, KubernetesObjectApi>>();

/** The generic object client of a context (its API discovery is cached, so keep using the same one). */
export function objectApi(kc: KubeConfig, contextName: string): KubernetesObjectApi {
  let byContext = clients.get(kc);
  if (!byContext) clients.set(kc, (byContext = new Map()));
  let client = byContext.get(contextName);
  if (!client)
    byContext.set(contextName, (client = KubernetesObjectApi.makeApiClient(forContext(kc, contextName))));
  return client;
}

/** The live object, or undefined when it (or its namespace, or its kind) does not exist. */
export async function readLive<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  contextName: string,
  obj: KubernetesObject,
): Promise<T | undefined> {
  try {
    return await objectApi(kc, contextName).read<T>({
      apiVersion: obj.apiVersion!,
      kind: obj.kind!,
      metadata: { name: obj.metadata!.name!, namespace: obj.metadata?.namespace },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Objects of a kind in a namespace matching a label selector. */
export async function listObjects<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  contextName: string,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  labelSelector?: string,
): Promise<T[]> {
  const list = await objectApi(kc, contextName).list<T>(
    apiVersion,
    kind,
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    labelSelector,
  );
  return list.items;
}

/** Deletes an object; true when it existed. */
export async function deleteObject(
  kc: KubeConfig,
  contextName: string,
  obj: KubernetesObject,
  propagationPolicy: 'Foreground' | 'Background' = 'Background',
): Promise<boolean> {
  try {
    await objectApi(kc, contextName).delete(
      obj,
      undefined,
      undefined,
      undefined,
      undefined,
      propagationPolicy,
    );
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export function isNotFound(err: unknown): boolean {
  if (err instanceof ApiException && err.code === 404) return true;
  // client-node's discovery reports an unknown kind as a plain Error.
  return err instanceof Error && /Unrecognized API version and kind/.test(err.message);
}

/** The API server's own message of a failed request (its Status), else the error's message. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      const raw = body;
      try {
        body = JSON.parse(raw);
      } catch {
        return `HTTP ${err.code}: ${raw.slice(0, 500)}`;
      }
    }
    const status = body as { message?: string; reason?: string } | undefined;
    return `HTTP ${err.code}${status?.reason ? ` ${status.reason}` : ''}: ${status?.message ?? 'no message'}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Waits until the object is gone (deleted and its finalizers done), as `kubectl delete` waits;
 * false when it is still there after `timeoutMs`.
 */
export async function waitUntilGone(
  kc: KubeConfig,
  contextName: string,
  obj: KubernetesObject,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    options.signal?.throwIfAborted();
    if ((await readLive(kc, contextName, obj)) === undefined) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
