/**
 * A node for a real kube-apiserver without a real node: the kubelet-standin binary
 * (tools/kubelet-standin, built by tools/build-kube.sh) serves the kubelet's port-forward endpoint
 * with the kubelet's own streaming code (k8s.io/cri-streaming) and dials ports on this machine.
 * A Node object points the API server at it (InternalIP 127.0.0.1, kubeletEndpoint = its port), and
 * Pods bound to that Node and marked Running can be port-forwarded through `pods/portforward`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { kubeRequest, statusMessage } from '../../src/kube/request';
import { kubeBinaries } from './kubeApiServer';

export interface KubeletStandIn {
  nodeName: string;
  /** The HTTPS port the stand-in serves (the Node's kubeletEndpoint). */
  port: number;
  logFile: string;
  /** Creates a Pod bound to this node and sets its status to Running (podIP 127.0.0.1). */
  createRunningPod(namespace: string, name: string, containerPort?: number): Promise<V1Pod>;
  /** Stops the stand-in (SIGTERM, then SIGKILL) and deletes the Node object. */
  stop(): Promise<void>;
}

export interface KubeletStandInOptions {
  /** Node name to register. Default `standin-node`. */
  nodeName?: string;
  /** Pod port → host:port to dial for it; ports not listed dial 127.0.0.1:<port>. */
  targets?: Record<number, string>;
  /** Where the stand-in's log goes. */
  dir: string;
  startTimeoutMs?: number;
}

// Stand-ins still running when Node exits (a crashed test run) would otherwise keep their ports.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The stand-in built next to kube-apiserver by tools/build-kube.sh; a clear error when it is missing. */
export function kubeletStandInBinary(): string {
  const file = path.join(path.dirname(kubeBinaries().kubeApiServer), 'kubelet-standin');
  if (!fs.existsSync(file))
    throw new Error(`kubelet-standin is not built at ${file} — run: bash tools/build-kube.sh`);
  return file;
}

/** Starts the stand-in on a free loopback port and registers a Ready Node pointing at it. */
export async function startKubeletStandIn(
  kc: KubeConfig,
  context: string,
  opts: KubeletStandInOptions,
): Promise<KubeletStandIn> {
  const nodeName = opts.nodeName ?? 'standin-node';
  const logFile = path.join(opts.dir, `kubelet-standin-${nodeName}.log`);
  const args = ['--listen=127.0.0.1:0'];
  for (const [port, addr] of Object.entries(opts.targets ?? {})) args.push(`--target=${port}=${addr}`);
  const child = spawn(kubeletStandInBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };

  let port: number;
  try {
    port = await servingPort(child, opts.startTimeoutMs ?? 10_000);
    await send(kc, context, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
    });
    // A kubelet reports these through the status subresource; the API server reads them to find it.
    await send(kc, context, 'PATCH', `/api/v1/nodes/${nodeName}/status`, {
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet-standin',
            lastHeartbeatTime: now(),
            lastTransitionTime: now(),
          },
        ],
      },
    });
  } catch (err) {
    await stopChild();
    throw new Error(`kubelet-standin did not start: ${(err as Error).message}\n${tail(logFile)}`, {
      cause: err,
    });
  }

  return {
    nodeName,
    port,
    logFile,
    async createRunningPod(namespace, name, containerPort = 80) {
      await send(kc, context, 'POST', `/api/v1/namespaces/${namespace}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace },
        spec: {
          nodeName,
          containers: [{ name: 'main', image: 'registry.invalid/standin:1', ports: [{ containerPort }] }],
        },
      });
      return (await send(kc, context, 'PATCH', `/api/v1/namespaces/${namespace}/pods/${name}/status`, {
        status: {
          phase: 'Running',
          hostIP: '127.0.0.1',
          podIP: '127.0.0.1',
          startTime: now(),
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now() }],
        },
      })) as V1Pod;
    },
    async stop() {
      await stopChild();
      await kubeRequest(kc, context, `/api/v1/nodes/${nodeName}`, { method: 'DELETE' }).catch(
        () => undefined,
      );
    },
  };
}

/** The port from the stand-in's "serving https://127.0.0.1:<port>" line. */
function servingPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "serving" line within ${timeoutMs} ms`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = /serving https:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${signal ?? `code ${code}`})`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function send(
  kc: KubeConfig,
  context: string,
  method: string,
  p: string,
  body: object,
): Promise<unknown> {
  const res = await kubeRequest(kc, context, p, {
    method,
    body: JSON.stringify(body),
    contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
  });
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${statusMessage(res)}`);
  return JSON.parse(res.text) as unknown;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function tail(file: string, bytes = 3000): string {
  try {
    const buf = fs.readFileSync(file);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '(no log)';
  }
}
