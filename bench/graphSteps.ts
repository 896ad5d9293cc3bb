/**
 * Would a graph's step calls gain from gRPC? The two protocols of one real MLServer, side by side
 * in one run, for the two calls the sample pipeline makes most (docs/graphs.md, "Steps over HTTP"):
 *
 * - the transformer's call: the six raw columns (pandas codec) to `propensity-features`;
 * - the model's call: the transformer's [1, 12] FP32 tensor to `propensity-xgb`.
 *
 * HTTP: autocannon, V2 JSON, one connection (the router's upstream pool keeps connections open).
 * gRPC: ghz, the same request as a ModelInferRequest on one connection. Both at RATE req/s for
 * SECONDS, alternating, after a warm-up. No assertions: it prints p50 and p99 per protocol and
 * the difference, which is what a graph of N steps would save N times per request.
 *
 *   node --import tsx bench/graphSteps.ts [--seconds 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSampleModelServers } from '../test/harness/sampleServers';
import { ghzBinary, ghzCalls } from './lib/ghz';
import { load, pct } from './lib/load';

const SECONDS = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 10;
const RATE = 100;

interface Figures {
  p50: number;
  p99: number;
  failed: number;
}

const ROW = {
  age: 27,
  tenure_months: 24,
  sessions_30d: 9,
  basket_value: 92.41,
  channel: 'app',
  region: 'east',
};
const ENCODED = [27, 24, 9, 4.5369, 0, 1, 0, 0, 0, 0, 1, 0];

/** One call as V2 JSON (HTTP) and as ghz's JSON of a ModelInferRequest (gRPC). */
function transformerCall(): { http: object; grpc: object } {
  const columns = Object.entries(ROW);
  return {
    http: {
      parameters: { content_type: 'pd' },
      inputs: columns.map(([name, v]) =>
        typeof v === 'string'
          ? { name, shape: [1], datatype: 'BYTES', data: [v] }
          : { name, shape: [1], datatype: Number.isInteger(v) ? 'INT64' : 'FP64', data: [v] },
      ),
    },
    grpc: {
      model_name: 'propensity-features',
      parameters: { content_type: { string_param: 'pd' } },
      inputs: columns.map(([name, v]) =>
        typeof v === 'string'
          ? {
              name,
              shape: [1],
              datatype: 'BYTES',
              contents: { bytes_contents: [Buffer.from(v).toString('base64')] },
            }
          : Number.isInteger(v)
            ? { name, shape: [1], datatype: 'INT64', contents: { int64_contents: [v] } }
            : { name, shape: [1], datatype: 'FP64', contents: { fp64_contents: [v] } },
      ),
    },
  };
}

function modelCall(): { http: object; grpc: object } {
  const input = { name: 'features', shape: [1, 12], datatype: 'FP32' };
  return {
    http: { inputs: [{ ...input, data: ENCODED }], outputs: [{ name: 'predict_proba' }] },
    grpc: {
      model_name: 'propensity-xgb',
      inputs: [{ ...input, contents: { fp32_contents: ENCODED } }],
      outputs: [{ name: 'predict_proba' }],
    },
  };
}

function ghz(binary: string, address: string, data: object, seconds: number): Figures {
  const { p50, p99, failed } = ghzCalls(binary, address, data, seconds, RATE, {
    connections: 1,
    concurrency: 4,
  });
  return { p50, p99, failed };
}

async function http(url: string, body: object, seconds: number): Promise<Figures> {
  const r = await load(url, { body: JSON.stringify(body), seconds, connections: 1, rate: RATE });
  return { p50: pct(r.latencies, 0.5), p99: pct(r.latencies, 0.99), failed: r.failed };
}

async function main(): Promise<void> {
  const ghzPath = ghzBinary();
  const logs = await mkdtemp(join(tmpdir(), 'mc-bench-steps-'));
  const servers = await startSampleModelServers(['propensity-features', 'propensity-xgb'], logs);
  try {
    console.log(
      `${SECONDS} s per measurement at ${RATE} req/s on real MLServer; ${process.arch}, Node ${process.version}`,
    );
    const f = (x: number): string => `${x.toFixed(3)} ms`;
    for (const [step, call] of [
      ['propensity-features', transformerCall()],
      ['propensity-xgb', modelCall()],
    ] as const) {
      const server = servers.find((s) => s.modelName === step)!;
      const url = `${server.url}/v2/models/${step}/infer`;
      const grpcAddress = `127.0.0.1:${server.ports.grpc}`;
      await http(url, call.http, 2);
      ghz(ghzPath, grpcAddress, call.grpc, 2);
      const h = await http(url, call.http, SECONDS);
      const g = ghz(ghzPath, grpcAddress, call.grpc, SECONDS);
      console.log(`\n${step}:`);
      console.log(`  HTTP (V2 JSON)   p50 ${f(h.p50)}   p99 ${f(h.p99)}   ${h.failed} failed`);
      console.log(`  gRPC             p50 ${f(g.p50)}   p99 ${f(g.p99)}   ${g.failed} failed`);
      console.log(`  gRPC − HTTP      p50 ${f(g.p50 - h.p50)}   p99 ${f(g.p99 - h.p99)}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(logs, { recursive: true, force: true });
  }
}

await main();
