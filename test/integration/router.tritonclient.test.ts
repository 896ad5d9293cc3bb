import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelServer } from '../../src/runtime/modelServer';
import type { RequestEvent } from '../../src/shared/events';
import { startSampleModelServers } from '../harness/sampleServers';
import { startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, readEvents, trafficRows } from '../harness/routerClient';
import { rowInputs, tritonCalls, type TritonCall, type TritonResult } from '../harness/tritonclient';
import { startGrpcUpstream } from '../harness/grpcUpstream';
import { startUpstream, type Upstream } from '../harness/upstream';

const PD = { content_type: 'pd' };

function outputsOf(r: TritonResult | undefined): unknown {
  assert.ok(r?.ok, `the call failed: ${JSON.stringify(r)}`);
  return r.outputs;
}

describe('router: tritonclient (gRPC and HTTP) through the router to real MLServer', function () {
  const servers: ModelServer[] = [];
  let shadow: Upstream;
  let slowGrpc: Awaited<ReturnType<typeof startGrpcUpstream>>;
  let dir: string;
  let router: RunningRouter;
  let http: Client;
  let grpcAt: string;
  const events = (): RequestEvent[] =>
    readEvents(join(dir, 'data')).filter((e): e is RequestEvent => e.type === 'request');

  before(async function () {
    this.timeout(600_000);
    dir = await mkdtemp(join(tmpdir(), 'mc-router-triton-'));
    servers.push(...(await startSampleModelServers(['propensity-v1', 'propensity-v2'], dir)));
    // A shadow that takes 500 ms to answer.
    shadow = await startUpstream({ latencyMs: 500 });
    // A gRPC model slower than any deadline below, always (MLServer's time races a loaded machine).
    slowGrpc = await startGrpcUpstream(0, { latencyMs: 3_000 });
    const [v1, v2] = servers as [ModelServer, ModelServer];
    const grpc = (s: ModelServer): string => `127.0.0.1:${s.ports.grpc}`;
    router = await startRouter(
      await writeRouterConfig(dir, {
        grpcListen: '127.0.0.1:0',
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            variants: [
              {
                name: 'v1',
                url: v1.url,
                grpc: grpc(v1),
                model: 'propensity-v1',
                weight: 50,
                role: 'baseline',
              },
              { name: 'v2', url: v2.url, grpc: grpc(v2), model: 'propensity-v2', weight: 50 },
            ],
            sticky: { header: 'x-user-id' },
            mirror: { variant: 'v3', url: shadow.url, model: 'slow-shadow', percent: 100 },
          },
          {
            name: 'slow',
            endpoint: 'slow',
            variants: [
              {
                name: 'v1',
                url: shadow.url,
                grpc: `127.0.0.1:${slowGrpc.port}`,
                model: 'slow-model',
                weight: 1,
              },
            ],
          },
          {
            // The same model without a gRPC port: the router translates to V2 JSON over HTTP.
            name: 'viahttp',
            endpoint: 'viahttp',
            variants: [{ name: 'v1', url: v1.url, model: 'propensity-v1', weight: 1 }],
          },
        ],
      }),
    );
    grpcAt = `127.0.0.1:${router.grpcPort}`;
    http = new Client(router.url);
  });

  after(async () => {
    await http?.close();
    await router?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await shadow?.close();
    slowGrpc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers tritonclient gRPC exactly as MLServer does, over gRPC and HTTP upstreams, forced by metadata', async () => {
    const rows = trafficRows().slice(0, 12);
    const [v1, v2] = servers as [ModelServer, ModelServer];
    const calls: TritonCall[] = [];
    rows.forEach((row, i) => {
      const inputs = rowInputs([row]);
      const outputs = i % 2 ? ['predict', 'predict_proba'] : undefined;
      const base = { protocol: 'grpc' as const, inputs, parameters: PD, ...(outputs ? { outputs } : {}) };
      calls.push(
        { ...base, url: `127.0.0.1:${v1.ports.grpc}`, model: 'propensity-v1' },
        { ...base, url: grpcAt, model: 'propensity', headers: { 'x-model-canary-variant': 'v1' } },
        { ...base, url: grpcAt, model: 'viahttp' },
        { ...base, url: `127.0.0.1:${v2.ports.grpc}`, model: 'propensity-v2' },
        { ...base, url: grpcAt, model: 'propensity', headers: { 'x-model-canary-variant': 'v2' } },
      );
    });
    // A batch of rows in one call, too.
    const batch = {
      protocol: 'grpc' as const,
      inputs: rowInputs(trafficRows().slice(20, 70)),
      parameters: PD,
    };
    calls.push(
      { ...batch, url: `127.0.0.1:${v1.ports.grpc}`, model: 'propensity-v1' },
      { ...batch, url: grpcAt, model: 'viahttp' },
    );
    const results = await tritonCalls(calls);
    for (let i = 0; i + 5 <= rows.length * 5; i += 5) {
      const [d1, r1, h1, d2, r2] = results.slice(i, i + 5);
      assert.deepEqual(outputsOf(r1), outputsOf(d1), `row ${i / 5}: router (gRPC upstream) vs MLServer v1`);
      assert.deepEqual(outputsOf(h1), outputsOf(d1), `row ${i / 5}: router (HTTP upstream) vs MLServer v1`);
      assert.deepEqual(outputsOf(r2), outputsOf(d2), `row ${i / 5}: router forced v2 vs MLServer v2`);
    }
    assert.deepEqual(outputsOf(results.at(-1)), outputsOf(results.at(-2)));
    // The two models differ somewhere, so forcing really chose.
    assert.notDeepEqual(
      results.filter((_, i) => i % 5 === 0).map(outputsOf),
      results.filter((_, i) => i % 5 === 3).map(outputsOf),
    );
    await new Promise((r) => setTimeout(r, 400));
    const forced = events().filter((e) => e.protocol === 'grpc' && e.assignment === 'forced');
    assert.equal(forced.length, rows.length * 2);
  });

  it('keeps each sticky user on one variant, records it like HTTP traffic, and a 500 ms shadow leaves the p99 alone', async () => {
    const rows = trafficRows().slice(100, 140);
    const calls: TritonCall[] = [];
    rows.forEach((row, i) => {
      for (let k = 0; k < 3; k++)
        calls.push({
          protocol: 'grpc',
          url: grpcAt,
          model: 'propensity',
          inputs: rowInputs([row]),
          parameters: PD,
          headers: { 'x-user-id': row.user_id, 'x-request-id': `triton-sticky-${i}-${k}` },
        });
    });
    const results = await tritonCalls(calls);
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results.find((r) => !r.ok)),
    );
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const p99 = ms[Math.ceil(ms.length * 0.99) - 1]!;
    console.log(
      `      tritonclient gRPC through the router with a 500 ms shadow: p50 ${ms[ms.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
    );
    assert.ok(p99 < 250, `p99 ${p99} ms: the shadow delayed the client`);

    await new Promise((r) => setTimeout(r, 1_500));
    const byId = new Map(events().map((e) => [`${e.id}${e.shadow ? ':shadow' : ''}`, e]));
    const variants = new Map<string, Set<string>>();
    rows.forEach((row, i) => {
      for (let k = 0; k < 3; k++) {
        const e = byId.get(`triton-sticky-${i}-${k}`);
        assert.ok(e, `no event for triton-sticky-${i}-${k}`);
        assert.equal(e.protocol, 'grpc');
        assert.equal(e.assignment, 'sticky');
        assert.ok(
          e.inputs && e.inputs.age === row.features.age,
          `features recorded: ${JSON.stringify(e.inputs)}`,
        );
        assert.ok(e.outputs?.proba !== undefined, 'the score is recorded from the gRPC answer');
        assert.ok(byId.get(`triton-sticky-${i}-${k}:shadow`), 'mirrored to the shadow after the reply');
        const set = variants.get(row.user_id) ?? new Set();
        set.add(e.variant);
        variants.set(row.user_id, set);
      }
    });
    for (const [user, set] of variants) assert.equal(set.size, 1, `${user} saw ${[...set].join(', ')}`);
    assert.equal(new Set([...variants.values()].map((s) => [...s][0])).size, 2, 'both variants got users');
    const report = (await http.send('GET', '/api/v1/experiments/propensity/report')).json() as {
      variants: { name: string; requests: number }[];
    };
    assert.ok(
      report.variants.every((v) => v.requests > 0),
      JSON.stringify(report.variants),
    );
  });

  it('answers tritonclient HTTP with its default binary tensors as MLServer answers JSON', async () => {
    const [v1] = servers as [ModelServer];
    const httpAt = new URL(router.url).host;
    const direct = new URL(v1.url).host;
    const calls: TritonCall[] = [];
    for (const rows of [trafficRows().slice(200, 201), trafficRows().slice(210, 260)]) {
      const base = { protocol: 'http' as const, inputs: rowInputs(rows), parameters: PD };
      const forced = { 'x-model-canary-variant': 'v1' };
      calls.push(
        // MLServer itself: JSON only.
        { ...base, url: direct, model: 'propensity-v1', binary: false },
        {
          ...base,
          url: direct,
          model: 'propensity-v1',
          binary: false,
          outputs: ['predict', 'predict_proba'],
        },
        // The router: tritonclient's defaults (binary inputs and outputs), named binary outputs, JSON.
        { ...base, url: httpAt, model: 'propensity', headers: forced },
        { ...base, url: httpAt, model: 'propensity', headers: forced, outputs: ['predict', 'predict_proba'] },
        { ...base, url: httpAt, model: 'propensity', headers: forced, binary: false },
        // And MLServer with the client's defaults, for the record.
        { ...base, url: direct, model: 'propensity-v1' },
      );
    }
    const results = await tritonCalls(calls);
    for (let i = 0; i < results.length; i += 6) {
      const [plain, named, binary, binaryNamed, json, mlserverBinary] = results.slice(i, i + 6);
      assert.deepEqual(outputsOf(binary), outputsOf(plain), 'binary through the router = JSON from MLServer');
      assert.deepEqual(outputsOf(binaryNamed), outputsOf(named), 'named binary outputs too');
      assert.deepEqual(outputsOf(json), outputsOf(plain), 'JSON through the router = JSON from MLServer');
      console.log(
        `      MLServer itself, with tritonclient's binary default: ${JSON.stringify(mlserverBinary).slice(0, 120)}`,
      );
    }
  });

  it("answers MLServer's own failures with MLServer's gRPC code: an unknown output, a missing feature", async () => {
    const [v1] = servers as [ModelServer];
    const row = trafficRows().slice(0, 1);
    const cases = [
      { inputs: rowInputs(row), outputs: ['no-such-output'] },
      { inputs: rowInputs(row).slice(1) },
    ];
    const calls: TritonCall[] = cases.flatMap((c, i) => {
      const base = { protocol: 'grpc' as const, parameters: PD, ...c };
      return [
        { ...base, url: `127.0.0.1:${v1.ports.grpc}`, model: 'propensity-v1' },
        {
          ...base,
          url: grpcAt,
          model: 'propensity',
          headers: { 'x-model-canary-variant': 'v1', 'x-request-id': `triton-bad-${i}` },
        },
      ];
    });
    const results = await tritonCalls(calls);
    for (let i = 0; i < cases.length; i++) {
      const [direct, via] = [results[2 * i], results[2 * i + 1]] as {
        ok: boolean;
        status: string;
        message: string;
      }[];
      console.log(
        `      MLServer: ${direct!.status} ${direct!.message.slice(0, 80)}; through the router: ${via!.status}`,
      );
      assert.equal(direct!.ok, false);
      assert.equal(via!.status, direct!.status);
    }
    await new Promise((r) => setTimeout(r, 400));
    for (let i = 0; i < cases.length; i++) {
      const e = events().find((x) => x.id === `triton-bad-${i}`);
      const code = (results[2 * i] as { status: string }).status;
      // INVALID_ARGUMENT is the client's mistake; anything else (MLServer's INTERNAL) the variant's failure.
      assert.equal(e?.error === undefined, /INVALID_ARGUMENT/.test(code), `${code}: ${JSON.stringify(e)}`);
    }
  });

  it('answers DEADLINE_EXCEEDED when the deadline expires upstream, and counts it as an error of the variant', async () => {
    // The deadline passes while the upstream works: the request is read, routed and forwarded first.
    const [result] = await tritonCalls([
      {
        protocol: 'grpc',
        url: grpcAt,
        model: 'slow',
        inputs: rowInputs(trafficRows().slice(0, 3)),
        parameters: PD,
        timeout: 0.5,
        headers: { 'x-request-id': 'triton-deadline' },
      },
    ]);
    assert.equal(result?.ok, false);
    assert.match((result as { status: string }).status, /DEADLINE_EXCEEDED/);
    let e: RequestEvent | undefined;
    for (
      const until = Date.now() + 5_000;
      !e && Date.now() < until;
      await new Promise((r) => setTimeout(r, 50))
    )
      e = events().find((x) => x.id === 'triton-deadline');
    assert.equal(e?.status, 504);
    assert.match(e?.error ?? '', /deadline/);
    const metrics = (await http.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_request_errors_total\{experiment="slow",variant="v1",protocol="grpc"\} [1-9]/,
    );
  });
});
