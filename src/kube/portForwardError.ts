/** How a port-forward fails, and the messages that say how to fix each failure. */
import type { KubeConfig } from '@kubernetes/client-node';

export type PortForwardFailure =
  | 'not-found'
  | 'not-scheduled'
  | 'not-running'
  | 'forbidden'
  | 'unauthorized'
  | 'unreachable'
  | 'refused'
  | 'local-port'
  | 'failed';

/** A port-forward that could not start or a forwarded connection that failed; the message says how to fix it. */
export class PortForwardError extends Error {
  override readonly name = 'PortForwardError';
  constructor(
    readonly reason: PortForwardFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The Pod port a forward reaches, as its error messages name it. */
export interface PortForwardTarget {
  context: string;
  namespace: string;
  pod: string;
  remotePort: number;
  /** The Pod's node, once known. */
  nodeName?: string;
}

/** The kubectl command that does the same forward by hand, appended to a message. */
export function manualForwardHint({ context, namespace, pod, remotePort }: PortForwardTarget): string {
  return ` (by hand: kubectl --context ${context} -n ${namespace} port-forward pod/${pod} ${remotePort})`;
}

/** The API server could not be reached at all. */
export function unreachableError(kc: KubeConfig, t: PortForwardTarget, err: unknown): PortForwardError {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  return new PortForwardError(
    'unreachable',
    `Cannot reach the API server of context ${t.context} (${kc.getCurrentCluster()?.server ?? 'no server'}): ${message} — check the network or VPN and the kubeconfig`,
    { cause: err },
  );
}

/** A PortForwardError for an API server status, with the fix. */
export function statusFailure(
  status: number,
  detail: string,
  t: PortForwardTarget,
  verbs: string,
): PortForwardError {
  const name = `Pod ${t.namespace}/${t.pod}`;
  const hint = manualForwardHint(t);
  if (status === 404)
    return new PortForwardError(
      'not-found',
      `${name} not found in context ${t.context} (${detail}) — check the name with: kubectl --context ${t.context} -n ${t.namespace} get pods`,
    );
  if (status === 401)
    return new PortForwardError(
      'unauthorized',
      `The API server of context ${t.context} rejected the credentials (${detail}) — log in again or refresh the kubeconfig`,
    );
  if (status === 403)
    return new PortForwardError(
      'forbidden',
      `RBAC denies it: ${detail} — port-forward to ${name} needs ${verbs} in namespace ${t.namespace}; ask a cluster admin for a Role granting it`,
    );
  if (status === 400 && /host assigned/i.test(detail))
    return new PortForwardError('not-scheduled', `${name} is not scheduled to a node yet (${detail})${hint}`);
  if (status >= 500) {
    const node = t.nodeName ? `node ${t.nodeName}` : `${name}'s node`;
    return new PortForwardError(
      'unreachable',
      `The API server could not open a stream to the kubelet of ${node} (${detail}) — the node may be down ` +
        `or its kubelet port unreachable from the control plane; check it with: kubectl --context ${t.context} get node ${t.nodeName ?? ''}`.trimEnd(),
    );
  }
  return new PortForwardError('failed', `Port-forward to ${name} failed (${status}: ${detail})${hint}`);
}
