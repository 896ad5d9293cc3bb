/**
 * Where the gRPC path's tail comes from: ghz (bench/lib/ghz.ts) at each rate to the V2 gRPC
 * upstream directly and through a fresh router, the router preloaded with a probe
 * (bench/lib/routerProbe.mjs: GC pauses, event-loop stalls with the main thread's run-queue
 * wait, the event log's slow writes and fdatasyncs, monitorEventLoopDelay) and run with
 * `--trace-gc-nvp` (the upstream: bench/lib/grpcStub.ts, or with `--upstream fake` the tests'
 * grpc-js fake). For each rate it prints the percentiles of both paths, the router's pauses,
 * and what the slowest 1% of the routed calls overlap (bench/lib/tail.ts). The probe is not in
 * the router's bundle: production pays nothing for it. bench/profiles/grpc-path.md keeps what it
 * found.
 *
 *   node --import tsx bench/routerGrpcTail.ts [--seconds 10] [--rates 200,500,1000]
 *     [--node-args "--max-semi-space-size=16"] [--script /tmp/base-dist/router.js]
 *     [--upstream stub|fake]
 *
 * `--http`: the same over the router's HTTP front instead, with vegeta's open loop
 * (bench/lib/vegeta.ts) to the tests' V2 HTTP upstream directly and through the router.
 *
 * `MODEL_CANARY_BENCH_DUMP=<file>` writes the router's output there (its `--trace-gc-nvp` lines).
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouter } from '../test/harness/router';
import { REPO_ROOT } from '../test/harness/tools';
import { ghz, ghzBinary, type GhzFigures } from './lib/ghz';
import { openLoop, vegetaBinary } from './lib/vegeta';
import { writeGrpcBenchConfig } from './lib/grpcRouter';
import { pct, startProcess } from './lib/load';
import { gcLines, quantile, slowCallLines, stallLines, traceGcLines, window, type Probe } from './lib/tail';

const arg = (name: string): string | undefined =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const SECONDS = Number(arg('--seconds')) || 10;
const RATES = (arg('--rates') ?? '200,500,1000').split(',').map(Number);
const NODE_ARGS = (arg('--node-args') ?? '').split(' ').filter(Boolean);
const SCRIPT = arg('--script');
const PROBE = join(REPO_ROOT, 'bench/lib/routerProbe.mjs');
const FAKE = arg('--upstream') === 'fake';
const HTTP = process.argv.includes('--http');
const HTTP_BODY = JSON.stringify({ inputs: [{ name: 'age', datatype: 'INT64', shape: [1], data: [41] }] });

const load1 = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
const f = (x: number): string => x.toFixed(2);

function percentiles(name: string, x: GhzFigures): string {
  const lat = (x.calls ?? []).filter((c) => c.ok).map((c) => c.ms);
  const errors = Object.entries(x.errors).map(([e, n]) => `${n} × ${e}`);
  return `  ${name.padEnd(15)} p50 ${f(x.p50)}  p90 ${f(x.p90)}  p99 ${f(x.p99)}  p99.9 ${f(quantile(lat, 0.999))}  max ${f(Math.max(...lat))} ms  ${x.rps.toFixed(0)} req/s, ${x.failed} failed${errors.length ? ` (${errors.join('; ')})` : ''}`;
}

const dir = await mkdtemp(join(tmpdir(), 'mc-bench-grpc-tail-'));
const bin = ghzBinary();
const vegeta = HTTP ? vegetaBinary() : undefined;
/** `rate` calls a second for `seconds` to the upstream (`direct`) or the router: ghz, or vegeta with `--http`. */
function calls(address: string, model: string, seconds: number, rate: number, details = false): GhzFigures {
  if (!vegeta) return ghz(bin, address, model, seconds, rate, { details });
  const r = openLoop(vegeta, `${address}/v2/models/${model}/infer`, HTTP_BODY, seconds, rate, { details });
  return {
    p50: pct(r.latencies, 0.5),
    p90: pct(r.latencies, 0.9),
    p99: pct(r.latencies, 0.99),
    rps: r.rps,
    total: r.total,
    failed: r.failed,
    errors: {},
    ...(r.calls ? { calls: r.calls } : {}),
  };
}
const httpUp = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
const grpcUp = await startProcess(
  FAKE ? 'test/harness/grpcUpstream.ts' : 'bench/lib/grpcStub.ts',
  /grpc upstream listening on (\S+)/,
);
try {
  console.log(
    `${SECONDS} s per measurement${HTTP ? ', HTTP (vegeta, open loop)' : ''}; gRPC upstream ${FAKE ? "the tests' grpc-js fake" : 'bench/lib/grpcStub.ts'}; router ${SCRIPT ?? 'dist/router.js'} ${NODE_ARGS.join(' ')}; Node ${process.version}; load average ${load1()}`,
  );
  const upstream = HTTP ? httpUp.address : grpcUp.address;
  calls(upstream, 'propensity-v1', 2, 1_000);
  for (const rate of RATES) {
    const sub = await mkdtemp(join(dir, `r${rate}-`));
    const probeOut = join(sub, 'probe.json');
    const router = await startRouter(await writeGrpcBenchConfig(sub, httpUp.address, grpcUp.address), {
      nodeArgs: ['--import', PROBE, '--trace-gc-nvp', ...NODE_ARGS],
      env: { MODEL_CANARY_PROBE_OUT: probeOut },
      ...(SCRIPT ? { script: SCRIPT } : {}),
    });
    const address = HTTP ? router.url : `127.0.0.1:${router.grpcPort}`;
    const warm = calls(address, 'propensity', 2, rate);
    const direct = calls(upstream, 'propensity-v1', SECONDS, rate, true);
    const routed = calls(address, 'propensity', SECONDS, rate, true);
    await router.stop();
    const probe = JSON.parse(await readFile(probeOut, 'utf8')) as Probe;
    // The router's whole output (every `--trace-gc-nvp` line, in order) for a closer look.
    if (process.env.MODEL_CANARY_BENCH_DUMP)
      await writeFile(process.env.MODEL_CANARY_BENCH_DUMP, router.output());
    const routedCalls = routed.calls ?? [];
    const from = Math.min(...routedCalls.map((c) => c.end - c.ms));
    const to = Math.max(...routedCalls.map((c) => c.end));
    const inRun = window(probe, from, to);
    console.log(`\n${rate} req/s (load average ${load1()}):`);
    console.log(percentiles('direct', direct));
    console.log(percentiles('through router', routed));
    console.log(`  added           p50 ${f(routed.p50 - direct.p50)}  p99 ${f(routed.p99 - direct.p99)} ms`);
    for (const l of [
      ...gcLines(inRun, SECONDS),
      ...traceGcLines(router.output(), warm.total + routed.total),
      ...stallLines(inRun),
      '  direct:',
      ...slowCallLines(direct.calls ?? [], undefined),
      '  through router:',
      ...slowCallLines(routedCalls, inRun),
    ])
      console.log(l);
  }
} finally {
  httpUp.proc.kill('SIGTERM');
  grpcUp.proc.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}
