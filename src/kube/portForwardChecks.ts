/**
 * What a port-forward asks the API server before and after it fails: kubectl's own check that
 * the Pod runs, RBAC asked up front so a denial names what is missing, and the API server's own
 * reason for a refused WebSocket upgrade.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { kubeRequest, statusMessage } from './request';
import type { KubeResponse } from './request';
import {
  PortForwardError,
  statusFailure,
  unreachableError,
  type PortForwardTarget,
} from './portForwardError';

function podPath({ namespace, pod }: PortForwardTarget): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}`;
}

/** kubectl's own checks before a forward (the Pod runs), plus RBAC asked up front so a denial names what is missing; returns the Pod's node. */
export async function checkPodForwardable(
  kc: KubeConfig,
  t: PortForwardTarget,
  signal: AbortSignal | undefined,
): Promise<string> {
  const name = `Pod ${t.namespace}/${t.pod}`;
  const [res, canGet, canCreate] = await Promise.all([
    apiRequest(kc, t, podPath(t), { signal }),
    canPortForward(kc, t, 'get', signal),
    canPortForward(kc, t, 'create', signal),
  ]);
  if (res.status !== 200) throw statusFailure(res.status, statusMessage(res), t, 'get on pods');
  const v1pod = JSON.parse(res.text) as V1Pod;
  const phase = v1pod.status?.phase ?? 'Unknown';
  if (!v1pod.spec?.nodeName)
    throw new PortForwardError(
      'not-scheduled',
      `${name} is not scheduled to a node yet (phase ${phase}), so nothing can forward to it — ` +
        `see why with: kubectl --context ${t.context} -n ${t.namespace} describe pod ${t.pod}`,
    );
  if (phase !== 'Running')
    throw new PortForwardError(
      'not-running',
      `${name} is ${phase}, not Running, so nothing listens on port ${t.remotePort} — ` +
        `check it with: kubectl --context ${t.context} -n ${t.namespace} describe pod ${t.pod}`,
    );
  const denied = [canGet ? undefined : 'get', canCreate ? undefined : 'create'].filter(Boolean);
  if (denied.length > 0)
    throw new PortForwardError(
      'forbidden',
      `RBAC denies port-forward to ${name} in context ${t.context}: missing ${denied.join(' and ')} on ` +
        `pods/portforward in namespace ${t.namespace} (port-forward needs get and create on pods/portforward) — ` +
        `ask a cluster admin for a Role granting them; check with: kubectl --context ${t.context} auth can-i create pods/portforward -n ${t.namespace}`,
    );
  return v1pod.spec.nodeName;
}

/** SelfSubjectAccessReview for `verb` on pods/portforward; true when the review itself cannot be made (the forward will tell). */
async function canPortForward(
  kc: KubeConfig,
  t: PortForwardTarget,
  verb: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      resourceAttributes: {
        namespace: t.namespace,
        verb,
        resource: 'pods',
        subresource: 'portforward',
        name: t.pod,
      },
    },
  };
  const res = await apiRequest(kc, t, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    method: 'POST',
    body: JSON.stringify(review),
    contentType: 'application/json',
    signal,
  });
  if (res.status !== 201 && res.status !== 200) return true;
  return (JSON.parse(res.text) as { status?: { allowed?: boolean } }).status?.allowed === true;
}

async function apiRequest(
  kc: KubeConfig,
  t: PortForwardTarget,
  path: string,
  options: Parameters<typeof kubeRequest>[3],
): Promise<KubeResponse> {
  try {
    return await kubeRequest(kc, t.context, path, { timeoutMs: 15_000, ...options });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw unreachableError(kc, t, err);
  }
}

/**
 * The WebSocket client reports a refused upgrade as "Unexpected server response: 403" and drops the
 * Status body. The same GET without the upgrade passes the same authorization and Pod lookup, so
 * its Status carries the API server's own reason; it stops with "Upgrade request required" before
 * contacting the kubelet, in which case the kubelet side is what failed.
 */
export async function explainUpgradeFailure(
  kc: KubeConfig,
  t: PortForwardTarget,
  err: unknown,
): Promise<PortForwardError> {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const code = /Unexpected server response: (\d+)/.exec(message)?.[1];
  if (!code) return unreachableError(kc, t, err);
  const verbs = 'get and create on pods/portforward';
  const res = await kubeRequest(kc, t.context, `${podPath(t)}/portforward?ports=${t.remotePort}`, {
    timeoutMs: 10_000,
  }).catch(() => undefined);
  if (res && res.status >= 400 && !/upgrade request required/i.test(statusMessage(res)))
    return statusFailure(res.status, statusMessage(res), t, verbs);
  return statusFailure(Number(code), `HTTP ${code} to the port-forward upgrade`, t, verbs);
}
