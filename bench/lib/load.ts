/**
 * What the HTTP benchmarks share: autocannon (a load generator we did not write) with each
 * response's time from its per-response event (its histogram rounds to whole milliseconds, too
 * coarse here), a process's CPU time from /proc, percentiles, and starting a helper process that
 * prints its address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface AutocannonResult {
  requests: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, r: AutocannonResult) => void,
) => AutocannonInstance;
// autocannon ships no types and is CommonJS.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface Run {
  rps: number;
  total: number;
  failed: number;
  /** Response times of the 200s, ms, sorted. */
  latencies: Float64Array;
  /** CPU seconds `pid` used during the run (0 without a pid). */
  cpuSeconds: number;
}

/** User plus system CPU seconds of a process (fields 14 and 15 of /proc/<pid>/stat, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * POSTs `body` to `url` for `seconds`; with `rate`, autocannon's overall rate limit (not open
 * loop: each connection sends its share of a second back to back, then waits).
 */
export function load(
  url: string,
  opts: { body: string; seconds: number; connections: number; rate?: number; pid?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const cpuBefore = opts.pid ? cpuSeconds(opts.pid) : 0;
    const instance = autocannon(
      {
        url,
        method: 'POST',
        body: opts.body,
        headers: { 'content-type': 'application/json' },
        connections: opts.connections,
        duration: opts.seconds,
        ...(opts.rate ? { overallRate: opts.rate } : {}),
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          rps: r.requests.total / r.duration,
          total: r.requests.total,
          failed: r.non2xx + r.errors + r.timeouts,
          latencies: Float64Array.from(latencies).sort(),
          cpuSeconds: opts.pid ? cpuSeconds(opts.pid) - cpuBefore : 0,
        });
      },
    );
    instance.on('response', (_c, status, _b, ms) => {
      if (status === 200) latencies.push(ms);
    });
  });
}

/** The p-quantile (0–1) of sorted values. */
export const pct = (xs: Float64Array, p: number): number =>
  xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] ?? NaN;

export const ms = (x: number): string => `${x.toFixed(3)} ms`;

/** Runs `node --import tsx <script>` and resolves with the first capture of `pattern` in its output. */
export async function startProcess(
  script: string,
  pattern: RegExp,
  args: string[] = [],
): Promise<{ address: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { address, proc };
}
