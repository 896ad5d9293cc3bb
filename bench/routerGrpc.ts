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
 *   node --import tsx bench/routerGrpc.ts [--seconds 10] [--upstream stub|fake]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRouter } from '../test/harness/router';
import { ghz as runGhz, ghzBinary as ghzPath } from './lib/ghz';
import { writeGrpcBenchConfig } from './lib/grpcRouter';
import { record } from './lib/figures';
import { cpuSeconds, load, pct, startProcess } from './lib/load';
import { nginxBinary, startNginx, type RunningNginx } from './lib/nginx';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;
const FAKE =
  process.argv.includes('--upstream') && process.argv[process.argv.indexOf('--upstream') + 1] === 'fake';
const RATE = 1_000;

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
    const viaNginx = `127.0.0.1:${nginx.port}`;
    const routerGrpc = `127.0.0.1:${router.grpcPort}`;
    const directHttp = `${httpUp.address}/v2/models/propensity-v1/infer`;
    const viaHttp = `${router.url}/v2/models/propensity/infer`;
    console.log(
      `${SECONDS} s per measurement at ${RATE} req/s; gRPC upstream: ${FAKE ? "the tests' grpc-js fake" : 'bench/lib/grpcStub.ts'}; ${process.arch}, Node ${process.version}`,
    );
    // Warm up every path.
    ghz(ghzBinary, grpcUp.address, 'propensity-v1', 2);
    ghz(ghzBinary, routerGrpc, 'propensity', 2);
    ghz(ghzBinary, viaNginx, 'propensity-v1', 2);
    await http(directHttp, 2);
    await http(viaHttp, 2);

    // The router's CPU per request of each protocol (user + system, /proc).
    const pid = router.proc.pid!;
    const cpu: Record<string, number> = {};
    const measured = async (name: string, run: () => Figures | Promise<Figures>): Promise<Figures> => {
      const before = cpuSeconds(pid);
      const x = await run();
      cpu[name] = ((cpuSeconds(pid) - before) / Math.max(1, x.rps * SECONDS)) * 1e6;
      return x;
    };
    const grpcDirect = ghz(ghzBinary, grpcUp.address, 'propensity-v1', SECONDS);
    const grpcNginx = ghz(ghzBinary, viaNginx, 'propensity-v1', SECONDS);
    const rows: [string, Figures, Figures][] = [
      [
        'gRPC (ghz)',
        grpcDirect,
        await measured('gRPC (ghz)', () => ghz(ghzBinary, routerGrpc, 'propensity', SECONDS)),
      ],
      [
        'HTTP (autocannon)',
        await http(directHttp, SECONDS),
        await measured('HTTP (autocannon)', () => http(viaHttp, SECONDS)),
      ],
    ];
    const f = (x: number): string => `${x.toFixed(3)} ms`;
    const why = (x: Figures): string =>
      x.failed && x.errors
        ? ` (${Object.entries(x.errors)
            .map(([e, n]) => `${n} × ${e}`)
            .join('; ')})`
        : '';
    for (const [name, d, r] of rows) {
      console.log(`\n${name}:`);
      console.log(
        `  direct          p50 ${f(d.p50)}   p99 ${f(d.p99)}   ${d.rps.toFixed(0)} req/s, ${d.failed} failed${why(d)}`,
      );
      console.log(
        `  through router  p50 ${f(r.p50)}   p99 ${f(r.p99)}   ${r.rps.toFixed(0)} req/s, ${r.failed} failed${why(r)}, router CPU ${cpu[name]!.toFixed(0)} µs per request`,
      );
      console.log(
        `  added           p50 ${f(r.p50 - d.p50)}   p99 ${f(r.p99 - d.p99)}   ratio router/direct p50 ${(r.p50 / d.p50).toFixed(2)}, p99 ${(r.p99 / d.p99).toFixed(2)}   (target: added p99 ≤ 1.000 ms)`,
      );
    }
    const [[, gd, gr], [, hd, hr]] = rows as [[string, Figures, Figures], [string, Figures, Figures]];
    const nginxAdded = grpcNginx.p99 - gd.p99;
    const ratio = (gr.p99 - gd.p99) / nginxAdded;
    console.log(`\ngRPC through nginx grpc_pass (the reference proxy, same upstream, HTTP/2 keep-alive):`);
    console.log(
      `  through nginx   p50 ${f(grpcNginx.p50)}   p99 ${f(grpcNginx.p99)}   ${grpcNginx.rps.toFixed(0)} req/s, ${grpcNginx.failed} failed${why(grpcNginx)}`,
    );
    console.log(
      `  added           p50 ${f(grpcNginx.p50 - gd.p50)}   p99 ${f(nginxAdded)}   ` +
        (nginxAdded > 0
          ? `router's added p99 ÷ nginx's ${ratio.toFixed(2)}`
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
      value: gr.p99 - gd.p99,
      unit: 'ms',
      better: 'lower',
      ratio: false,
      target: 1,
    });
    record({
      id: 'routerGrpc.addedP99VsHttp',
      label: "router added p99: gRPC's ÷ HTTP's, same run",
      value: (gr.p99 - gd.p99) / (hr.p99 - hd.p99),
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
