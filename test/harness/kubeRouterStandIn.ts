/**
 * What a cluster adds around the router, for a real kube-apiserver without nodes:
 *
 * - a kubelet loop that copies the experiments ConfigMap into a folder — late, `kubeletDelayMs`
 *   after each change, like a kubelet's volume sync — and the token Secret's keys (admin and
 *   ingest token) into files;
 * - the real router process on this machine (`--kube-configmap`), watching its ConfigMap through
 *   the API server;
 * - a Pod object for it (the router's labels, Running, podIP = this machine's non-loopback
 *   address) and an EndpointSlice for the router Service with that address and the router's port,
 *   so the API server's service proxy reaches the process.
 *
 * The router config in the cluster names the router's port and the folders its volumes are
 * mounted at. With `paths: 'as-configured'` the caller made those the stand-in's own (KubeRuntime
 * `stack: { router: { port }, paths }`), and the router reads the API server directly. With
 * `paths: 'pod'` the config keeps the Pod's defaults (what the extension deploys), which a process
 * outside a Pod cannot use; the router then reads the API server through a loopback view that
 * plays the Pod's mount namespace: in the router's ConfigMap, as the router alone sees it, `listen`
 * becomes the stand-in's port and `dataDir`, `adminTokenFile`, `ingestTokenFile` and each `experimentFile` move into
 * the stand-in's folders (file names kept). Nothing in the cluster is rewritten, and the router's
 * reloads (the runtime's reload markers are comments) come through unchanged.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { isMap, isSeq, parseDocument } from 'yaml';
import { kubeRequest, readLive, serverSideApply, statusMessage } from '../../src/kube';
import {
  ADMIN_TOKEN_KEY,
  INGEST_TOKEN_KEY,
  ROUTER_CONFIG_KEY,
  routerSelector,
  stackNames,
} from '../../src/manifests';
import type { KubeApiServer } from './kubeApiServer';
import { startRouter, type RunningRouter } from './router';
import { freePort } from '../../src/runtime/ports';

export interface KubeRouterStandInOptions {
  kc: KubeConfig;
  context: string;
  namespace: string;
  api: Pick<KubeApiServer, 'url' | 'caPem' | 'clientCertPem' | 'clientKeyPem'>;
  /** Where the folders, credentials and the router's working directory go. */
  dir: string;
  /** 'as-configured': the config names the stand-in's port and folders; 'pod': the Pod's. */
  paths: 'as-configured' | 'pod';
  release?: string;
  /** How long the kubelet waits after an experiments ConfigMap change before copying it. Default 1500. */
  kubeletDelayMs?: number;
}

export interface KubeRouterStandIn {
  /** This machine's non-loopback IPv4 address (the Pod's IP). */
  address: string;
  /** The port the router listens on (0.0.0.0) and the EndpointSlice names. */
  port: number;
  /** The stand-in's folders (KubeRuntime `stack.paths` for 'as-configured'). */
  paths: { experimentsDir: string; adminDir: string; dataDir: string };
  /** The router process, once started. */
  router: RunningRouter | undefined;
  /** Experiments ConfigMap versions copied so far. */
  readonly syncs: number;
  /**
   * While true the kubelet loop leaves the router's copy of the admin-token Secret as it is, as a
   * kubelet does until its next sync: the router then holds an older token than the Secret.
   */
  holdSecret: boolean;
  /** Starts the router (after `up`: it reads its ConfigMap at start) with its Pod and EndpointSlice. */
  startRouter(): Promise<RunningRouter>;
  /** Stops the router, the view and the kubelet loop, and deletes the Pod and the EndpointSlice. */
  stop(): Promise<void>;
}

/** This machine's first non-loopback IPv4 address; the API server does not proxy to loopback. */
export function hostAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

export { freePort };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Makes the folders, picks the port and starts the kubelet loop; `startRouter()` once the stack is up. */
export async function kubeRouterStandIn(opts: KubeRouterStandInOptions): Promise<KubeRouterStandIn> {
  const address = hostAddress();
  if (!address) throw new Error('no non-loopback IPv4 address: the API server cannot proxy to this machine');
  const { kc, context, namespace: ns } = opts;
  const names = stackNames(opts.release);
  const paths = {
    experimentsDir: path.join(opts.dir, 'experiments'),
    adminDir: path.join(opts.dir, 'admin'),
    dataDir: path.join(opts.dir, 'router'),
  };
  for (const d of Object.values(paths)) await fs.promises.mkdir(d, { recursive: true });
  const port = await freePort();
  const kubelet = kubeletLoop(kc, context, ns, names, paths, opts.kubeletDelayMs ?? 1_500);
  const pod = `${names.router}-0`;
  let view: http.Server | undefined;
  let router: RunningRouter | undefined;

  const standIn: KubeRouterStandIn = {
    address,
    port,
    paths,
    get router() {
      return router;
    },
    get syncs() {
      return kubelet.syncs;
    },
    get holdSecret() {
      return kubelet.holdSecret;
    },
    set holdSecret(hold: boolean) {
      kubelet.holdSecret = hold;
    },
    async startRouter() {
      // The router reads adminTokenFile and ingestTokenFile at start: wait for the kubelet's first
      // copy of the Secret.
      const tokenFiles = [ADMIN_TOKEN_KEY, INGEST_TOKEN_KEY].map((k) => path.join(paths.adminDir, k));
      for (let i = 0; !tokenFiles.every((f) => fs.existsSync(f)); i++) {
        if (i > 100) throw new Error(`the admin-token Secret ${ns}/${names.adminToken} never arrived`);
        await sleep(100);
      }
      let server = await routerKubeArgs(opts.api, opts.dir);
      if (opts.paths === 'pod') {
        view = await podView(opts, names.routerConfig, port, paths);
        server = ['--kube-server', `http://127.0.0.1:${(view.address() as net.AddressInfo).port}`];
      }
      router = await startRouter(path.join(opts.dir, 'unused.yaml'), {
        cwd: opts.dir,
        args: ['--kube-configmap', `${ns}/${names.routerConfig}`, ...server],
      });
      await publishRouterPod(kc, context, ns, pod, address, port, opts.release);
      return router;
    },
    async stop() {
      await router?.stop();
      if (view) {
        view.closeAllConnections();
        await new Promise((r) => view!.close(r));
      }
      await kubelet.stop();
      for (const p of [
        `/api/v1/namespaces/${ns}/pods/${pod}`,
        `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${pod}`,
      ])
        await kubeRequest(kc, context, p, { method: 'DELETE' }).catch(() => undefined);
    },
  };
  return standIn;
}

/**
 * Writes the API server's credentials into `dir` and returns the router's flags to reach it
 * (`--kube-server`, `--kube-ca-file`, `--kube-cert-file`, `--kube-key-file`).
 */
export async function routerKubeArgs(
  api: Pick<KubeApiServer, 'url' | 'caPem' | 'clientCertPem' | 'clientKeyPem'>,
  dir: string,
): Promise<string[]> {
  const files = { ca: api.caPem, cert: api.clientCertPem, key: api.clientKeyPem };
  for (const [k, v] of Object.entries(files))
    await fs.promises.writeFile(path.join(dir, `${k}.pem`), v, { mode: 0o600 });
  return ['--kube-server', api.url]
    .concat(['--kube-ca-file', path.join(dir, 'ca.pem'), '--kube-cert-file', path.join(dir, 'cert.pem')])
    .concat(['--kube-key-file', path.join(dir, 'key.pem')]);
}

/**
 * What the service proxy checks, where no controller runs Pods or fills endpoints: a Running Pod
 * with the router's labels and `address`, and an EndpointSlice of the same name for the router
 * Service naming it at `port`.
 */
export async function publishRouterPod(
  kc: KubeConfig,
  context: string,
  ns: string,
  pod: string,
  address: string,
  port: number,
  release?: string,
): Promise<void> {
  await serverSideApply(
    kc,
    context,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod, namespace: ns, labels: routerSelector(release) },
      spec: { containers: [{ name: 'router', image: 'node:22.22.0-alpine' }] },
    } as KubernetesObject,
    { fieldManager: 'test' },
  );
  const res = await kubeRequest(kc, context, `/api/v1/namespaces/${ns}/pods/${pod}/status`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: JSON.stringify({ status: { phase: 'Running', podIP: address, podIPs: [{ ip: address }] } }),
  });
  if (res.status >= 300) throw new Error(`the Pod ${ns}/${pod} status: ${statusMessage(res)}`);
  await serverSideApply(
    kc,
    context,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: pod,
        namespace: ns,
        labels: { 'kubernetes.io/service-name': stackNames(release).router },
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [address],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: pod, namespace: ns },
        },
      ],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    } as KubernetesObject,
    { fieldManager: 'test' },
  );
}

/** Copies the experiments ConfigMap (late) and the admin-token Secret into the stand-in's folders. */
function kubeletLoop(
  kc: KubeConfig,
  context: string,
  ns: string,
  names: ReturnType<typeof stackNames>,
  paths: { experimentsDir: string; adminDir: string },
  delayMs: number,
): { stop(): Promise<void>; syncs: number; holdSecret: boolean } {
  let running = true;
  let seen = '';
  const state = { syncs: 0, holdSecret: false };
  const read = <T extends KubernetesObject>(apiVersion: string, kind: string, name: string) =>
    readLive<T>(kc, context, { apiVersion, kind, metadata: { name, namespace: ns } }).catch(() => undefined);
  const loop = (async () => {
    while (running) {
      const data = (await read<V1Secret>('v1', 'Secret', names.adminToken))?.data ?? {};
      // Every key (the admin token, the ingest token), atomically, as a kubelet swaps a Secret
      // volume: the router re-reads the admin token on every admin request and at start, and must
      // never see it truncated half-way through a write.
      for (const [key, encoded] of Object.entries(data)) {
        if (state.holdSecret) break;
        const file = path.join(paths.adminDir, key);
        const value = Buffer.from(encoded, 'base64');
        const current = await fs.promises.readFile(file).catch(() => undefined);
        if (!current?.equals(value)) {
          await fs.promises.writeFile(`${file}.tmp`, value);
          await fs.promises.rename(`${file}.tmp`, file);
        }
      }
      const cm = await read<V1ConfigMap>('v1', 'ConfigMap', names.experiments);
      const version = cm?.metadata?.resourceVersion ?? '';
      if (cm && version !== seen) {
        seen = version;
        await sleep(delayMs);
        for (const [k, v] of Object.entries(cm.data ?? {}))
          await fs.promises.writeFile(path.join(paths.experimentsDir, k), v);
        state.syncs++;
      }
      await sleep(100);
    }
  })();
  return Object.assign(state, {
    async stop() {
      running = false;
      await loop;
    },
  });
}

/**
 * A loopback HTTP view of the API server for the router alone: requests go on to the API server
 * with the test's client certificate; the router's ConfigMap, read or watched, comes back with
 * the Pod's port and folders replaced by the stand-in's.
 */
async function podView(
  opts: KubeRouterStandInOptions,
  configMapName: string,
  port: number,
  paths: { experimentsDir: string; adminDir: string; dataDir: string },
): Promise<http.Server> {
  const upstream = new URL(opts.api.url);
  const agent = new https.Agent({
    ca: opts.api.caPem,
    cert: opts.api.clientCertPem,
    key: opts.api.clientKeyPem,
    keepAlive: true,
  });
  const rewrite = (obj: V1ConfigMap | undefined): void => {
    const text = obj?.metadata?.name === configMapName ? obj.data?.[ROUTER_CONFIG_KEY] : undefined;
    if (obj?.data && text !== undefined) obj.data[ROUTER_CONFIG_KEY] = asOutsideThePod(text, port, paths);
  };
  const server = http.createServer((req, res) => {
    const forward = https.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent,
      },
      (up) => {
        const headers = { ...up.headers };
        delete headers['content-length'];
        res.writeHead(up.statusCode ?? 502, headers);
        // A watch sends no body until the first event: the router must still get the headers now.
        res.flushHeaders();
        up.setEncoding('utf8');
        let buffered = '';
        // Watch events are one JSON object a line; a plain read is one object.
        const emit = (line: string, end: string): void => {
          if (!line.trim()) return void res.write(line + end);
          try {
            const parsed = JSON.parse(line) as { kind?: string; object?: V1ConfigMap } & V1ConfigMap;
            rewrite(parsed.object ?? parsed);
            res.write(JSON.stringify(parsed) + end);
          } catch {
            res.write(line + end);
          }
        };
        up.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            emit(buffered.slice(0, nl), '\n');
            buffered = buffered.slice(nl + 1);
          }
        });
        up.on('end', () => {
          if (buffered) emit(buffered, '');
          res.end();
        });
        up.on('error', () => res.destroy());
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`the stand-in's view of the API server failed: ${err.message}`);
    });
    // The router gave up on a request (a watch it restarts): end the request to the API server too.
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  });
  server.on('close', () => agent.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The router config with the Pod's port and mount folders replaced by the stand-in's (comments kept). */
export function asOutsideThePod(
  text: string,
  port: number,
  paths: { experimentsDir: string; adminDir: string; dataDir: string },
): string {
  const doc = parseDocument(text);
  const host = String(doc.get('listen') ?? '0.0.0.0:0').replace(/:\d+$/, '');
  doc.set('listen', `${host}:${port}`);
  if (doc.has('dataDir'))
    doc.set('dataDir', path.join(paths.dataDir, path.basename(String(doc.get('dataDir')))));
  for (const key of ['adminTokenFile', 'ingestTokenFile'])
    if (doc.has(key)) doc.set(key, path.join(paths.adminDir, path.basename(String(doc.get(key)))));
  const experiments = doc.get('experiments');
  if (isSeq(experiments))
    for (const e of experiments.items)
      if (isMap(e) && e.has('experimentFile'))
        e.set(
          'experimentFile',
          path.join(paths.experimentsDir, path.basename(String(e.get('experimentFile')))),
        );
  return doc.toString();
}
