/**
 * Plain HTTPS requests to a context's API server with its credentials, for the few calls
 * client-node's generated clients make awkward: the service proxy (a path with slashes), pod
 * logs as text, and applying very large objects (CRDs) without its typed serialiser.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { forContext } from './kubeconfig';

export interface KubeResponse {
  status: number;
  text: string;
  contentType: string;
}

export interface KubeRequestOptions {
  method?: string;
  body?: string;
  contentType?: string;
  accept?: string;
  /** More request headers. */
  headers?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Sends `path` (with its query) to the context's API server; never throws for HTTP statuses. */
export async function kubeRequest(
  kc: KubeConfig,
  contextName: string,
  path: string,
  {
    method = 'GET',
    body,
    contentType,
    accept = 'application/json',
    timeoutMs = 30_000,
    headers = {},
    signal,
  }: KubeRequestOptions = {},
): Promise<KubeResponse> {
  const scoped = forContext(kc, contextName);
  const cluster = scoped.getCurrentCluster();
  if (!cluster) throw new Error(`context ${contextName} has no cluster`);
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  const opts: https.RequestOptions = {
    method,
    headers: {
      ...headers,
      accept,
      ...(contentType ? { 'content-type': contentType } : {}),
      ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}),
    },
  };
  await scoped.applyToHTTPSOptions(opts);
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, signal }, (res) => readResponse(res).then(resolve, reject));
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${url.pathname} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A whole HTTP response as a KubeResponse. */
export function readResponse(res: http.IncomingMessage): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () =>
      resolve({
        status: res.statusCode ?? 0,
        text: Buffer.concat(chunks).toString('utf8'),
        contentType: String(res.headers['content-type'] ?? ''),
      }),
    );
    res.on('error', reject);
  });
}

/** The message of a Status body, or the start of the text. */
export function statusMessage(res: KubeResponse): string {
  try {
    const parsed = JSON.parse(res.text) as { message?: string; error?: string };
    return parsed.message ?? parsed.error ?? res.text.slice(0, 300);
  } catch {
    return res.text.trim().slice(0, 300);
  }
}

/** The path of a Service's proxy: `/api/v1/namespaces/<ns>/services/<svc>:<port>/proxy<path>`. */
export function serviceProxyPath(namespace: string, service: string, port: string, path: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(service)}:${encodeURIComponent(port)}/proxy${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * A request through the API server's service proxy — reaches a ClusterIP Service of any cluster
 * the kubeconfig reaches, with no port-forward. Needs RBAC `get` on `services/proxy` (`create`
 * for POST, `update` for PUT). The API server removes `Authorization` once it has authenticated
 * the caller, so a token for the Service itself must travel in another header.
 */
export function serviceProxyRequest(
  kc: KubeConfig,
  contextName: string,
  namespace: string,
  service: string,
  port: string,
  path: string,
  options: KubeRequestOptions = {},
): Promise<KubeResponse> {
  return kubeRequest(kc, contextName, serviceProxyPath(namespace, service, port, path), options);
}
