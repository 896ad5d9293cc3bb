/** The router as a local process: `node dist/router.js --config <file>`, its output in a log file. */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RuntimeError } from './runtime';

export interface RouterProcessOptions {
  /** dist/router.js */
  script: string;
  configFile: string;
  logFile: string;
  url: string;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Starts the router detached (it outlives the CLI) and resolves with its pid once it answers live. */
export async function startRouterProcess(opts: RouterProcessOptions): Promise<number> {
  await mkdir(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  await new Promise((resolve) => log.once('open', resolve));
  const child = spawn(process.execPath, [opts.script, '--config', opts.configFile], {
    // Inside VS Code, execPath is Electron: this makes it behave as plain Node.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', log, log],
    detached: true,
  });
  child.unref();
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  try {
    while (Date.now() < deadline) {
      opts.signal?.throwIfAborted();
      if (exitCode !== undefined) {
        throw new RuntimeError(
          `the router exited with code ${exitCode} at start — last log lines:\n${await tail(opts.logFile)}`,
        );
      }
      try {
        const res = await fetch(`${opts.url}/v2/health/live`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return child.pid ?? -1;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new RuntimeError(
      `the router did not answer on ${opts.url} within ${Math.round((opts.readyTimeoutMs ?? 15_000) / 1000)} s — see ${opts.logFile}`,
    );
  } catch (err) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // gone
    }
    throw err;
  } finally {
    log.end();
  }
}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}
