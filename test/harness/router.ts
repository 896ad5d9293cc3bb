/**
 * The real router binary (`node dist/router.js`) for integration tests and benchmarks: built
 * when a source is newer than the bundle, started on a free loopback port with a config the
 * test writes, and stopped by signal.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';
import { REPO_ROOT } from './tools';

export const ROUTER_BUNDLE = join(REPO_ROOT, 'dist/router.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Rebuilds dist/router.js (`node esbuild.mjs`) when any source under src/ is newer. */
export function ensureRouterBuilt(): void {
  const built = existsSync(ROUTER_BUNDLE) ? statSync(ROUTER_BUNDLE).mtimeMs : 0;
  const sources = ['src/router', 'src/core', 'src/shared'].map((d) => newestMtime(join(REPO_ROOT, d)));
  if (built >= Math.max(...sources)) return;
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

export interface RunningRouter {
  url: string;
  port: number;
  /** The gRPC front's port, when the config has `grpcListen`. */
  grpcPort: number | undefined;
  proc: ChildProcess;
  configFile: string;
  dir: string;
  /** Everything the router printed so far (stdout and stderr). */
  output(): string;
  /** Sends a signal and waits for the exit; resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A temp folder holding a config file; `dataDir` defaults to `data` inside it. */
export async function routerDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mc-router-'));
}

/** Writes `config` as YAML to `<dir>/router.yaml` (the default `listen` is a free port). */
export async function writeRouterConfig(dir: string, config: RouterConfigInput): Promise<string> {
  const file = join(dir, 'router.yaml');
  await writeFile(file, stringify({ listen: '127.0.0.1:0', dataDir: 'data', experiments: [], ...config }));
  return file;
}

/** Starts the router on `configFile` (or with `args`) and waits until it listens. */
export async function startRouter(
  configFile: string,
  opts: {
    args?: string[];
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    cwd?: string;
    /** Another copy of the bundle to run (e.g. one unpacked from the bundle ConfigMap). */
    script?: string;
    /** Flags for node itself (`--cpu-prof` is not allowed in NODE_OPTIONS). */
    nodeArgs?: string[];
  } = {},
): Promise<RunningRouter> {
  ensureRouterBuilt();
  const args = opts.args ?? ['--config', configFile];
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? ROUTER_BUNDLE, ...args], {
    cwd: opts.cwd ?? join(configFile, '..'),
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the router did not start within ${opts.timeoutMs ?? 20_000} ms:\n${out}`)),
      opts.timeoutMs ?? 20_000,
    );
    const onData = (): void => {
      const m = /router listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the router exited with code ${code} before listening:\n${out}`));
    });
  });
  const grpc = /router gRPC listening on [^\s]+:(\d+)/.exec(out);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    grpcPort: grpc ? Number(grpc[1]) : undefined,
    proc,
    configFile,
    dir: join(configFile, '..'),
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}
