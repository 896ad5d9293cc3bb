/**
 * The router's added latency over gRPC, beside HTTP in the same run, at a fixed 1,000 req/s:
 *
 * - gRPC: ghz (bench/lib/ghz.ts), a load generator we did not write, at a constant 1,000 req/s
 *   schedule, to the V2 gRPC upstream (below) directly and through the router's gRPC port (the
 *   variant's `grpc`: the message goes upstream over gRPC).
 * - HTTP: autocannon at 1,000 req/s over one connection, to the fake V2 HTTP upstream directly
 *   and through the router's HTTP port (as bench/router.ts measures it).
 * - The reference: ghz through nginx's `grpc_pass` (Debian's nginx-light, one worker, HTTP/2 to
 *   the same gRPC upstream with keep-alive), so the router's added p99 is also printed as a
 *   ratio to what a C proxy adds on the same machine in the same minutes.
 *
 * Each path sends the same one-row request. The upstreams are stubs, each in its own process, so
 * the figures are the router's own cost: the HTTP one is the tests' (test/harness/upstream.ts),
 * the gRPC one `bench/lib/grpcStub.ts` (a fixed answer on the router's own HTTP/2, ~110 µs of CPU
 * a call), or with `--upstream fake` the tests' grpc-js fake (~320 µs a call, which on 2 cores
 * beside ghz and the router makes both the direct and the routed calls queue). No assertions: it
 * prints the added p50 and p99 and the ratio router / direct for both protocols (target: added
 * p99 ≤ 1 ms).
 *
 * Every path runs in each of `--rounds` rounds, in turn, and the medians over the rounds are
 * printed (with each round's figure) and recorded: on a shared machine a noisy minute then moves
 * one round of every path, not one path. `--pin` (bench/lib/pin.ts) puts the load generators on
 * one core and the upstreams, the router and nginx on the other, so that ghz does not compete
 * with the proxy for its core; its figures are printed, not recorded.
 *
 *   node --import tsx bench/routerGrpc.ts [--seconds 10] [--rounds 3] [--upstream stub|fake] [--pin]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouter } from '../test/harness/router';
import { ghz as runGhz, ghzBinary as ghzPath } from './lib/ghz';
import { writeGrpcBenchConfig } from './lib/grpcRouter';
import { numberArg } from './lib/args';
import { quick, record } from './lib/figures';
import { cpuSeconds, load, pct, startProcess } from './lib/load';
import { nginxBinary, startNginx, type RunningNginx } from './lib/nginx';
import { PIN, PINNED, pin, withChildren } from './lib/pin';

const SECONDS = numberArg('--seconds', quick ? 3 : 10);
const ROUNDS = numberArg('--rounds', quick ? 1 : 3);
const FAKE =
  process.argv.includes('--upstream') && process.argv[process.argv.indexOf('--upstream') + 1] === 'fake';
const RATE = 1_000;

/** One round: every path in turn, the router's CPU per call (user + system, /proc) on its two. */
interface Round {
  grpcDirect: Figures;
  grpcRouter: Figures;
  grpcCpu: number;
  grpcNginx: Figures;
  httpDirect: Figures;
  httpRouter: Figures;
  httpCpu: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  failed: number;
  /** The failures' messages and counts (ghz's errorDistribution). */
  errors?: Record<string, number>;
}

const INPUTS = [{ name: 'age', datatype: 'INT64', shape: [1] }];

const ghz = (binary: string, address: string, model: string, seconds: number): Figures =>
  runGhz(binary, address, model, seconds, RATE);

async function http(url: string, seconds: number): Promise<Figures> {
  const body = JSON.stringify({ inputs: [{ ...INPUTS[0], data: [41] }] });
  const r = await load(url, { body, seconds, connections: 1, rate: RATE });
  return { p50: pct(r.latencies, 0.5), p99: pct(r.latencies, 0.99), rps: r.rps, failed: r.failed };
}

async function main(): Promise<void> {
  const ghzBinary = ghzPath();
  const dir = await mkdtemp(join(tmpdir(), 'mc-bench-grpc-'));
  const httpUp = await startProcess('test/harness/upstream.ts', /upstream listening on (\S+)/);
  const grpcUp = await startProcess(
    FAKE ? 'test/harness/grpcUpstream.ts' : 'bench/lib/grpcStub.ts',
    /grpc upstream listening on (\S+)/,
  );
  const router = await startRouter(await writeGrpcBenchConfig(dir, httpUp.address, grpcUp.address));
  let nginx: RunningNginx | undefined;
  try {
    // The reference: nginx's grpc_pass to the same upstream, keep-alive (HTTP/2 both sides).
    nginx = await startNginx(
      nginxBinary(),
      join(dir, 'nginx'),
      (port) => `
  upstream stub { server ${grpcUp.address}; keepalive 32; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port} http2;
    keepalive_requests 1000000;
    location / { grpc_pass grpc://stub; }
  }`,
      (port) =>
        new Promise((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.end();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        }),
    );
    if (PINNED) {
      pin(PIN.load, [process.pid]);
      pin(PIN.served, [
        httpUp.proc.pid!,
        grpcUp.proc.pid!,
        router.proc.pid!,
        ...withChildren(nginx.proc.pid!),
      ]);
    }
    const viaNginx = `127.0.0.1:${nginx.port}`;
    const routerGrpc = `127.0.0.1:${router.grpcPort}`;
    const directHttp = `${httpUp.address}/v2/models/propensity-v1/infer`;
    const viaHttp = `${router.url}/v2/models/propensity/infer`;
    console.log(
      `${SECONDS} s per measurement at ${RATE} req/s; gRPC upstream: ${FAKE ? "the tests' grpc-js fake" : 'bench/lib/grpcStub.ts'}; ${process.arch}, Node ${process.version}` +
        (PINNED
          ? `; pinned: ghz and autocannon on core ${PIN.load}, the upstreams, the router and nginx on core ${PIN.served}`
          : ''),
    );
    // Warm up every path.
    ghz(ghzBinary, grpcUp.address, 'propensity-v1', 2);
    ghz(ghzBinary, routerGrpc, 'propensity', 2);
    ghz(ghzBinary, viaNginx, 'propensity-v1', 2);
    await http(directHttp, 2);
    await http(viaHttp, 2);

    // Rounds of every path in turn, so that a noisy minute of a shared machine falls on all of
    // them; the medians over the rounds are what is printed first and recorded.
    const pid = router.proc.pid!;
    const cpuPerCall = async (run: () => Figures | Promise<Figures>): Promise<[Figures, number]> => {
      const before = cpuSeconds(pid);
      const x = await run();
      return [x, ((cpuSeconds(pid) - before) / Math.max(1, x.rps * SECONDS)) * 1e6];
    };
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const grpcDirect = ghz(ghzBinary, grpcUp.address, 'propensity-v1', SECONDS);
      const [grpcRouter, grpcCpu] = await cpuPerCall(() => ghz(ghzBinary, routerGrpc, 'propensity', SECONDS));
      const grpcNginx = ghz(ghzBinary, viaNginx, 'propensity-v1', SECONDS);
      const httpDirect = await http(directHttp, SECONDS);
      const [httpRouter, httpCpu] = await cpuPerCall(() => http(viaHttp, SECONDS));
      rounds.push({ grpcDirect, grpcRouter, grpcCpu, grpcNginx, httpDirect, httpRouter, httpCpu });
      if (ROUNDS > 1) console.log(`round ${i + 1}/${ROUNDS} done; load average ${loadavg()[0]!.toFixed(2)}`);
    }
    const f = (x: number): string => `${x.toFixed(3)} ms`;
    const why = (x: Figures): string =>
      x.failed && x.errors
        ? ` (${Object.entries(x.errors)
            .map(([e, n]) => `${n} × ${e}`)
            .join('; ')})`
        : '';
    /** The median over the rounds, and each round's value in brackets when there are several. */
    const over = (pick: (r: Round) => number, show = f): string => {
      const xs = rounds.map(pick);
      return `${show(median(xs))}${xs.length > 1 ? ` (${xs.map((x) => show(x).replace(' ms', '')).join(', ')})` : ''}`;
    };
    const failed = (pick: (r: Round) => Figures): string =>
      `${rounds.reduce((n, r) => n + pick(r).failed, 0)} failed${rounds.map((r) => why(pick(r))).join('')}`;
    const rps = (pick: (r: Round) => Figures): string =>
      `${median(rounds.map((r) => pick(r).rps)).toFixed(0)} req/s`;
    const µs = (x: number): string => `${x.toFixed(0)} µs`;
    const paths = [
      ['gRPC (ghz)', (r: Round) => r.grpcDirect, (r: Round) => r.grpcRouter, (r: Round) => r.grpcCpu],
      ['HTTP (autocannon)', (r: Round) => r.httpDirect, (r: Round) => r.httpRouter, (r: Round) => r.httpCpu],
    ] as const;
    console.log(ROUNDS > 1 ? `\nmedians over ${ROUNDS} rounds (each round's figure in brackets):` : '');
    for (const [name, d, r, cpu] of paths) {
      console.log(`\n${name}:`);
      console.log(
        `  direct          p50 ${over((x) => d(x).p50)}   p99 ${over((x) => d(x).p99)}   ${rps(d)}, ${failed(d)}`,
      );
      console.log(
        `  through router  p50 ${over((x) => r(x).p50)}   p99 ${over((x) => r(x).p99)}   ${rps(r)}, ${failed(r)}, router CPU ${over(cpu, µs)} per request`,
      );
      console.log(
        `  added           p50 ${over((x) => r(x).p50 - d(x).p50)}   p99 ${over((x) => r(x).p99 - d(x).p99)}   (target: added p99 ≤ 1.000 ms)`,
      );
    }
    const grpcAdded = median(rounds.map((r) => r.grpcRouter.p99 - r.grpcDirect.p99));
    const httpAdded = median(rounds.map((r) => r.httpRouter.p99 - r.httpDirect.p99));
    const nginxAdded = median(rounds.map((r) => r.grpcNginx.p99 - r.grpcDirect.p99));
    const ratio = grpcAdded / nginxAdded;
    console.log(`\ngRPC through nginx grpc_pass (the reference proxy, same upstream, HTTP/2 keep-alive):`);
    console.log(
      `  through nginx   p50 ${over((x) => x.grpcNginx.p50)}   p99 ${over((x) => x.grpcNginx.p99)}   ${rps((x) => x.grpcNginx)}, ${failed((x) => x.grpcNginx)}`,
    );
    console.log(
      `  added           p50 ${over((x) => x.grpcNginx.p50 - x.grpcDirect.p50)}   p99 ${over((x) => x.grpcNginx.p99 - x.grpcDirect.p99)}   ` +
        (nginxAdded > 0
          ? `router's added p99 ÷ nginx's ${ratio.toFixed(2)} (medians)`
          : "(no ratio: nginx's added p99 is within the noise)"),
    );
    if (nginxAdded > 0)
      record({
        id: 'routerGrpc.addedP99VsNginx',
        label: "router added p99 over gRPC ÷ nginx grpc_pass' added p99",
        value: ratio,
        unit: '×',
        better: 'lower',
        ratio: true,
      });
    record({
      id: 'routerGrpc.addedP99',
      label: 'router added p99 over gRPC at 1,000 req/s (ghz, stub upstream)',
      value: grpcAdded,
      unit: 'ms',
      better: 'lower',
      ratio: false,
      target: 1,
    });
    record({
      id: 'routerGrpc.addedP99VsHttp',
      label: "router added p99: gRPC's ÷ HTTP's, same run",
      value: grpcAdded / httpAdded,
      unit: '×',
      better: 'lower',
      ratio: true,
    });
  } finally {
    await router.stop();
    nginx?.proc.kill('SIGTERM');
    httpUp.proc.kill('SIGTERM');
    grpcUp.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
