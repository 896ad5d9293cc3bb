/**
 * The router config from a Kubernetes ConfigMap, watched through the API server so a change
 * applies within a second — plain HTTPS with undici rather than @kubernetes/client-node, which
 * would add megabytes to the router bundle for two GET requests.
 *
 * Credentials: in a Pod, the service account's token and CA (the API server from
 * KUBERNETES_SERVICE_HOST/PORT); outside, explicit flags or MODEL_CANARY_KUBE_* variables
 * (server URL, CA file, and a client certificate and key or a token file).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnection {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  /** Re-read before each request: projected service-account tokens rotate. */
  tokenFile?: string;
}

export interface KubeFlags {
  server?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  tokenFile?: string;
}

/** Connection from flags, then MODEL_CANARY_KUBE_* variables, then the in-cluster service account. */
export function kubeConnection(flags: KubeFlags, env: NodeJS.ProcessEnv = process.env): KubeConnection {
  const server =
    flags.server ??
    env.MODEL_CANARY_KUBE_SERVER ??
    (env.KUBERNETES_SERVICE_HOST
      ? `https://${env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`
      : undefined);
  if (!server)
    throw new Error(
      'no Kubernetes API server: run in a Pod, or pass --kube-server (or set MODEL_CANARY_KUBE_SERVER) with --kube-ca-file and a client certificate or token',
    );
  const inCluster = !flags.server && !env.MODEL_CANARY_KUBE_SERVER;
  const caFile =
    flags.caFile ?? env.MODEL_CANARY_KUBE_CA_FILE ?? (inCluster ? `${SA_DIR}/ca.crt` : undefined);
  const certFile = flags.certFile ?? env.MODEL_CANARY_KUBE_CERT_FILE;
  const keyFile = flags.keyFile ?? env.MODEL_CANARY_KUBE_KEY_FILE;
  const tokenFile =
    flags.tokenFile ??
    env.MODEL_CANARY_KUBE_TOKEN_FILE ??
    (inCluster && !certFile ? `${SA_DIR}/token` : undefined);
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the Kubernetes ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return {
    server: server.replace(/\/+$/, ''),
    ...(caFile ? { ca: read(caFile, 'CA') } : {}),
    ...(certFile ? { cert: read(certFile, 'client certificate') } : {}),
    ...(keyFile ? { key: read(keyFile, 'client key') } : {}),
    ...(tokenFile ? { token: read(tokenFile, 'token').trim(), tokenFile } : {}),
  };
}

/** An HTTPS agent for the API server (`bodyTimeout` 0 for watches). */
export function kubeAgent(conn: KubeConnection, bodyTimeout = 30_000): Agent {
  return new Agent({
    connect: {
      ...(conn.ca ? { ca: conn.ca } : {}),
      ...(conn.cert ? { cert: conn.cert, key: conn.key } : {}),
    },
    bodyTimeout,
    headersTimeout: 10_000,
  });
}

/** Request headers: JSON, and the bearer token (re-read from its file: projected tokens rotate). */
export function kubeHeaders(conn: KubeConnection): Record<string, string> {
  let token = conn.token;
  if (conn.tokenFile) {
    try {
      token = readFileSync(conn.tokenFile, 'utf8').trim();
    } catch {
      // keep the last token
    }
  }
  return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

/** The data of ConfigMap `namespace/name`, read once (undefined when it does not exist). */
export async function readConfigMapData(
  conn: KubeConnection,
  agent: Agent,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const url = `${conn.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
  const res = await request(url, { dispatcher: agent, headers: kubeHeaders(conn) });
  const body = await res.body.text();
  if (res.statusCode === 404) return undefined;
  if (res.statusCode !== 200)
    throw new Error(
      `reading ConfigMap ${namespace}/${name} failed: HTTP ${res.statusCode} ${body.slice(0, 300)}`,
    );
  return (JSON.parse(body) as ConfigMap).data ?? {};
}

export interface ConfigMap {
  metadata?: { resourceVersion?: string; name?: string; namespace?: string };
  data?: Record<string, string>;
}

/** The key beside the config where the rollout leader keeps the rollouts' durable state. */
export const ROLLOUT_STATE_KEY = 'rollout-state.json';
/** The key beside the config where each experiment's current run is kept (./runsTruth.ts). */
export const RUNS_KEY = 'runs.json';
const STATE_KEYS = new Set([ROLLOUT_STATE_KEY, RUNS_KEY]);

/** The config text of a ConfigMap's data: key `key`, else its only key, else `router.yaml`. */
export function configText(data: Record<string, string>, key: string | undefined, where: string): string {
  const keys = Object.keys(data).filter((k) => !STATE_KEYS.has(k));
  const chosen = key ?? (keys.length === 1 ? keys[0] : keys.find((k) => /^router\.ya?ml$/.test(k)));
  const text = chosen === undefined ? undefined : data[chosen];
  if (text === undefined)
    throw new Error(
      `${where} has no key ${key ? `"${key}"` : '"router.yaml"'} (keys: ${keys.join(', ') || 'none'}) — pass --kube-configmap-key`,
    );
  return text;
}

/** The key `configText` reads (the same choice). */
export function configKey(data: Record<string, string>, key: string | undefined): string {
  if (key) return key;
  const keys = Object.keys(data).filter((k) => !STATE_KEYS.has(k));
  return (keys.length === 1 ? keys[0] : keys.find((k) => /^router\.ya?ml$/.test(k))) ?? 'router.yaml';
}

export interface ConfigMapWatcher {
  /** Reads the ConfigMap once and returns the config text. */
  read(): Promise<string>;
  /** Watches from the last read version on; `onChange` gets each new config text. */
  start(onChange: (text: string) => Promise<void>): void;
  stop(): Promise<void>;
}

/** Watches `namespace/name`, key `key` (or the only key of the ConfigMap). */
export function watchConfigMap(
  conn: KubeConnection,
  namespace: string,
  name: string,
  key: string | undefined,
  warn: (m: string) => void,
  /** Gets every version's whole data (the rollout state beside the config, ./configMapTruth.ts). */
  onData?: (data: Record<string, string>) => void,
): ConfigMapWatcher {
  // A watch stays open for minutes; only a silent connection should end it.
  const agent = kubeAgent(conn, 0);
  const abort = new AbortController();
  const base = `${conn.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  const where = `ConfigMap ${namespace}/${name}`;
  let resourceVersion = '';
  let lastText: string | undefined;
  let loop: Promise<void> | undefined;

  const headers = (): Record<string, string> => kubeHeaders(conn);

  const textOf = (cm: ConfigMap): string => {
    onData?.(cm.data ?? {});
    return configText(cm.data ?? {}, key, where);
  };

  // Reads the current text and version (without marking it as applied).
  async function fetchText(): Promise<string> {
    const res = await request(`${base}/${encodeURIComponent(name)}`, {
      dispatcher: agent,
      headers: headers(),
      signal: abort.signal,
    });
    const body = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`reading ${where} failed: HTTP ${res.statusCode} ${body.slice(0, 300)}`);
    const cm = JSON.parse(body) as ConfigMap;
    resourceVersion = cm.metadata?.resourceVersion ?? '';
    return textOf(cm);
  }

  async function read(): Promise<string> {
    lastText = await fetchText();
    return lastText;
  }

  async function watchOnce(onChange: (text: string) => Promise<void>): Promise<void> {
    const query = new URLSearchParams({
      watch: '1',
      fieldSelector: `metadata.name=${name}`,
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: '300',
    });
    const res = await request(`${base}?${query}`, {
      dispatcher: agent,
      headers: headers(),
      signal: abort.signal,
    });
    if (res.statusCode !== 200) {
      const body = await res.body.text();
      throw new Error(`watching ${where} failed: HTTP ${res.statusCode} ${body.slice(0, 300)}`);
    }
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const event = JSON.parse(line) as { type: string; object: ConfigMap & { code?: number } };
        if (event.type === 'ERROR') {
          // 410 Gone: our version is too old to watch from; read afresh and watch from there.
          if (event.object.code === 410) {
            await deliver(await fetchText(), onChange);
            return;
          }
          throw new Error(`watch error: ${JSON.stringify(event.object).slice(0, 300)}`);
        }
        resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
        if (event.type === 'ADDED' || event.type === 'MODIFIED') {
          let text: string;
          try {
            text = textOf(event.object);
          } catch (err) {
            warn((err as Error).message);
            continue;
          }
          await deliver(text, onChange);
        } else if (event.type === 'DELETED') {
          warn(`${where} was deleted; the router keeps its current config`);
        }
      }
    }
  }

  async function deliver(text: string, onChange: (text: string) => Promise<void>): Promise<void> {
    if (text === lastText) return;
    lastText = text;
    await onChange(text).catch((err: unknown) =>
      warn(`config from ${where} not applied: ${(err as Error).message}`),
    );
  }

  return {
    read,
    start(onChange) {
      loop = (async () => {
        let failures = 0;
        while (!abort.signal.aborted) {
          try {
            await watchOnce(onChange);
            failures = 0;
          } catch (err) {
            if (abort.signal.aborted) break;
            failures++;
            warn(`${where}: ${(err as Error).message}; retrying`);
            await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** Math.min(failures, 5))));
            // After an error the version may be stale: read again, applying any change missed.
            await fetchText()
              .then((text) => deliver(text, onChange))
              .catch(() => undefined);
          }
        }
      })();
    },
    async stop() {
      abort.abort();
      await loop?.catch(() => undefined);
      await agent.close().catch(() => undefined);
    },
  };
}
