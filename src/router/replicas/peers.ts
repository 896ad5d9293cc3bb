/**
 * The router's replicas, as the aggregator and the feedback forwarding see them: each one's
 * identity (the Pod name, `MODEL_CANARY_REPLICA`) and base URL.
 *
 * Two sources. On Kubernetes, the EndpointSlices of the headless Service `<release>-router-peers`
 * (label `kubernetes.io/service-name`), polled through the API server with plain undici like the
 * ConfigMap watch (./kube.ts): each endpoint's `targetRef.name` is a replica, its address and
 * the slice's `http` port its URL. Not-ready endpoints count too: a replica still replaying its
 * log can hand out its events. Locally and in tests, a static list (`--peers a=http://…,b=…`).
 */
import { request, type Agent } from 'undici';
import { kubeAgent, kubeHeaders, type KubeConnection } from '../kube';

export interface Peer {
  name: string;
  /** Base URL, e.g. http://10.1.2.3:8090 (no trailing slash). */
  url: string;
}

export interface Peers {
  /** Every replica known now, this one included when the source lists it, sorted by name. */
  list(): Peer[];
  close(): Promise<void>;
}

export class PeersError extends Error {}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses `--peers name=http://host:port,...` (names are replica identities: Pod names). */
export function parsePeers(text: string): Peer[] {
  const peers: Peer[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq) : '';
    const raw = part.slice(eq + 1);
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!NAME.test(name) || !url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new PeersError(
        `--peers: "${part}" is not name=URL — give each replica as <name>=http://<host>:<port>, e.g. router-0=http://127.0.0.1:8090, separated by commas (names: lowercase letters, digits, "-" and ".")`,
      );
    if (peers.some((p) => p.name === name))
      throw new PeersError(`--peers: the replica "${name}" is listed twice`);
    peers.push({ name, url: url.origin });
  }
  if (peers.length === 0)
    throw new PeersError('--peers: no replica given — e.g. --peers router-0=http://127.0.0.1:8090');
  return peers.sort((a, b) => a.name.localeCompare(b.name));
}

export function staticPeers(peers: Peer[]): Peers {
  return { list: () => peers, close: async () => undefined };
}

interface EndpointSliceList {
  items?: {
    ports?: { name?: string; port?: number }[];
    endpoints?: { addresses?: string[]; targetRef?: { kind?: string; name?: string } }[];
  }[];
}

/** The replicas behind a Service's EndpointSlices (one list call). */
export async function readPeerSlices(
  conn: KubeConnection,
  agent: Agent,
  namespace: string,
  service: string,
  port = 'http',
): Promise<Peer[]> {
  const selector = encodeURIComponent(`kubernetes.io/service-name=${service}`);
  const url = `${conn.server}/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices?labelSelector=${selector}`;
  const res = await request(url, { dispatcher: agent, headers: kubeHeaders(conn) });
  const body = await res.body.text();
  if (res.statusCode !== 200)
    throw new Error(
      `listing the EndpointSlices of Service ${namespace}/${service} failed: HTTP ${res.statusCode} ${body.slice(0, 300)} — the router's ServiceAccount needs list on endpointslices.discovery.k8s.io`,
    );
  const byName = new Map<string, Peer>();
  for (const slice of (JSON.parse(body) as EndpointSliceList).items ?? []) {
    const p =
      slice.ports?.find((x) => x.name === port) ?? (slice.ports?.length === 1 ? slice.ports[0] : undefined);
    if (!p?.port) continue;
    for (const e of slice.endpoints ?? []) {
      const name = e.targetRef?.name;
      const address = e.addresses?.[0];
      if (!name || !address) continue;
      const host = address.includes(':') ? `[${address}]` : address;
      byName.set(name, { name, url: `http://${host}:${p.port}` });
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Polls the EndpointSlices every `everyMs`; the last good list stays while the API is unreachable. */
export function endpointSlicePeers(
  conn: KubeConnection,
  namespace: string,
  service: string,
  warn: (m: string) => void,
  everyMs = 5_000,
): Peers & { ready: Promise<void> } {
  const agent = kubeAgent(conn);
  let current: Peer[] = [];
  let failing = false;
  const poll = async (): Promise<void> => {
    try {
      current = await readPeerSlices(conn, agent, namespace, service);
      if (failing) warn(`peers: the EndpointSlices of ${namespace}/${service} are readable again`);
      failing = false;
    } catch (err) {
      if (!failing) warn(`peers: ${(err as Error).message}; keeping the last list of replicas`);
      failing = true;
    }
  };
  const ready = poll();
  const timer = setInterval(() => void poll(), everyMs);
  timer.unref();
  return {
    ready,
    list: () => current,
    close: async () => {
      clearInterval(timer);
      await agent.close();
    },
  };
}
