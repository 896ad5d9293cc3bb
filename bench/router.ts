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
 * (issue #20: ≤ 0.5 ms added p99 at 1k req/s on a quiet core; ≥ 15,000 req/s per core with drift
 * sampling on).
 *
 *   node --import tsx bench/router.ts [--seconds 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningRouter } from '../test/harness/router';
import { startSplitRouter } from './lib/splitRouter';
import { kilobyteBody } from './lib/bodies';
import { quick, record } from './lib/figures';
import { load as loadAt, ms, pct, startProcess, type Run } from './lib/load';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || (quick ? 4 : 10);
const RATE = 1_000;

const BODY = kilobyteBody();
const load = (
  url: string,
  opts: { rate?: number; seconds: number; connections: number; pid: number },
): Promise<Run> => loadAt(url, { ...opts, body: BODY });

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-bench-'));
  const started = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
  const upstream = { url: started.address, proc: started.proc };
  const routers: RunningRouter[] = [];
  try {
    const start = async (sampleRate: number): Promise<RunningRouter> => {
      const r = await startSplitRouter(dir, upstream.url, sampleRate);
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
      console.log(
        `  added            p50 ${ms(addedP50)}   p99 ${ms(addedP99)}   (target: p99 ≤ 0.500 ms on a quiet core)`,
      );
    }

    console.log(
      '\nThroughput with 1 kB bodies at full load (64 connections), per core = req/s per CPU-second used:',
    );
    const full = async (name: string, url: string, pid: number): Promise<number> => {
      const x = await load(url, { seconds: SECONDS, connections: 64, pid });
      const perCore = x.total / Math.max(x.cpuSeconds, 1e-9);
      console.log(
        `  ${name.padEnd(34)} ${x.rps.toFixed(0).padStart(6)} req/s, ${(x.cpuSeconds / SECONDS).toFixed(2)} cores busy → ${perCore.toFixed(0).padStart(6)} req/s per core, ${x.failed} failed`,
      );
      return perCore;
    };
    const directPerCore = await full('direct (upstream process)', direct, upstreamPid);
    const routerPerCore = await full(
      'router, sampleRate 1 (router process)',
      via(sampled),
      sampled.proc.pid!,
    );
    record({
      id: 'router.perCore',
      label: 'router throughput, 1 kB bodies, drift sampling on',
      value: routerPerCore,
      unit: 'req/s per core',
      better: 'higher',
      ratio: false,
      target: 15_000,
    });
    // The stub upstream is a plain Node HTTP server: the ratio is what the router's work costs.
    record({
      id: 'router.perCoreVsStub',
      label: "router's req/s per core ÷ the stub upstream's",
      value: routerPerCore / directPerCore,
      unit: '×',
      better: 'higher',
      ratio: true,
    });
    await full('router, sampleRate 0 (router process)', via(unsampled), unsampled.proc.pid!);
    console.log('  (target: ≥ 15,000 req/s per core through the router, drift sampling on)');
  } finally {
    for (const r of routers) await r.stop();
    upstream.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
