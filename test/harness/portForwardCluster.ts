/**
 * What the port-forward suites share: a real kube-apiserver (1.37, `pods/portforward`) with the
 * kubelet's real streaming code behind it (tools/kubelet-standin: k8s.io/cri-streaming's
 * ServePortForward). The Pod's process is an HTTP server on loopback; the stand-in node dials it for
 * the Pod's port 8080. Plus the small HTTP and assertion helpers both suites use.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, statusMessage } from '../../src/kube';
import { PortForwardError } from '../../src/kube/portForward';
import { startKubeApiServer, type KubeApiServer } from './kubeApiServer';
import { startKubeletStandIn, type KubeletStandIn } from './kubeletStandIn';
import { freePort } from '../../src/runtime/ports';

export const CONTEXT = 'cluster';
export const NS = 'mc-pf';
export const POD_PORT = 8080;
export const DEAD_PORT = 8081; // mapped to a loopback port nothing listens on

/** Deterministic bytes, so a corrupted or reordered chunk changes the hash. */
export function blob(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; i++)
    off += crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}
export const sha256 = (b: Buffer | string): string => crypto.createHash('sha256').update(b).digest('hex');
export const BLOB = blob(400 * 1024 + 7, 'download');

/** The Pod's process: /hello, /blob (400 KB), /echo (hash and size of the body), /slow (holds the connection). */
export function startPodProcess(): Promise<{ server: http.Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://pod');
    if (url.pathname === '/hello') {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`hello ${url.searchParams.get('id') ?? ''}`.trim());
    } else if (url.pathname === '/blob') {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(BLOB);
    } else if (url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            method: req.method,
            bytes: body.length,
            sha256: sha256(body),
            via: req.headers['x-via'],
          }),
        );
      });
    } else if (url.pathname === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started\n'); // and never ends: the forward's close must end it
    } else {
      res.writeHead(404).end('no such path');
    }
  });
  server.on('connection', () => connections++);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as net.AddressInfo).port, connections: () => connections }),
    ),
  );
}

export { freePort };

export interface Got {
  status: number;
  body: Buffer;
  contentType: string;
}

export function get(
  port: number,
  p: string,
  init: { method?: string; body?: Buffer; agent?: http.Agent } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: p, method: init.method ?? 'GET', agent: init.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            contentType: String(res.headers['content-type']),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${p} timed out`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Resolves with the error code of a TCP connect to the port (undefined when it connects). */
export function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

export async function rejectsWith(
  p: Promise<unknown>,
  reason: string,
  message: RegExp,
): Promise<PortForwardError> {
  const err = await p.then(
    () => assert.fail(`expected a ${reason} PortForwardError`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PortForwardError, `not a PortForwardError: ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  assert.match(err.message, message);
  return err;
}

export type PodProcess = Awaited<ReturnType<typeof startPodProcess>>;

/** The API server, the Pod's process and the stand-in node of one suite, with a Running Pod `web`. */
export interface PortForwardCluster {
  server: KubeApiServer;
  kc: KubeConfig;
  pod: PodProcess;
  node: KubeletStandIn;
  /** An admin request to the API server; throws on a status of 300 or more. */
  send: (method: string, p: string, body?: object) => Promise<unknown>;
  /** The end of the stand-in node's log, for a failed test. */
  nodeLog(): string;
  stop(): Promise<void>;
}

/** Starts the API server, the Pod's process and the stand-in node, and creates namespace NS and Pod `web`. */
export async function startPortForwardCluster(): Promise<PortForwardCluster> {
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'model-canary-pf-'));
  let server: KubeApiServer | undefined;
  let node: KubeletStandIn | undefined;
  const pod = await startPodProcess();
  const stop = async (): Promise<void> => {
    await node?.stop();
    await server?.stop();
    await new Promise((resolve) => pod.server.close(resolve));
    await fs.promises.rm(tmp, { recursive: true, force: true });
  };
  try {
    server = await startKubeApiServer();
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfigFor(CONTEXT));
    const send = async (method: string, p: string, body?: object): Promise<unknown> => {
      const res = await kubeRequest(kc, CONTEXT, p, {
        method,
        ...(body ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
      });
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${statusMessage(res)}`);
      return JSON.parse(res.text) as unknown;
    };
    await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    node = await startKubeletStandIn(kc, CONTEXT, {
      dir: tmp,
      targets: { [POD_PORT]: `127.0.0.1:${pod.port}`, [DEAD_PORT]: `127.0.0.1:${await freePort()}` },
    });
    await node.createRunningPod(NS, 'web', POD_PORT);
    const logFile = node.logFile;
    return {
      server,
      kc,
      pod,
      node,
      send,
      nodeLog: () => fs.readFileSync(logFile, 'utf8').slice(-3000),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
