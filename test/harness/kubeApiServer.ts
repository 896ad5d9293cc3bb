/**
 * A real Kubernetes control plane for tests: etcd + kube-apiserver started the way controller-runtime's envtest
 * does it (pkg/internal/testing/controlplane), with certificates made by the `openssl` CLI (kubeCerts.ts).
 * No controller-manager or scheduler runs, so Deployments are stored but never get Pods.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { makeCerts } from './kubeCerts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface KubeBinaries {
  kubernetesVersion: string;
  etcdVersion: string;
  etcd: string;
  kubeApiServer: string;
}

export interface StartKubeApiServerOptions {
  /** How long etcd plus kube-apiserver may take to become ready. Default 90 s. */
  startTimeoutMs?: number;
  /** How long each process gets between SIGTERM and SIGKILL on stop. Default 10 s. */
  stopTimeoutMs?: number;
  /** Extra kube-apiserver flags, appended after the defaults (later flags win for scalar flags). */
  extraApiServerArgs?: string[];
}

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  caPem: string;
  /** Client certificate of an admin user in group system:masters. */
  clientCertPem: string;
  clientKeyPem: string;
  /** Temp dir holding certs, etcd data and the logs etcd.log / kube-apiserver.log. */
  dir: string;
  /** A self-contained kubeconfig (embedded base64 data) with one cluster, one user and one context. */
  kubeconfigFor(contextName: string, clusterName?: string, userName?: string): string;
  /** Stops kube-apiserver then etcd (SIGTERM, then SIGKILL after the timeout) and removes the temp dir. */
  stop(): Promise<void>;
}

/** Locates etcd and kube-apiserver built by tools/build-kube.sh for the versions pinned in tools/versions.env. */
export function kubeBinaries(env: NodeJS.ProcessEnv = process.env): KubeBinaries {
  const versions = readVersionsEnv(path.join(repoRoot, 'tools', 'versions.env'));
  const kubernetesVersion = versions.get('KUBERNETES_VERSION');
  const etcdVersion = versions.get('ETCD_VERSION');
  if (!kubernetesVersion || !etcdVersion) {
    throw new Error('tools/versions.env must define KUBERNETES_VERSION and ETCD_VERSION');
  }
  // Same cache layout as tools/build-kube.sh.
  const cache = env.MODEL_CANARY_CACHE || path.join(os.homedir(), '.cache', 'model-canary');
  const dir = path.join(cache, 'kube', `${kubernetesVersion}-etcd-${etcdVersion}`);
  const bins = {
    kubernetesVersion,
    etcdVersion,
    etcd: path.join(dir, 'etcd'),
    kubeApiServer: path.join(dir, 'kube-apiserver'),
  };
  const missing = [bins.etcd, bins.kubeApiServer].filter((file) => !isExecutable(file));
  if (missing.length > 0) {
    throw new Error(
      `Missing Kubernetes test binaries (kube-apiserver ${kubernetesVersion}, etcd ${etcdVersion}): ` +
        `${missing.join(', ')}. Build them with: bash tools/build-kube.sh`,
    );
  }
  return bins;
}

/** Starts a fresh etcd + kube-apiserver on free loopback ports and resolves once /readyz answers ok. */
export async function startKubeApiServer(opts: StartKubeApiServerOptions = {}): Promise<KubeApiServer> {
  const bins = kubeBinaries();
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const deadline = Date.now() + startTimeoutMs;

  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'model-canary-kube-'));
  const procs: Managed[] = [];
  const stop = async (): Promise<void> => {
    // Reverse start order: the API server first, so it does not log etcd connection errors while shutting down.
    for (const p of [...procs].reverse()) await stopProcess(p, stopTimeoutMs);
    await fs.promises.rm(dir, { recursive: true, force: true });
  };

  try {
    const [etcdClientPort, etcdPeerPort, securePort] = await freePorts(3);
    const certs = await makeCerts(path.join(dir, 'pki'));

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = launch('etcd', bins.etcd, dir, [
      '--name=default',
      `--data-dir=${path.join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=default=${etcdPeerUrl}`,
      // Test data is disposable; skipping fsync is what makes envtest's etcd fast.
      '--unsafe-no-fsync=true',
    ]);
    procs.push(etcd);
    await waitFor(etcd, deadline, async () => {
      const body = await httpGet(`${etcdUrl}/health`);
      return body.status === 200 && /"health":\s*"true"/.test(body.text);
    });

    const url = `https://127.0.0.1:${securePort}`;
    const apiserver = launch('kube-apiserver', bins.kubeApiServer, dir, [
      `--etcd-servers=${etcdUrl}`,
      `--tls-cert-file=${certs.servingCert}`,
      `--tls-private-key-file=${certs.servingKey}`,
      `--client-ca-file=${certs.caCert}`,
      `--service-account-issuer=${url}/`,
      `--service-account-key-file=${certs.saPub}`,
      `--service-account-signing-key-file=${certs.saKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      `--secure-port=${securePort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // Recent kube-apiservers refuse a loopback advertise address for the `kubernetes` Service endpoints; with no
      // nodes or Pods nothing reaches the API server through that Service, so skip maintaining it.
      '--endpoint-reconciler-type=none',
      // Without a controller-manager nobody creates the default ServiceAccount, so admission would reject Pods.
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      ...(opts.extraApiServerArgs ?? []),
    ]);
    procs.push(apiserver);

    const caPem = await fs.promises.readFile(certs.caCert, 'utf8');
    const clientCertPem = await fs.promises.readFile(certs.clientCert, 'utf8');
    const clientKeyPem = await fs.promises.readFile(certs.clientKey, 'utf8');
    const tlsOpts = { ca: caPem, cert: clientCertPem, key: clientKeyPem };
    await waitFor(apiserver, deadline, async () => {
      const res = await httpGet(`${url}/readyz`, tlsOpts);
      return res.status === 200 && res.text.trim() === 'ok';
    });

    return {
      url,
      caPem,
      clientCertPem,
      clientKeyPem,
      dir,
      kubeconfigFor: (contextName, clusterName = contextName, userName = `${contextName}-admin`) =>
        toYaml({
          apiVersion: 'v1',
          kind: 'Config',
          preferences: {},
          'current-context': contextName,
          clusters: [
            { name: clusterName, cluster: { server: url, 'certificate-authority-data': b64(caPem) } },
          ],
          users: [
            {
              name: userName,
              user: { 'client-certificate-data': b64(clientCertPem), 'client-key-data': b64(clientKeyPem) },
            },
          ],
          contexts: [{ name: contextName, context: { cluster: clusterName, user: userName } }],
        }),
      stop,
    };
  } catch (err) {
    // Latest process first: it is the one that failed, and etcd's log is mostly noise.
    const logs = [...procs]
      .reverse()
      .map((p, i) => `--- ${p.name} (${p.logFile}) ---\n${tail(p.logFile, i === 0 ? 6000 : 1500)}`)
      .join('\n');
    await stop().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`Failed to start kube-apiserver: ${message}\n${logs}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  exitInfo?: string;
}

// Children still running when Node exits (a crashed test run) would otherwise keep ports and etcd data alive.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function launch(name: string, bin: string, dir: string, args: string[]): Managed {
  const logFile = path.join(dir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd); // the child holds its own copy
  live.add(child);
  const managed: Managed = {
    name,
    child,
    logFile,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        managed.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        live.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        managed.exitInfo = `spawn error: ${err.message}`;
        live.delete(child);
        resolve();
      });
    }),
  };
  return managed;
}

async function stopProcess(p: Managed, timeoutMs: number): Promise<void> {
  if (p.exitInfo !== undefined) return;
  p.child.kill('SIGTERM');
  const timedOut = await Promise.race([p.exited.then(() => false), sleep(timeoutMs).then(() => true)]);
  if (timedOut) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** Polls `ready` until it is true, failing fast if the process exits and with a timeout at `deadline`. */
async function waitFor(p: Managed, deadline: number, ready: () => Promise<boolean>): Promise<void> {
  let lastError = 'not ready yet';
  for (;;) {
    if (p.exitInfo !== undefined) throw new Error(`${p.name} exited (${p.exitInfo}) before becoming ready`);
    try {
      if (await ready()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${p.name} not ready before the timeout (last: ${lastError})`);
    await sleep(100);
  }
}

function httpGet(
  url: string,
  tlsOpts?: { ca: string; cert: string; key: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    };
    const req = tlsOpts
      ? https.get(url, { ...tlsOpts, timeout: 2000 }, onResponse)
      : http.get(url, { timeout: 2000 }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

// Ports handed out by this process; two servers starting concurrently must not be given the same one.
const reservedPorts = new Set<number>();

/** Free loopback ports, all listened on at once so the OS hands out distinct ones. */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const port = (server.address() as net.AddressInfo).port;
      if (reservedPorts.has(port)) continue;
      reservedPorts.add(port);
      ports.push(port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
  return ports;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function readVersionsEnv(file: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) vars.set(m[1], m[2].trim().replace(/^(['"])(.*)\1$/, '$2'));
  }
  return vars;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function tail(file: string, bytes = 4000): string {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '(no log)';
  }
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
