/**
 * The router's gRPC path against its HTTP path, in the same run, at 1,000 req/s: CPU per call
 * (user + system, /proc) and the added p50/p99 over calling the fake upstreams directly, over
 * rounds (medians), with `--compare` another build beside this one (the rounds interleaved, so
 * both see the same moments of a shared machine), or with `--compare-node-args` this build again
 * with those Node/V8 flags. gRPC: ghz (bench/lib/ghz.ts) to the fake V2
 * gRPC upstream directly and through the router's gRPC port (the variant's `grpc`); HTTP:
 * autocannon over one connection, as bench/router.ts. The load average is printed before and
 * after: on a shared machine the latencies move with it, CPU per call much less. The two load
 * generators differ: ghz keeps its schedule (50 workers), so a router short of CPU shows as
 * queueing in the gRPC latencies; autocannon over one connection sends the next request only
 * after the answer (a closed loop), so there it shows as a lower rate, printed beside them.
 *
 * `--profile`: instead, this build alone under ghz at 1,000 req/s with V8's sampling profiler
 * (`--cpu-prof`, kept in bench/profiles/, git-ignored), summarised by module and function.
 *
 *   node --import tsx bench/routerGrpcCpu.ts [--seconds 5] [--rounds 3] [--sample-rate 1]
 *     [--compare /tmp/base-dist/router.js] [--compare-node-args "--single-threaded-gc"] [--profile]
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouter, type RunningRouter } from '../test/harness/router';
import { REPO_ROOT } from '../test/harness/tools';
import { summariseProfile } from './lib/cpuProfile';
import { ghz, ghzBinary } from './lib/ghz';
import { writeGrpcBenchConfig } from './lib/grpcRouter';
import { cpuSeconds, load, pct, startProcess } from './lib/load';

const arg = (name: string): string | undefined =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const SECONDS = Number(arg('--seconds')) || 5;
const ROUNDS = Number(arg('--rounds')) || 3;
const SAMPLE_RATE = arg('--sample-rate') === undefined ? 1 : Number(arg('--sample-rate'));
const COMPARE = arg('--compare');
/** Node/V8 flags for a second router of this build beside the first (`--single-threaded-gc`). */
const COMPARE_ARGS = arg('--compare-node-args')?.split(' ').filter(Boolean);
const PROFILE = process.argv.includes('--profile');
const RATE = 1_000;
const HTTP_BODY = JSON.stringify({ inputs: [{ name: 'age', datatype: 'INT64', shape: [1], data: [41] }] });

interface Figures {
  p50: number;
  p99: number;
  /** Router CPU µs per call (0 for a direct run). */
  cpu: number;
  /** The rate achieved: autocannon over one connection waits for each answer (a closed loop), so an overloaded router shows there, where ghz's fixed schedule shows it as latency. */
  rps: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load1 = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

async function router(
  dir: string,
  http: string,
  grpc: string,
  opts: { script?: string; nodeArgs?: string[] },
): Promise<RunningRouter> {
  const sub = await mkdtemp(join(dir, 'router-'));
  const config = await writeGrpcBenchConfig(sub, http, grpc, SAMPLE_RATE);
  return startRouter(config, opts);
}

const dir = await mkdtemp(join(tmpdir(), 'mc-bench-grpc-cpu-'));
const bin = ghzBinary();
const httpUp = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
const grpcUp = await startProcess('test/harness/grpcUpstream.ts', /grpc upstream listening on (\S+)/);
const routers: { name: string; router: RunningRouter }[] = [];
try {
  console.log(
    `${SECONDS} s per measurement at ${RATE} req/s, sampleRate ${SAMPLE_RATE}; Node ${process.version}; load average ${load1()}`,
  );
  if (PROFILE) {
    const profiles = join(REPO_ROOT, 'bench/profiles');
    await mkdir(profiles, { recursive: true });
    const before = new Set(await readdir(profiles));
    const r = await router(dir, httpUp.address, grpcUp.address, {
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
    });
    const address = `127.0.0.1:${r.grpcPort}`;
    const warm = ghz(bin, address, 'propensity', 2, RATE);
    const run = ghz(bin, address, 'propensity', SECONDS, RATE);
    console.log(`${run.total} calls in ${SECONDS} s, ${run.failed} failed; p50 ${run.p50.toFixed(3)} ms`);
    await r.stop();
    const written = (await readdir(profiles)).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
    if (written.length === 0) throw new Error('the router wrote no profile (did it exit cleanly?)');
    const newest = join(profiles, written.sort().at(-1)!);
    console.log(`profile: ${newest}\n(the warm-up's calls, the start and the stop are in it too)`);
    const map = join(REPO_ROOT, 'dist/router.js.map');
    for (const l of await summariseProfile(newest, map, warm.total + run.total)) console.log(l);
  } else {
    routers.push({ name: 'this build', router: await router(dir, httpUp.address, grpcUp.address, {}) });
    if (COMPARE)
      routers.push({
        name: COMPARE,
        router: await router(dir, httpUp.address, grpcUp.address, { script: COMPARE }),
      });
    if (COMPARE_ARGS)
      routers.push({
        name: `this build with ${COMPARE_ARGS.join(' ')}`,
        router: await router(dir, httpUp.address, grpcUp.address, { nodeArgs: COMPARE_ARGS }),
      });
    const viaGrpc = (r: RunningRouter): string => `127.0.0.1:${r.grpcPort}`;
    const viaHttp = (r: RunningRouter): string => `${r.url}/v2/models/propensity/infer`;
    const directHttp = `${httpUp.address}/v2/models/propensity-v1/infer`;
    const grpcRun = (address: string, model: string, pid?: number): Figures => {
      const before = pid ? cpuSeconds(pid) : 0;
      const x = ghz(bin, address, model, SECONDS, RATE);
      const cpu = pid ? ((cpuSeconds(pid) - before) / Math.max(1, x.total)) * 1e6 : 0;
      return { p50: x.p50, p99: x.p99, cpu, rps: x.rps };
    };
    const httpRun = async (url: string, pid?: number): Promise<Figures> => {
      const x = await load(url, {
        body: HTTP_BODY,
        seconds: SECONDS,
        connections: 1,
        rate: RATE,
        ...(pid ? { pid } : {}),
      });
      return {
        p50: pct(x.latencies, 0.5),
        p99: pct(x.latencies, 0.99),
        cpu: (x.cpuSeconds / Math.max(1, x.total)) * 1e6,
        rps: x.rps,
      };
    };
    // Warm up every path.
    ghz(bin, grpcUp.address, 'propensity-v1', 2, RATE);
    await load(directHttp, { body: HTTP_BODY, seconds: 2, connections: 1, rate: RATE });
    for (const { router: r } of routers) {
      ghz(bin, viaGrpc(r), 'propensity', 2, RATE);
      await load(viaHttp(r), { body: HTTP_BODY, seconds: 2, connections: 1, rate: RATE });
    }
    type Row = {
      grpcP50: number;
      grpcP99: number;
      grpcCpu: number;
      grpcRps: number;
      httpP50: number;
      httpP99: number;
      httpCpu: number;
      httpRps: number;
    };
    const rows = routers.map((): Row[] => []);
    for (let i = 0; i < ROUNDS; i++) {
      const dg = grpcRun(grpcUp.address, 'propensity-v1');
      const dh = await httpRun(directHttp);
      for (const [j, { router: r }] of routers.entries()) {
        const g = grpcRun(viaGrpc(r), 'propensity', r.proc.pid!);
        const h = await httpRun(viaHttp(r), r.proc.pid!);
        rows[j]!.push({
          grpcP50: g.p50 - dg.p50,
          grpcP99: g.p99 - dg.p99,
          grpcCpu: g.cpu,
          grpcRps: g.rps,
          httpP50: h.p50 - dh.p50,
          httpP99: h.p99 - dh.p99,
          httpCpu: h.cpu,
          httpRps: h.rps,
        });
      }
      console.log(`round ${i + 1}/${ROUNDS} done; load average ${load1()}`);
    }
    const f = (x: number): string => `${x.toFixed(3)} ms`;
    for (const [j, { name }] of routers.entries()) {
      const m = (k: keyof Row): number => median(rows[j]!.map((r) => r[k]));
      const all = (k: keyof Row, d: number): string => rows[j]!.map((r) => r[k].toFixed(d)).join(', ');
      console.log(`\n${name} (medians over ${ROUNDS} rounds; each round's figures in brackets):`);
      console.log(
        `  gRPC  added p50 ${f(m('grpcP50'))} (${all('grpcP50', 3)})  p99 ${f(m('grpcP99'))} (${all('grpcP99', 3)})  CPU ${m('grpcCpu').toFixed(0)} µs/call (${all('grpcCpu', 0)})  ${m('grpcRps').toFixed(0)} req/s`,
      );
      console.log(
        `  HTTP  added p50 ${f(m('httpP50'))} (${all('httpP50', 3)})  p99 ${f(m('httpP99'))} (${all('httpP99', 3)})  CPU ${m('httpCpu').toFixed(0)} µs/call (${all('httpCpu', 0)})  ${m('httpRps').toFixed(0)} req/s`,
      );
      const ratios = (a: keyof Row, b: keyof Row): string =>
        rows[j]!.map((r) => (r[a] / r[b]).toFixed(2)).join(', ');
      console.log(
        `  gRPC ÷ HTTP: added p50 ${(m('grpcP50') / m('httpP50')).toFixed(2)} (${ratios('grpcP50', 'httpP50')}), CPU per call ${(m('grpcCpu') / m('httpCpu')).toFixed(2)} (${ratios('grpcCpu', 'httpCpu')})   (target: gRPC added p99 ≤ 1.000 ms)`,
      );
    }
  }
} finally {
  for (const { router: r } of routers) await r.stop();
  httpUp.proc.kill('SIGTERM');
  grpcUp.proc.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
