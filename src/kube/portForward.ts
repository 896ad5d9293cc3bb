/**
 * Port-forward to a Pod through the API server's `pods/portforward` subresource: the fallback
 * for reaching a Pod's port when the service proxy cannot (no Service, or a proxy that is
 * switched off). A local listener on 127.0.0.1 gives every accepted connection its own
 * WebSocket, because the v4.channel.k8s.io protocol carries exactly one connection per port and
 * socket (kubectl's SPDY multiplexes; client-node does not speak SPDY).
 *
 * client-node's PortForward opens the WebSocket and frames the bytes. It leaves the rest to its
 * caller, which is what this module adds: ending the local socket when the Pod side closes,
 * surfacing the kubelet's error channel, the API server's reasons for a refused upgrade (the
 * WebSocket client drops the response body), and cleanup on close or abort.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { PortForward as ClientPortForward } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { forContext } from './kubeconfig';
import { kubeRequest, readResponse, statusMessage } from './request';
import type { KubeResponse } from './request';

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

export interface PortForwardOptions {
  /** Aborting stops the forward as close() does (and fails an open still in progress). */
  signal?: AbortSignal;
  /** Local port on 127.0.0.1; 0 (the default) lets the OS pick one. */
  localPort?: number;
  /** Called for every forwarded connection that fails (its local socket is reset). */
  onError?: (err: PortForwardError) => void;
}

export interface OpenPortForward {
  /** The local port on 127.0.0.1 that reaches the Pod's port. */
  port: number;
  /** The latest failure of a forwarded connection, if any. */
  readonly lastError: PortForwardError | undefined;
  /** Stops listening, ends every forwarded connection and frees the port. Idempotent. */
  close(): Promise<void>;
}

/** The smallest view of the `ws` WebSocket that client-node returns. */
interface PodSocket {
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): void;
  terminate(): void;
}

/**
 * Listens on 127.0.0.1 and forwards every connection to `remotePort` of the Pod through the API
 * server. Checks first that the Pod runs on a node and that RBAC allows the forward. Needs RBAC
 * `get` on `pods` and `get` + `create` on `pods/portforward` (the WebSocket upgrade is a GET
 * and kube-apiserver 1.35+ also requires `create`).
 */
export async function openPortForward(
  kc: KubeConfig,
  context: string,
  namespace: string,
  pod: string,
  remotePort: number,
  opts: PortForwardOptions = {},
): Promise<OpenPortForward> {
  const { signal, localPort = 0, onError } = opts;
  if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535)
    throw new RangeError(`remote port must be 1–65535, got ${remotePort}`);
  signal?.throwIfAborted();
  const scoped = forContext(kc, context);
  const where: Target = { context, namespace, pod, remotePort };
  where.nodeName = await checkPod(scoped, where, signal);
  signal?.throwIfAborted();

  const client = new ClientPortForward(scoped);
  const sockets = new Set<net.Socket>();
  const podSockets = new Set<PodSocket>();
  let lastError: PortForwardError | undefined;
  let closed = false;
  const report = (err: PortForwardError): void => {
    lastError = err;
    onError?.(err);
  };

  const forward = async (socket: net.Socket): Promise<void> => {
    const kubeletErrors: Buffer[] = [];
    const errorChannel = new Writable({
      write(chunk: Buffer, _encoding, done) {
        kubeletErrors.push(chunk);
        done();
      },
    });
    let ws: PodSocket;
    try {
      ws = (await client.portForward(
        namespace,
        pod,
        [remotePort],
        socket,
        errorChannel,
        socket,
      )) as PodSocket;
    } catch (err) {
      throw await explainUpgradeFailure(scoped, where, err);
    }
    podSockets.add(ws);
    let broken: Error | undefined;
    ws.on('error', (err) => (broken = err));
    ws.on('close', () => {
      podSockets.delete(ws);
      // The kubelet's error channel: why it could not connect to (or keep copying from) the Pod's port.
      const text = Buffer.concat(kubeletErrors).toString('utf8').trim();
      if (closed || (!text && !broken)) {
        socket.end();
        return;
      }
      const target = `${namespace}/${pod}:${remotePort}`;
      report(
        text
          ? new PortForwardError(
              'refused',
              `Port-forward to ${target} failed on the node: ${text} — is the Pod's process listening on port ${remotePort}?${manualHint(where)}`,
            )
          : new PortForwardError(
              'failed',
              `Port-forward connection to ${target} broke: ${broken?.message}${manualHint(where)}`,
              { cause: broken },
            ),
      );
      socket.resetAndDestroy();
    });
    // client-node closes the WebSocket when the local side ends, not when it is reset or was gone already.
    if (socket.destroyed || closed) ws.close();
    else socket.once('close', () => ws.close());
  };

  const server = net.createServer((socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('error', () => undefined); // failures are reported from the WebSocket side
    socket.once('close', () => sockets.delete(socket));
    forward(socket).catch((err: unknown) => {
      if (!closed)
        report(err instanceof PortForwardError ? err : new PortForwardError('failed', String(err)));
      socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new PortForwardError(
          'local-port',
          err.code === 'EADDRINUSE'
            ? `Local port ${localPort} is already in use — choose another one, or 0 to let the system pick`
            : `Cannot listen on 127.0.0.1:${localPort}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen({ host: '127.0.0.1', port: localPort }, resolve);
  });
  server.on('error', (err) =>
    report(new PortForwardError('local-port', `Local listener failed: ${err.message}`)),
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      closed = true;
      signal?.removeEventListener('abort', onAbort);
      server.close(() => resolve());
      for (const ws of podSockets) ws.terminate();
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  const onAbort = (): void => void close();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) {
    await close();
    signal.throwIfAborted();
  }

  return {
    port: (server.address() as net.AddressInfo).port,
    get lastError() {
      return lastError;
    },
    close,
  };
}

export interface ForwardedRequestOptions {
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** For the whole exchange: opening the forward, the request and the response. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One HTTP request to a Pod's port through a port-forward opened for it and closed after. */
export async function forwardedRequest(
  kc: KubeConfig,
  context: string,
  namespace: string,
  pod: string,
  remotePort: number,
  path: string,
  { method = 'GET', body, headers = {}, timeoutMs = 30_000, signal }: ForwardedRequestOptions = {},
): Promise<KubeResponse> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const what = `${method} ${path} on Pod ${namespace}/${pod}:${remotePort} (through port-forward)`;
  let fwd: OpenPortForward | undefined;
  try {
    fwd = await openPortForward(kc, context, namespace, pod, remotePort, { signal: both });
    return await httpOnce(fwd.port, path, method, headers, body, both);
  } catch (err) {
    if (fwd?.lastError) throw fwd.lastError;
    if (timeout.aborted && !signal?.aborted) throw new Error(`${what} timed out after ${timeoutMs} ms`);
    throw err;
  } finally {
    await fwd?.close();
  }
}

// ---------------------------------------------------------------------------------------------

interface Target {
  context: string;
  namespace: string;
  pod: string;
  remotePort: number;
  /** The Pod's node, once known. */
  nodeName?: string;
}

function manualHint({ context, namespace, pod, remotePort }: Target): string {
  return ` (by hand: kubectl --context ${context} -n ${namespace} port-forward pod/${pod} ${remotePort})`;
}

function podPath({ namespace, pod }: Target): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}`;
}

/** kubectl's own checks before a forward (the Pod runs), plus RBAC asked up front so a denial names what is missing. */
async function checkPod(kc: KubeConfig, t: Target, signal: AbortSignal | undefined): Promise<string> {
  const name = `Pod ${t.namespace}/${t.pod}`;
  const [res, canGet, canCreate] = await Promise.all([
    request(kc, t, podPath(t), { signal }),
    canI(kc, t, 'get', signal),
    canI(kc, t, 'create', signal),
  ]);
  if (res.status !== 200) throw failure(res.status, statusMessage(res), t, 'get on pods');
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
async function canI(
  kc: KubeConfig,
  t: Target,
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
  const res = await request(kc, t, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    method: 'POST',
    body: JSON.stringify(review),
    contentType: 'application/json',
    signal,
  });
  if (res.status !== 201 && res.status !== 200) return true;
  return (JSON.parse(res.text) as { status?: { allowed?: boolean } }).status?.allowed === true;
}

async function request(
  kc: KubeConfig,
  t: Target,
  path: string,
  options: Parameters<typeof kubeRequest>[3],
): Promise<KubeResponse> {
  try {
    return await kubeRequest(kc, t.context, path, { timeoutMs: 15_000, ...options });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw unreachable(kc, t, err);
  }
}

function unreachable(kc: KubeConfig, t: Target, err: unknown): PortForwardError {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  return new PortForwardError(
    'unreachable',
    `Cannot reach the API server of context ${t.context} (${kc.getCurrentCluster()?.server ?? 'no server'}): ${message} — check the network or VPN and the kubeconfig`,
    { cause: err },
  );
}

/** A PortForwardError for an API server status, with the fix. */
function failure(status: number, detail: string, t: Target, verbs: string): PortForwardError {
  const name = `Pod ${t.namespace}/${t.pod}`;
  const hint = manualHint(t);
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

/**
 * The WebSocket client reports a refused upgrade as "Unexpected server response: 403" and drops the
 * Status body. The same GET without the upgrade passes the same authorization and Pod lookup, so
 * its Status carries the API server's own reason; it stops with "Upgrade request required" before
 * contacting the kubelet, in which case the kubelet side is what failed.
 */
async function explainUpgradeFailure(kc: KubeConfig, t: Target, err: unknown): Promise<PortForwardError> {
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const code = /Unexpected server response: (\d+)/.exec(message)?.[1];
  if (!code) return unreachable(kc, t, err);
  const verbs = 'get and create on pods/portforward';
  const res = await kubeRequest(kc, t.context, `${podPath(t)}/portforward?ports=${t.remotePort}`, {
    timeoutMs: 10_000,
  }).catch(() => undefined);
  if (res && res.status >= 400 && !/upgrade request required/i.test(statusMessage(res)))
    return failure(res.status, statusMessage(res), t, verbs);
  return failure(Number(code), `HTTP ${code} to the port-forward upgrade`, t, verbs);
}

function httpOnce(
  port: number,
  path: string,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  signal: AbortSignal,
): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: path.startsWith('/') ? path : `/${path}`,
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) },
        agent: false, // one connection, one WebSocket: nothing to pool
        signal,
      },
      (res) => readResponse(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(body);
  });
}
