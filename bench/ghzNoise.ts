/**
 * How much of a gRPC tail is the load generator's own: ghz (bench/lib/ghz.ts) at a fixed rate
 * straight to the stub upstream (bench/lib/grpcStub.ts: a fixed answer, ~110 µs of CPU a call),
 * nothing in between, under several ghz settings in turn: its Go garbage collector on (GOGC
 * default) or off (`GOGC=off`: a 10 s run keeps well under 100 MB), and its worker count. With
 * `--pin` ghz runs on one core and the stub on the other (bench/lib/pin.ts), as in
 * `routerGrpc.ts --pin`. Each setting runs `--rounds` times, interleaved; it prints each
 * setting's p50, p99 and p99.9 per round and their spread (bench/lib/ghz.ts runs ghz with GOGC=off
 * since). No assertions: the figures say which
 * settings let a difference of p99s of about 1 ms be resolved (bench/profiles/grpc-path.md).
 *
 *   node --import tsx bench/ghzNoise.ts [--seconds 10] [--rounds 4] [--rate 1000] [--pin]
 */
import { loadavg } from 'node:os';
import { numberArg } from './lib/args';
import { ghzBinary, ghzCalls, type GhzFigures } from './lib/ghz';
import { startProcess } from './lib/load';
import { PIN, PINNED, pin } from './lib/pin';
import { quantile } from './lib/tail';

const SECONDS = numberArg('--seconds', 10);
const ROUNDS = numberArg('--rounds', 4);
const RATE = numberArg('--rate', 1000);

const SETTINGS = [
  { name: 'GOGC default, 50 workers', gogc: '100', concurrency: 50 },
  { name: 'GOGC=off,     50 workers', gogc: 'off', concurrency: 50 },
  { name: 'GOGC default, 16 workers', gogc: '100', concurrency: 16 },
  { name: 'GOGC=off,     16 workers', gogc: 'off', concurrency: 16 },
] as const;

const data = {
  model_name: 'propensity-v1',
  inputs: [{ name: 'age', datatype: 'INT64', shape: [1], contents: { int64_contents: [41] } }],
};

const bin = ghzBinary();
const stub = await startProcess('bench/lib/grpcStub.ts', /grpc upstream listening on (\S+)/);
try {
  if (PINNED) {
    pin(PIN.load, [process.pid]);
    pin(PIN.served, [stub.proc.pid!]);
  }
  const run = (s: (typeof SETTINGS)[number], seconds: number): GhzFigures =>
    ghzCalls(bin, stub.address, data, seconds, RATE, {
      concurrency: s.concurrency,
      details: true,
      gogc: s.gogc,
    });
  for (const s of SETTINGS) run(s, 2); // warm-up
  const results = new Map<string, { p50: number; p99: number; p999: number }[]>();
  for (let i = 0; i < ROUNDS; i++) {
    for (const s of SETTINGS) {
      const x = run(s, SECONDS);
      const ms = (x.calls ?? []).filter((c) => c.ok).map((c) => c.ms);
      const list = results.get(s.name) ?? [];
      list.push({ p50: x.p50, p99: x.p99, p999: quantile(ms, 0.999) });
      results.set(s.name, list);
    }
    console.log(`round ${i + 1}/${ROUNDS}; load average ${loadavg()[0]!.toFixed(2)}`);
  }
  console.log(
    `\nghz straight to the stub at ${RATE} req/s, ${SECONDS} s a round${PINNED ? `, ghz on core ${PIN.load}, the stub on core ${PIN.served}` : ''}:`,
  );
  const f = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
  for (const [name, rs] of results) {
    const p99 = rs.map((r) => r.p99);
    console.log(
      `  ${name}  p50 ${f(rs.map((r) => r.p50))}  p99 ${f(p99)} (spread ${(Math.max(...p99) - Math.min(...p99)).toFixed(2)})  p99.9 ${f(rs.map((r) => r.p999))} ms`,
    );
  }
} finally {
  stub.proc.kill('SIGTERM');
}
