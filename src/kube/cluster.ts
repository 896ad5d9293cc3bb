/** Smaller cluster operations: pod logs, Events, CRD installation. */
import { hostname } from 'node:os';
import type {
  KubeConfig,
  KubernetesObject,
  V1CustomResourceDefinition,
  V1Pod,
} from '@kubernetes/client-node';
import { kubeRequest, statusMessage } from './request';
import { listObjects, readLive } from './objects';

/** The newest Pod matching `selector`, or undefined. */
export async function newestPod(
  kc: KubeConfig,
  context: string,
  namespace: string,
  selector: string,
): Promise<V1Pod | undefined> {
  return newestFirst(await listObjects<V1Pod>(kc, context, 'v1', 'Pod', namespace, selector))[0];
}

/** Pods, the most recently created first. */
export function newestFirst(pods: readonly V1Pod[]): V1Pod[] {
  const time = (p: V1Pod): number => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
  return [...pods].sort((a, b) => time(b) - time(a));
}

/** A label selector string (`k=v,k2=v2`) for these labels. */
export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The log of a Pod's container, as text. */
export async function podLog(
  kc: KubeConfig,
  context: string,
  namespace: string,
  pod: string,
  { container, tailLines, previous }: { container?: string; tailLines?: number; previous?: boolean } = {},
): Promise<string> {
  const q = new URLSearchParams();
  if (container) q.set('container', container);
  if (tailLines !== undefined) q.set('tailLines', String(tailLines));
  if (previous) q.set('previous', 'true');
  const res = await kubeRequest(
    kc,
    context,
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log${q.size ? `?${q}` : ''}`,
    { accept: 'text/plain' },
  );
  if (res.status !== 200) throw new Error(`no log for Pod ${namespace}/${pod}: ${statusMessage(res)}`);
  return res.text;
}

export interface EventInput {
  namespace: string;
  involved: KubernetesObject;
  reason: string;
  message: string;
  type?: 'Normal' | 'Warning';
  action?: string;
}

/** Records a core/v1 Event about `involved` (what `kubectl describe` and `kubectl events` show). */
export async function recordEvent(kc: KubeConfig, context: string, e: EventInput): Promise<KubernetesObject> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const name = e.involved.metadata?.name ?? 'model-canary';
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`,
      namespace: e.namespace,
    },
    involvedObject: {
      apiVersion: e.involved.apiVersion,
      kind: e.involved.kind,
      name,
      namespace: e.involved.metadata?.namespace ?? e.namespace,
      ...(e.involved.metadata?.uid ? { uid: e.involved.metadata.uid } : {}),
    },
    reason: e.reason,
    message: e.message.slice(0, 1024),
    type: e.type ?? 'Normal',
    ...(e.action ? { action: e.action } : {}),
    source: { component: 'model-canary' },
    reportingComponent: 'model-canary',
    reportingInstance: hostname().slice(0, 128),
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  const res = await kubeRequest(kc, context, `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/events`, {
    method: 'POST',
    body: JSON.stringify(event),
    contentType: 'application/json',
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`recording the event failed: ${statusMessage(res)}`);
  return JSON.parse(res.text) as KubernetesObject;
}

/**
 * Installs CustomResourceDefinitions by server-side apply, sent as-is (CRDs run to megabytes —
 * too big for client-side apply's last-applied annotation — and must not pass through a typed
 * serialiser), then waits until each is Established.
 */
export async function installCrds(
  kc: KubeConfig,
  context: string,
  crds: readonly KubernetesObject[],
  { fieldManager = 'model-canary', timeoutMs = 60_000 }: { fieldManager?: string; timeoutMs?: number } = {},
): Promise<void> {
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    const res = await kubeRequest(
      kc,
      context,
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
      {
        method: 'PATCH',
        body: JSON.stringify(crd),
        contentType: 'application/apply-patch+yaml',
        timeoutMs: 120_000,
      },
    );
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`installing CRD ${name} failed: ${statusMessage(res)}`);
  }
  for (const crd of crds) await waitForCrdEstablished(kc, context, crd.metadata?.name ?? '', timeoutMs);
}

/** Resolves once the CRD's Established condition is True (its kinds can then be used). */
export async function waitForCrdEstablished(
  kc: KubeConfig,
  context: string,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await readLive<V1CustomResourceDefinition>(kc, context, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
    });
    const established = crd?.status?.conditions?.find((c) => c.type === 'Established');
    // (client-node's discovery cache asks again for a kind it has not seen, so no reset is needed.)
    if (established?.status === 'True') return;
    if (Date.now() > deadline)
      throw new Error(
        `CRD ${name} not Established within ${timeoutMs / 1000} s (${established?.message ?? 'no condition yet'})`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}
