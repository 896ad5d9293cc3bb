/**
 * The connection to the router of a Model Canary release in a cluster: requests go through the
 * API server's service proxy (no port-forward, works on remote clusters); where the proxy is
 * refused (RBAC without `services/proxy`) or cannot reach the router, the same request goes
 * through a port-forward to the router's Pod (`pods/portforward`), and once RBAC has refused the
 * proxy, later requests go straight to the port-forward. Admin calls carry the namespace's admin
 * token (the Secret `up` creates). `waitRouted` polls it until it routes a newly deployed endpoint.
 */
import { connect as netConnect } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { grpcHostPort } from '../kind/commands';
import { readAdminToken, readIngestToken } from '../kube/adminToken';
import { labelSelector, newestFirst } from '../kube/cluster';
import { forContext } from '../kube/kubeconfig';
import { listObjects } from '../kube/objects';
import { forwardedRequest, openPortForward } from '../kube/portForward';
import {
  serviceProxyPath,
  serviceProxyRequest,
  statusMessage,
  type KubeRequestOptions,
  type KubeResponse,
} from '../kube/request';
import { DEFAULT_RELEASE, routerSelector } from '../manifests/stack';
import { INGEST_TOKEN_ENV, RouterClient } from '../shared/routerApi';
import { stackPlace, type KubeStackTarget } from './kubeStackStatus';
import { RuntimeError, type OperationOptions } from './runtime';

export interface KubeRouterConnectionOptions extends KubeStackTarget {
  readonly platform: 'kind' | 'remote';
  /** The router container's port (port-forwards go to it). */
  readonly routerPort: number;
  /** kind: the host port the router's NodePort is mapped to. Default 8090. */
  readonly hostPort?: number;
}

/** True when the API server answered itself (a `Status`: refused, no endpoints, unreachable), not the router. */
function isApiServerAnswer(res: KubeResponse): boolean {
  if (res.status === 0) return true;
  try {
    return (JSON.parse(res.text) as { kind?: unknown }).kind === 'Status';
  } catch {
    // The proxy's own plain-text errors ("error trying to reach service: …").
    return res.status === 502 || res.status === 503;
  }
}

export class KubeRouterConnection {
  private proxyRefused = false;

  constructor(private readonly target: KubeRouterConnectionOptions) {}

  /** How the last request reached the router: the API server's service proxy or a port-forward. */
  get routerPath(): 'service-proxy' | 'port-forward' {
    return this.proxyRefused ? 'port-forward' : 'service-proxy';
  }

  /** The router's URL: kind's mapped host port, else the API server's service proxy path. */
  async endpoint(): Promise<string> {
    const t = this.target;
    if (t.platform === 'kind') return `http://127.0.0.1:${t.hostPort ?? 8090}`;
    // Needs the kubeconfig's credentials (e.g. through `kubectl proxy`); port-forward is the documented fallback.
    const server = forContext(t.kc, t.context).getCurrentCluster()?.server.replace(/\/+$/, '') ?? '';
    return server + serviceProxyPath(t.namespace, t.names.router, 'http', '').replace(/\/$/, '');
  }

  /**
   * host:port of the router's gRPC front on this machine: on kind the port after the HTTP host
   * port (the cluster config maps the gRPC NodePort there), when something answers on it — a
   * cluster created before that mapping existed has none. Undefined elsewhere (port-forward the
   * Service's `grpc` port).
   */
  async grpcEndpoint(): Promise<string | undefined> {
    const t = this.target;
    if (t.platform !== 'kind') return undefined;
    const port = grpcHostPort(t.hostPort ?? 8090);
    return (await answersTcp('127.0.0.1', port, 500)) ? `127.0.0.1:${port}` : undefined;
  }

  /**
   * The typed client of the router in the cluster: through the API server's service proxy, else a
   * port-forward; admin calls carry the namespace's admin token (the Secret `up` creates).
   */
  router(): RouterClient {
    const t = this.target;
    return new RouterClient(
      (path, request) =>
        this.request(path, {
          method: request.method,
          body: request.body,
          // The API server authenticates this request with the kubeconfig's own Authorization;
          // the token travels in ADMIN_TOKEN_HEADER alone.
          headers: Object.fromEntries(
            Object.entries(request.headers).filter(([k]) => k.toLowerCase() !== 'authorization'),
          ),
          signal: request.signal,
        }).then((res) => ({ status: res.status, text: res.text })),
      async () => {
        const token = await readAdminToken(t.kc, t.context, { namespace: t.namespace, release: t.release });
        if (!token)
          throw new RuntimeError(
            `the router in ${stackPlace(t)} has no admin token (Secret ${t.names.adminToken}) — run \`model-canary up --runtime kube --context ${t.context}\` to create it`,
          );
        return token;
      },
      () => this.ingestToken(),
    );
  }

  /**
   * The ingest token of feedback and labels: MODEL_CANARY_INGEST_TOKEN when set, else the
   * router's Secret (the router in a Pod listens beyond loopback, so it requires one).
   */
  async ingestToken(): Promise<string | undefined> {
    const t = this.target;
    return (
      process.env[INGEST_TOKEN_ENV] ??
      (await readIngestToken(t.kc, t.context, { namespace: t.namespace, release: t.release }))
    );
  }

  /** A URL on this machine that reaches the router: kind's host port, else a port-forward to its Pod. */
  async connect(options: { signal?: AbortSignal } = {}): Promise<{ url: string; close(): Promise<void> }> {
    const t = this.target;
    if (t.platform === 'kind') return { url: await this.endpoint(), close: async () => undefined };
    const pod = await this.routerPod();
    if (!pod)
      throw new RuntimeError(
        `no running router Pod in ${stackPlace(t)} to port-forward to — start it with \`model-canary up --runtime kube --context ${t.context}\``,
      );
    const forward = await openPortForward(t.kc, t.context, t.namespace, pod, t.routerPort, {
      signal: options.signal,
    }).catch((err: Error) => {
      throw new RuntimeError(`cannot port-forward to the router Pod ${t.namespace}/${pod}: ${err.message}`);
    });
    return { url: `http://127.0.0.1:${forward.port}`, close: () => forward.close() };
  }

  /**
   * A request to the router: through the API server's service proxy, else through a
   * port-forward to the router's Pod. An answer from the API server itself (a `Status`) or no
   * answer means the proxy failed; any answer from the router is returned as it is.
   */
  async request(path: string, options: KubeRequestOptions = {}): Promise<KubeResponse> {
    const t = this.target;
    let proxyFailure = 'not tried: it was refused before';
    if (!this.proxyRefused) {
      const viaProxy = () =>
        serviceProxyRequest(t.kc, t.context, t.namespace, t.names.router, 'http', path, options).catch(
          (err: Error) => ({ status: 0, text: err.message, contentType: '' }),
        );
      let res = await viaProxy();
      // No answer at all (a connection reset, a TLS handshake cut short: an API server busy or
      // restarting) is retried once for a read, as client-go retries its GETs.
      if (res.status === 0 && (options.method ?? 'GET') === 'GET') {
        await new Promise((r) => setTimeout(r, 1_000));
        options.signal?.throwIfAborted();
        res = await viaProxy();
      }
      if (!isApiServerAnswer(res)) return res;
      proxyFailure = res.status ? `HTTP ${res.status}: ${statusMessage(res)}` : res.text;
      if (res.status === 403) this.proxyRefused = true;
    }
    options.signal?.throwIfAborted();
    const pod = await this.routerPod().catch(() => undefined);
    if (!pod)
      throw new RuntimeError(
        `cannot reach the router in ${stackPlace(t)}: the API server's service proxy failed (${proxyFailure}) and no running router Pod can be port-forwarded to — check \`model-canary status --runtime kube --context ${t.context}\``,
      );
    try {
      return await forwardedRequest(t.kc, t.context, t.namespace, pod, t.routerPort, path, {
        method: options.method,
        body: options.body,
        headers: {
          ...options.headers,
          ...(options.contentType ? { 'content-type': options.contentType } : {}),
        },
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new RuntimeError(
        `cannot reach the router in ${stackPlace(t)}: the API server's service proxy failed (${proxyFailure}), and so did a port-forward to Pod ${pod}: ${(err as Error).message}`,
      );
    }
  }

  /** The newest running router Pod's name. */
  private async routerPod(): Promise<string | undefined> {
    const t = this.target;
    const pods = await listObjects<V1Pod>(
      t.kc,
      t.context,
      'v1',
      'Pod',
      t.namespace,
      labelSelector(routerSelector(t.release ?? DEFAULT_RELEASE)),
    );
    return newestFirst(pods).find(
      (p) => p.status?.phase === 'Running' && p.spec?.nodeName && !p.metadata?.deletionTimestamp,
    )?.metadata?.name;
  }

  /**
   * Waits until the router routes the endpoint. The router reads the experiment's file through the
   * API server when its config changes, so this is quick. A router of an older stack reads it from
   * its volume, which the kubelet updates only when it next syncs the Pod (up to a minute or so),
   * and refuses a config naming a file that is not there yet; so while the endpoint is unknown
   * `reload` (re-applying the config with a reload marker) runs every 10 s to make it try again. Routed means the router knows the endpoint (200, or 503 while a variant is not ready yet
   * — the rollouts were already awaited).
   */
  async waitRouted(
    endpoint: string,
    reload: () => Promise<void>,
    options: OperationOptions & { timeoutMs?: number; reloadEveryMs?: number } = {},
  ): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 180_000;
    const every = options.reloadEveryMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    let nextReload = Date.now() + every;
    let last = '';
    while (Date.now() < deadline) {
      options.signal?.throwIfAborted();
      const res = await this.request(`/v2/models/${encodeURIComponent(endpoint)}/ready`, {
        timeoutMs: 5_000,
      }).catch((err: Error) => ({ status: 0, text: err.message, contentType: '' }));
      if (res.status === 200) return;
      const known = res.status === 503 && /"variants"\s*:/.test(res.text);
      if (known) {
        options.onProgress?.(
          `routing ${endpoint}; the router does not see every variant ready yet: ${res.text.slice(0, 200)}`,
        );
        return;
      }
      last = `HTTP ${res.status}: ${statusMessage(res)}`;
      if (Date.now() >= nextReload) {
        nextReload = Date.now() + every;
        options.onProgress?.(`the router does not route ${endpoint} yet (${last}); asking it to reload`);
        await reload();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new RuntimeError(
      `the router in ${stackPlace(this.target)} did not route /v2/models/${endpoint}/infer within ${timeoutMs / 1000} s (last answer: ${last}) — see \`model-canary logs router\``,
    );
  }
}

/** Whether a TCP connection to host:port opens within `ms`. */
function answersTcp(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const end = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => end(false));
    socket.once('connect', () => end(true));
    socket.once('error', () => end(false));
  });
}
