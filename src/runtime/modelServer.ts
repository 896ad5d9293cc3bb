/**
 * One MLServer serving one model version on free loopback ports, its output in a log file,
 * readiness awaited on the model's own V2 endpoint: one process, or several sharing its ports
 * when sized to a variant's traffic share (./mlserverWorkers.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SHARED_PORT_SUPPORTED, waitAllWorkersReady, workersCommand } from './mlserverWorkers';
import { freePorts } from './ports';
import { isAlive } from './state';

export interface ModelServerOptions {
  /** The `mlserver` entry point of the environment. */
  mlserver: string;
  /** Folder with model-settings.json. */
  modelDir: string;
  /** MLServer's model name (model-settings.json `name`). */
  modelName: string;
  logFile: string;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  /** Keep serving after this process exits (the CLI's `deploy`); stop it later with stopProcessGroup. */
  detach?: boolean;
  /** MLServer processes sharing the ports (default 1; 1 where the system cannot share them). */
  workers?: number;
}

export interface ModelServer {
  pid: number;
  modelName: string;
  url: string;
  ports: { http: number; grpc: number; metrics: number };
  /** MLServer processes behind the ports. */
  workers: number;
  logFile: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(graceMs?: number): Promise<void>;
}

export class ModelServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelServerError';
  }
}

/** Starts MLServer on free ports and resolves once the model answers ready. */
export async function startModelServer(opts: ModelServerOptions): Promise<ModelServer> {
  const workers = SHARED_PORT_SUPPORTED ? Math.max(1, Math.floor(opts.workers ?? 1)) : 1;
  const [http, grpc, metrics, ...moreMetrics] = (await freePorts(2 + workers)) as [
    number,
    number,
    number,
    ...number[],
  ];
  await mkdir(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  await new Promise((resolve) => log.once('open', resolve));
  const { command, args } = workersCommand(opts.mlserver, opts.modelDir, workers, [metrics, ...moreMetrics]);
  const child = spawn(command, args, {
    env: {
      ...process.env,
      MLSERVER_HOST: '127.0.0.1',
      MLSERVER_HTTP_PORT: String(http),
      MLSERVER_GRPC_PORT: String(grpc),
      MLSERVER_METRICS_PORT: String(metrics),
      // MLServer 1.7's separate inference worker dies at start with uvloop ≥ 0.22
      // (SeldonIO/MLServer#2286); in-process inference is also lighter for small models.
      MLSERVER_PARALLEL_WORKERS: '0',
      PYTHONUNBUFFERED: '1',
      // scikit-learn's OpenMP pool spins on every core for a one-row prediction; with several
      // model servers on one machine that contention turns milliseconds into seconds.
      OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1',
    },
    stdio: ['ignore', log, log],
    // Its own process group, so stop() also reaches anything MLServer spawns.
    detached: true,
  });
  if (opts.detach) child.unref();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(new ModelServerError(`cannot start MLServer (${opts.mlserver}): ${err.message}`)),
    ),
  );
  const url = `http://127.0.0.1:${http}`;
  const server: ModelServer = {
    pid: child.pid ?? -1,
    modelName: opts.modelName,
    url,
    ports: { http, grpc, metrics },
    workers,
    logFile: opts.logFile,
    stop: (graceMs = 10_000) => stopProcess(child, exited, graceMs).finally(() => log.end()),
  };
  const readyUrl = `${url}/v2/models/${encodeURIComponent(opts.modelName)}/ready`;
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  try {
    await Promise.race([
      waitReady(readyUrl, timeoutMs, opts.signal).then(() =>
        workers > 1 ? waitAllWorkersReady(readyUrl, workers, Date.now() + timeoutMs, opts.signal) : undefined,
      ),
      spawnFailed,
      exited.then(async (code) => {
        throw new ModelServerError(
          `MLServer for ${opts.modelName} exited with code ${code} before it was ready — last log lines:\n${await tail(opts.logFile)}`,
        );
      }),
    ]);
  } catch (err) {
    await server.stop(2_000);
    if (err instanceof ModelServerError || (err as Error).name === 'AbortError') throw err;
    throw new ModelServerError(
      `MLServer for ${opts.modelName} did not become ready: ${(err as Error).message}\n${await tail(opts.logFile)}`,
    );
  }
  return server;
}

async function waitReady(url: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no 200 from ${url} within ${Math.round(timeoutMs / 1000)} s`);
}

async function stopProcess(
  child: ChildProcess,
  exited: Promise<number | null>,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const group = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid ?? 0), sig);
    } catch {
      // already gone
    }
  };
  group('SIGTERM');
  const timer = setTimeout(() => group('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  group('SIGKILL'); // stragglers in the group
}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Stops a process group started earlier (possibly by another process): SIGTERM, then SIGKILL. */
export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch {
      try {
        process.kill(pid, sig); // not a group leader after all
        return true;
      } catch {
        return false;
      }
    }
  };
  if (!signal('SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  signal('SIGKILL');
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
}

function alive(pid: number): boolean {
  return isAlive(pid);
}
