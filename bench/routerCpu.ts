/**
 * The router's CPU per request (user + system, from /proc), the figure to watch while changing
 * the hot path: it moves much less than latency when other work shares the machine. The real
 * bundle on the stub upstream, every request sampled for drift, 1 kB bodies; at 1,000 req/s over
 * one connection (each request alone, as in the latency benches) and at full load over 64
 * connections (where one event-loop turn serves many requests).
 *
 * Latency percentiles are printed too, but on a shared machine they move with everything else.
 * `--compare <other/router.js>` runs another build beside this one (e.g. the previous commit's
 * `dist/`, copied away), the rounds interleaved, so both see the same moments of a shared machine.
 *
 *   node --import tsx bench/routerCpu.ts [--seconds 5] [--rounds 3] [--compare other/router.js]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningRouter } from '../test/harness/router';
import { kilobyteBody } from './lib/bodies';
import { load, pct, startProcess } from './lib/load';
import { startSplitRouter } from './lib/splitRouter';

const arg = (name: string): string | undefined =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const SECONDS = Number(arg('--seconds')) || 5;
const ROUNDS = Number(arg('--rounds')) || 3;
const COMPARE = arg('--compare');
const BODY = kilobyteBody();

const dir = await mkdtemp(join(tmpdir(), 'mc-bench-cpu-'));
const upstream = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
const routers: { name: string; router: RunningRouter }[] = [];
try {
  routers.push({ name: 'this build', router: await startSplitRouter(dir, upstream.address, 1) });
  if (COMPARE)
    routers.push({
      name: COMPARE,
      router: await startSplitRouter(dir, upstream.address, 1, { script: COMPARE }),
    });
  const url = (r: RunningRouter): string => `${r.url}/v2/models/propensity/infer`;
  for (const { router } of routers)
    await load(url(router), { body: BODY, seconds: 2, connections: 20, rate: 1_000 });
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name, connections, rate] of [
    ['1,000 req/s, 1 connection', 1, 1_000],
    ['full load, 64 connections', 64, undefined],
  ] as const) {
    const perRequest = routers.map((): number[] => []);
    const p50s = routers.map((): number[] => []);
    const p99s = routers.map((): number[] => []);
    for (let i = 0; i < ROUNDS; i++)
      for (const [j, { router }] of routers.entries()) {
        const run = await load(url(router), {
          body: BODY,
          seconds: SECONDS,
          connections,
          pid: router.proc.pid!,
          ...(rate ? { rate } : {}),
        });
        perRequest[j]!.push((run.cpuSeconds / Math.max(run.total, 1)) * 1e6);
        p50s[j]!.push(pct(run.latencies, 0.5));
        p99s[j]!.push(pct(run.latencies, 0.99));
      }
    console.log(`${name}:`);
    for (const [j, { name: build }] of routers.entries()) {
      const xs = perRequest[j]!;
      console.log(
        `  ${build.padEnd(24)} CPU per request: median ${median(xs).toFixed(0)} µs (${xs.map((x) => x.toFixed(0)).join(', ')}) → ${(1e6 / median(xs)).toFixed(0)} req/s per core; latency p50 ${median(p50s[j]!).toFixed(3)} ms, p99 ${median(p99s[j]!).toFixed(3)} ms (medians over rounds)`,
      );
    }
  }
} finally {
  for (const { router } of routers) await router.stop();
  upstream.proc.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
