/**
 * The router's cost, measured beside the direct path in the same run, with autocannon (a load
 * generator we did not write):
 *
 * 1. Added latency at 1,000 req/s: p50 and p99 through the router minus the same percentiles
 *    calling the model server directly. autocannon's rate limit is not open loop: each connection
 *    sends its quota for the second back to back, then waits for the next second. Over one
 *    connection that measures the router's own cost without queueing; over 20 connections the
 *    bursts queue, which is printed too. Each response time comes from autocannon's per-response
 *    event (its histogram rounds to whole milliseconds, too coarse for this).
 * 2. Throughput with 1 kB request bodies at full load, reported per core: requests per second of
 *    CPU time the router process used (read from /proc), so the load generator and the upstream
 *    sharing the machine do not count against it. The direct path is per core of the upstream.
 *
 * The upstream is the fake V2 server of the tests (test/harness/upstream.ts) in its own process;
 * the router is the real bundle. No assertions: it prints figures next to the targets
 * (≤ 1.0 ms added p99 at 1k req/s; ≥ 10,000 req/s per core).
 *
 *   node --import tsx bench/router.ts [--seconds 10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouter, writeRouterConfig, type RunningRouter } from '../test/harness/router';

interface AutocannonOptions {
  url: string;
  method: 'POST';
  body: string;
  headers: Record<string, string>;
  connections: number;
  duration: number;
  overallRate?: number;
}
interface AutocannonResult {
  requests: { total: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = ((
  opts: AutocannonOptions,
  cb: (err: Error | null, r: AutocannonResult) => void,
) => AutocannonInstance) & {
  track?: unknown;
};
// autocannon ships no types and is CommonJS.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;
const RATE = 1_000;

/** A V2 request of about 1 kB: a batch of 18 rows of the six sample features. */
function body(): string {
  const rows = 18;
  const col = <T>(f: (i: number) => T): T[] => Array.from({ length: rows }, (_, i) => f(i));
  const req = {
    parameters: { content_type: 'pd' },
    inputs: [
      { name: 'age', shape: [rows], datatype: 'INT64', data: col((i) => 25 + 5 * i) },
      { name: 'tenure_months', shape: [rows], datatype: 'INT64', data: col((i) => 3 * i + 1) },
      { name: 'sessions_30d', shape: [rows], datatype: 'INT64', data: col((i) => 2 * i) },
      {
        name: 'basket_value',
        shape: [rows],
        datatype: 'FP64',
        data: col((i) => Number((12.5 * i + 0.99).toFixed(2))),
      },
      {
        name: 'channel',
        shape: [rows],
        datatype: 'BYTES',
        data: col((i) => ['web', 'app', 'email', 'store'][i % 4]!),
      },
      {
        name: 'region',
        shape: [rows],
        datatype: 'BYTES',
        data: col((i) => ['north', 'south', 'east', 'west'][i % 4]!),
      },
    ],
  };
  return JSON.stringify(req);
}

interface Run {
  rps: number;
  total: number;
  failed: number;
  latencies: Float64Array;
  cpuSeconds: number;
}

function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat: user and system time in clock ticks (100 per second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function load(
  url: string,
  opts: { rate?: number; seconds: number; connections: number; pid: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const cpuBefore = cpuSeconds(opts.pid);
    const instance = autocannon(
      {
        url,
        method: 'POST',
        body: BODY,
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
          cpuSeconds: cpuSeconds(opts.pid) - cpuBefore,
        });
      },
    );
    instance.on('response', (_c, status, _b, ms) => {
      if (status === 200) latencies.push(ms);
    });
  });
}

const pct = (xs: Float64Array, p: number): number =>
  xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] ?? NaN;
const ms = (x: number): string => `${x.toFixed(3)} ms`;
const BODY = body();

async function startUpstreamProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/harness/upstream.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /upstream listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`the upstream exited with ${code}`)));
  });
  return { url, proc };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-bench-'));
  const upstream = await startUpstreamProcess();
  const routers: RunningRouter[] = [];
  try {
    const start = async (sampleRate: number): Promise<RunningRouter> => {
      const sub = await mkdtemp(join(dir, 'r-'));
      const r = await startRouter(
        await writeRouterConfig(sub, {
          experiments: [
            {
              name: 'propensity',
              endpoint: 'propensity',
              sampleRate,
              variants: [
                { name: 'v1', url: upstream.url, model: 'propensity-v1', weight: 95 },
                { name: 'v2', url: upstream.url, model: 'propensity-v2', weight: 5 },
              ],
            },
          ],
        }),
      );
      routers.push(r);
      return r;
    };
    const sampled = await start(1);
    const unsampled = await start(0);
    const direct = `${upstream.url}/v2/models/propensity-v1/infer`;
    const via = (r: RunningRouter): string => `${r.url}/v2/models/propensity/infer`;
    const upstreamPid = upstream.proc.pid!;

    console.log(
      `body: ${BODY.length} bytes; ${SECONDS} s per measurement; ${process.arch}, Node ${process.version}`,
    );
    // Warm up JITs, pools and connections on every path.
    for (const url of [direct, via(sampled), via(unsampled)])
      await load(url, { rate: RATE, seconds: 2, connections: 20, pid: upstreamPid });

    const row = (name: string, x: Run): string =>
      `  ${name.padEnd(16)} p50 ${ms(pct(x.latencies, 0.5))}   p99 ${ms(pct(x.latencies, 0.99))}   ${x.rps.toFixed(0)} req/s, ${x.failed} failed`;
    for (const connections of [1, 20]) {
      console.log(
        connections === 1
          ? `\nAdded latency at ${RATE} req/s over 1 connection (one request at a time: the router's own cost, no queueing), sampling every request for drift:`
          : `\nThe same over ${connections} connections (autocannon sends each second's quota in a burst, so requests queue behind each other):`,
      );
      const d = await load(direct, { rate: RATE, seconds: SECONDS, connections, pid: upstreamPid });
      const r = await load(via(sampled), {
        rate: RATE,
        seconds: SECONDS,
        connections,
        pid: sampled.proc.pid!,
      });
      console.log(row('direct', d));
      console.log(row('through router', r));
      const addedP50 = pct(r.latencies, 0.5) - pct(d.latencies, 0.5);
      const addedP99 = pct(r.latencies, 0.99) - pct(d.latencies, 0.99);
      console.log(`  added            p50 ${ms(addedP50)}   p99 ${ms(addedP99)}   (target: p99 ≤ 1.000 ms)`);
    }

    console.log(
      '\nThroughput with 1 kB bodies at full load (64 connections), per core = req/s per CPU-second used:',
    );
    const full = async (name: string, url: string, pid: number): Promise<void> => {
      const x = await load(url, { seconds: SECONDS, connections: 64, pid });
      const perCore = x.total / Math.max(x.cpuSeconds, 1e-9);
      console.log(
        `  ${name.padEnd(34)} ${x.rps.toFixed(0).padStart(6)} req/s, ${(x.cpuSeconds / SECONDS).toFixed(2)} cores busy → ${perCore.toFixed(0).padStart(6)} req/s per core, ${x.failed} failed`,
      );
    };
    await full('direct (upstream process)', direct, upstreamPid);
    await full('router, sampleRate 1 (router process)', via(sampled), sampled.proc.pid!);
    await full('router, sampleRate 0 (router process)', via(unsampled), unsampled.proc.pid!);
    console.log('  (target: ≥ 10,000 req/s per core through the router)');
  } finally {
    for (const r of routers) await r.stop();
    upstream.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
