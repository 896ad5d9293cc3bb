/**
 * CPU pinning for the latency benches (`--pin`): the load generators on one core, what they
 * measure on the other, so a client does not compete with the proxy for its core, as a client on
 * another machine would not. With `taskset` (util-linux) on Linux; every thread of a process is
 * moved (`-a`), and a process's children started later inherit its core.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** Whether this run was asked to pin (`--pin`). */
export const PINNED = process.argv.includes('--pin');

/** The cores: `load` for this process (and so ghz and autocannon), `served` for the rest. */
export const PIN = { load: 1, served: 0 } as const;

/** Moves `pids` (every thread of each) to `core`; throws naming what is missing. */
export function pin(core: number, pids: readonly number[]): void {
  if (cpus().length < 2) throw new Error('--pin needs at least 2 cores');
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    } catch (err) {
      throw new Error(
        `--pin: taskset could not move process ${pid} to core ${core} (${(err as Error).message}); install util-linux`,
      );
    }
  }
}

/** `pid` and its children (nginx's workers), as `pgrep -P` lists them. */
export function withChildren(pid: number): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .trim();
    return [pid, ...out.split('\n').filter(Boolean).map(Number)];
  } catch {
    return [pid]; // pgrep exits 1 when there are none
  }
}
