/**
 * What a running local environment is, on disk in the workspace's `.model-canary/`, so that
 * `status` and `down` work from another process (another terminal, VS Code after a reload).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ProcessRecord {
  pid: number;
  url: string;
  logFile: string;
}

export interface RuntimeState {
  version: 1;
  workspace: string;
  startedAt: string;
  router: ProcessRecord & {
    configFile: string;
    tokenFile: string;
    dataDir: string;
    /** The router's gRPC port (absent in state written before the router had one). */
    grpcPort?: number;
  };
  modelServers: Record<
    string,
    ProcessRecord & {
      dir: string;
      ports: { http: number; grpc: number; metrics: number };
      /** MLServer processes sharing the ports (absent in older state: one). */
      workers?: number;
      /** The processes the experiment's sizing asked for, when more than run (this system cannot share a port). */
      requestedWorkers?: number;
    }
  >;
  experiments: Record<string, { file: string; endpoint: string }>;
}

/** The folder where the local environment keeps its state, config, logs and data. */
export function stateDir(workspace: string): string {
  return join(workspace, '.model-canary');
}

const stateFile = (workspace: string): string => join(stateDir(workspace), 'state.json');

export async function readState(workspace: string): Promise<RuntimeState | undefined> {
  const file = stateFile(workspace);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as RuntimeState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined; // a torn or foreign file is treated as no state; `down` cleans it
  }
}

/** Writes the state atomically (a reader never sees half a file). */
export async function writeState(state: RuntimeState): Promise<void> {
  await mkdir(stateDir(state.workspace), { recursive: true });
  const tmp = `${stateFile(state.workspace)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, stateFile(state.workspace));
}

export async function clearState(workspace: string): Promise<void> {
  await rm(stateFile(workspace), { force: true });
}

/** True when a process with this pid exists and has not exited (a zombie counts as exited). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A detached server outlives the CLI that started it; if it dies, whoever adopted it may
  // never reap it (some container inits don't), and kill(pid, 0) still succeeds on a zombie.
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  return true;
}
