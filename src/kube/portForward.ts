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
 * WebSocket client drops the response body), and cleanup on close or abort. The checks before a
 * forward and the explanations of a refused one are in ./portForwardChecks, the failures with
 * their fixes in ./portForwardError.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { PortForward as ClientPortForward } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { forContext } from './kubeconfig';
import { checkPodForwardable, explainUpgradeFailure } from './portForwardChecks';
import {
  PortForwardError,
  manualForwardHint,
  type PortForwardFailure,
  type PortForwardTarget,
} from './portForwardError';
import { readResponse } from './request';
import type { KubeResponse } from './request';

export { PortForwardError };
export type { PortForwardFailure };

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
  const where: PortForwardTarget = { context, namespace, pod, remotePort };
  where.nodeName = await checkPodForwardable(scoped, where, signal);
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
              `Port-forward to ${target} failed on the node: ${text} — is the Pod's process listening on port ${remotePort}?${manualForwardHint(where)}`,
            )
          : new PortForwardError(
              'failed',
              `Port-forward connection to ${target} broke: ${broken?.message}${manualForwardHint(where)}`,
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

/** One request on its own connection to the local end of a forward. */
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
