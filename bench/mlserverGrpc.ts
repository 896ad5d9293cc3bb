/**
 * The router's added latency over gRPC on a real model server (#16 item 8): ghz (bench/lib/ghz.ts)
 * sends ModelInfer of one row of the sample traffic to a real MLServer process's gRPC port, then
 * the same message through the router's gRPC front to the same port (the variant's `grpc`), in
 * turns, same run. bench/routerGrpc.ts measures the same path at 1,000 req/s on the tests' fake
 * upstream, which has no service time of its own; here the model is the sample's scikit-learn
 * pipeline behind MLServer's pandas codec (about 3.5 ms a call), so the rate defaults to 100 req/s:
 * at 200 one MLServer process beside ghz and the router on 2 cores already queues, and the tail
 * is then MLServer's. On a loaded machine (2026-12-07, load average 4) at 50 req/s: MLServer
 * alone p50 3.66 / p99 42 ms, the router added p50 +1.1 ms (its p99 is MLServer's noise there). Prints p50 and p99 of each, what the router adds, and its share of the end-to-end
 * p50.
 *
 *   node --import tsx bench/mlserverGrpc.ts [--seconds 10] [--rounds 3] [--rate 100] [--score-sample 0]
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelServer } from '../src/runtime/modelServer';
import { startRouter, writeRouterConfig, type RunningRouter } from '../test/harness/router';
import { startSampleModelServers } from '../test/harness/sampleServers';
import { SAMPLE_MODELS } from '../test/harness/tools';
import { quick, record } from './lib/figures';
import { numberArg, shareArg } from './lib/args';
import { ghzBinary, ghzCalls, type GhzFigures } from './lib/ghz';

const SECONDS = numberArg('--seconds', quick ? 3 : 10);
const ROUNDS = numberArg('--rounds', quick ? 1 : 3);
const RATE = numberArg('--rate', 100);
/**
 * The experiment's routing.scoreSample. Default 0: a score asked for runs the scikit-learn model
 * a second time (docs/model-metrics.md, "Scores"), which is the model's cost, not the router's;
 * `--score-sample 1` shows it (at 200 req/s one MLServer process then queues).
 */
const SCORE_SAMPLE = shareArg('--score-sample', 0);

const bytes = (s: string): string => Buffer.from(s).toString('base64');
/** Row 1 of data/traffic.csv as a ModelInferRequest (ghz's JSON: bytes in base64), pandas codec. */
const request = (model: string): object => ({
  model_name: model,
  parameters: { content_type: { string_param: 'pd' } },
  inputs: [
    { name: 'age', datatype: 'INT64', shape: [1], contents: { int64_contents: [27] } },
    { name: 'tenure_months', datatype: 'INT64', shape: [1], contents: { int64_contents: [24] } },
    { name: 'sessions_30d', datatype: 'INT64', shape: [1], contents: { int64_contents: [9] } },
    { name: 'basket_value', datatype: 'FP64', shape: [1], contents: { fp64_contents: [92.41] } },
    { name: 'channel', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bytes('app')] } },
    { name: 'region', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bytes('east')] } },
  ],
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  const ghz = ghzBinary();
  const dir = await mkdtemp(join(tmpdir(), 'mc-bench-mlserver-grpc-'));
  let servers: ModelServer[] = [];
  let router: RunningRouter | undefined;
  try {
    servers = await startSampleModelServers(['propensity-v1'], dir);
    const mlserver = servers[0]!;
    const direct = `127.0.0.1:${mlserver.ports.grpc}`;
    // The sample experiment with the score share asked for, beside a copy of its drift reference.
    await mkdir(join(dir, 'experiments'));
    await mkdir(join(dir, 'data'));
    await copyFile(join(SAMPLE_MODELS, 'data/reference.csv'), join(dir, 'data/reference.csv'));
    const sample = await readFile(join(SAMPLE_MODELS, 'experiments/propensity.yaml'), 'utf8');
    const experimentFile = join(dir, 'experiments/propensity.yaml');
    await writeFile(
      experimentFile,
      sample.replace('  routing:\n', `  routing:\n    scoreSample: ${SCORE_SAMPLE}\n`),
    );
    router = await startRouter(
      await writeRouterConfig(dir, {
        grpcListen: '127.0.0.1:0',
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            experimentFile,
            variants: [{ name: 'v1', url: mlserver.url, grpc: direct, model: 'propensity-v1', weight: 100 }],
          },
        ],
      }),
    );
    if (!router.grpcPort) throw new Error(`the router printed no gRPC port:\n${router.output()}`);
    const paths = {
      direct: () => ghzCalls(ghz, direct, request('propensity-v1'), SECONDS, RATE),
      routed: () => ghzCalls(ghz, `127.0.0.1:${router!.grpcPort}`, request('propensity'), SECONDS, RATE),
    };
    console.log(
      `MLServer's gRPC port alone vs through the router's, same process, ghz at ${RATE} req/s, ${ROUNDS} × ${SECONDS} s each, in turns; scores asked on ${SCORE_SAMPLE * 100}% of the requests`,
    );
    // Warm both paths (MLServer's first calls load its codec; the router opens its channel).
    ghzCalls(ghz, direct, request('propensity-v1'), 2, RATE);
    ghzCalls(ghz, `127.0.0.1:${router.grpcPort}`, request('propensity'), 2, RATE);
    const runs = { direct: [] as GhzFigures[], routed: [] as GhzFigures[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ['direct', 'routed'] as const) {
        const r = paths[name]();
        runs[name].push(r);
        console.log(
          `  round ${round + 1} ${name.padEnd(6)}  ${r.rps.toFixed(0).padStart(5)} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${r.failed ? `  ${r.failed} failed` : ''}`,
        );
      }
    }
    const failed = [...runs.direct, ...runs.routed].reduce((n, r) => n + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} calls failed — see the MLServer log in ${dir}`);
    const fig = (list: GhzFigures[], key: 'p50' | 'p99' | 'rps') => median(list.map((r) => r[key]));
    const d = { p50: fig(runs.direct, 'p50'), p99: fig(runs.direct, 'p99') };
    const r = { p50: fig(runs.routed, 'p50'), p99: fig(runs.routed, 'p99') };
    const share = (r.p50 - d.p50) / r.p50;
    console.log(`\nmedian of ${ROUNDS} rounds:`);
    console.log(`  MLServer alone   p50 ${ms(d.p50)}  p99 ${ms(d.p99)}`);
    console.log(`  through router   p50 ${ms(r.p50)}  p99 ${ms(r.p99)}`);
    console.log(
      `  router adds      p50 ${ms(r.p50 - d.p50)}  p99 ${ms(r.p99 - d.p99)} (target ≤ 1 ms) — ${(100 * share).toFixed(1)}% of the end-to-end p50`,
    );
    const base = { unit: 'ms', better: 'lower', ratio: false } as const;
    record({ ...base, id: 'mlserverGrpc.directP50', label: "MLServer's gRPC port alone, p50", value: d.p50 });
    record({ ...base, id: 'mlserverGrpc.directP99', label: "MLServer's gRPC port alone, p99", value: d.p99 });
    record({
      ...base,
      id: 'mlserverGrpc.addedP99',
      label: `router added p99 over MLServer's gRPC port at ${RATE} req/s`,
      value: r.p99 - d.p99,
      target: 1,
    });
    record({
      id: 'mlserverGrpc.routerShareP50',
      label: "Router's share of end-to-end p50 over gRPC on the sample model",
      value: 100 * share,
      unit: '%',
      better: 'lower',
      ratio: true,
    });
  } finally {
    await router?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
