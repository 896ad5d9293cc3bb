import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { formatReportText } from '../../src/core/analysis/format';
import type { RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { InferenceClient } from '../harness/grpcClient';
import { startGrpcUpstream } from '../harness/grpcUpstream';
import { routerDir, startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, readEvents } from '../harness/routerClient';
import { TOKEN } from '../harness/routerSuites';
import { fakeClass, startUpstream, type Upstream } from '../harness/upstream';

/** A 2-row, 2-feature FP64 request, typed or raw. */
function inferRequest(raw: boolean, rows = [41, 7], model = 'propensity'): object {
  const data = rows.flatMap((age) => [age, 12]);
  const input = { name: 'input-0', datatype: 'FP64', shape: [rows.length, 2] };
  if (!raw) return { model_name: model, inputs: [{ ...input, contents: { fp64_contents: data } }] };
  const buf = Buffer.alloc(data.length * 8);
  data.forEach((v, i) => buf.writeDoubleLE(v, i * 8));
  return { model_name: model, inputs: [input], raw_input_contents: [buf] };
}

interface Response {
  id: string;
  outputs: {
    name: string;
    datatype: string;
    shape: number[];
    contents: { int64_contents: number[] } | null;
  }[];
  raw_output_contents: Buffer[];
}

describe('router: the gRPC front (real router process, Node grpc-js client, fake V2 upstreams)', function () {
  let v1: Upstream, v2: Upstream, flaky: Upstream, slow: Upstream;
  let grpcUp: Awaited<ReturnType<typeof startGrpcUpstream>>;
  let dir: string;
  let router: RunningRouter;
  let grpc: InferenceClient;
  let http: Client;

  before(async () => {
    [v1, v2, flaky, slow] = await Promise.all([
      startUpstream(),
      startUpstream(),
      startUpstream({ status: 500 }),
      startUpstream({ latencyMs: 1_500 }),
    ]);
    grpcUp = await startGrpcUpstream();
    dir = await routerDir();
    const file = await writeRouterConfig(dir, {
      grpcListen: '127.0.0.1:0',
      adminToken: TOKEN,
      timeouts: { upstreamMs: 3_000 },
      limits: { maxBodyBytes: 64 * 1024 },
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          variants: [
            { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 50, role: 'baseline' },
            { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 50 },
          ],
          sticky: { header: 'x-user-id' },
        },
        {
          name: 'flaky',
          endpoint: 'flaky',
          variants: [{ name: 'f1', url: flaky.url, model: 'f', weight: 1 }],
        },
        {
          name: 'nowhere',
          endpoint: 'nowhere',
          variants: [{ name: 'n1', url: 'http://127.0.0.1:9', model: 'm', weight: 1 }],
        },
        { name: 'slow', endpoint: 'slow', variants: [{ name: 's1', url: slow.url, model: 's', weight: 1 }] },
        {
          // A gRPC upstream: gRPC requests go to it over gRPC.
          name: 'viagrpc',
          endpoint: 'viagrpc',
          variants: [{ name: 'g1', url: v1.url, grpc: `127.0.0.1:${grpcUp.port}`, model: 'gm', weight: 1 }],
        },
        {
          name: 'grpcnowhere',
          endpoint: 'grpcnowhere',
          variants: [{ name: 'n1', url: v1.url, grpc: '127.0.0.1:9', model: 'm', weight: 1 }],
        },
      ],
    });
    router = await startRouter(file);
    assert.ok(router.grpcPort, `no gRPC port printed:\n${router.output()}`);
    grpc = new InferenceClient(`127.0.0.1:${router.grpcPort}`);
    http = new Client(router.url);
  });

  after(async () => {
    grpc?.close();
    await http?.close();
    await router?.stop();
    await Promise.all([v1, v2, flaky, slow].map((u) => u?.close()));
    grpcUp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers ServerLive, ServerReady, ServerMetadata, ModelReady and ModelMetadata', async () => {
    assert.deepEqual((await grpc.call('ServerLive', {})).response, { live: true });
    assert.deepEqual((await grpc.call('ServerReady', {})).response, { ready: true });
    assert.equal((await grpc.call('ServerMetadata', {})).response?.name, 'model-canary-router');
    assert.deepEqual((await grpc.call('ModelReady', { name: 'propensity' })).response, { ready: true });
    assert.deepEqual((await grpc.call('ModelReady', { name: 'nowhere' })).response, { ready: false });
    const meta = await grpc.call('ModelMetadata', { name: 'propensity' });
    assert.equal(meta.response?.name, 'propensity');
    assert.deepEqual(meta.response?.versions, ['v1', 'v2']);
    assert.equal(meta.response?.platform, 'fake');
    const unknown = await grpc.call('ModelReady', { name: 'nope' });
    assert.equal(unknown.error?.code, status.NOT_FOUND);
    assert.match(unknown.error!.details, /unknown model "nope" — this router serves propensity/);
  });

  it('routes typed and raw ModelInfer requests and answers in the encoding the client used', async () => {
    const typed = await grpc.call<Response>('ModelInfer', inferRequest(false), {
      'x-request-id': 'grpc-typed-1',
    });
    assert.equal(typed.error, undefined, typed.error?.details);
    assert.equal(typed.headers?.get('x-request-id')[0], 'grpc-typed-1');
    const variant = typed.headers?.get('x-model-canary-variant')[0];
    assert.ok(variant === 'v1' || variant === 'v2');
    const predict = typed.response!.outputs.find((o) => o.name === 'predict')!;
    assert.deepEqual(predict.contents?.int64_contents, [fakeClass(41), fakeClass(7)]);
    assert.deepEqual(predict.shape, [2]);
    assert.equal(typed.response!.raw_output_contents.length, 0);
    // The client got only the default output, though the router asked for the score too.
    assert.deepEqual(
      typed.response!.outputs.map((o) => o.name),
      ['predict'],
    );

    const raw = await grpc.call<Response>('ModelInfer', inferRequest(true, [50, 3]));
    assert.equal(raw.error, undefined, raw.error?.details);
    assert.equal(raw.response!.raw_output_contents.length, raw.response!.outputs.length);
    const bytes = raw.response!.raw_output_contents[0]!;
    assert.deepEqual([bytes.readBigInt64LE(0), bytes.readBigInt64LE(8)], [1n, 0n]);
    // Upstream got the decoded tensor as V2 JSON.
    const upstreamCall = [...v1.calls, ...v2.calls].find(
      (c) => c.requestId === raw.headers?.get('x-request-id')[0],
    );
    assert.deepEqual(
      (upstreamCall?.body as { inputs: { data: number[] }[] }).inputs[0]!.data,
      [50, 12, 3, 12],
    );
  });

  it('records gRPC requests in the same event log with protocol, features and outputs, and counts them by protocol', async () => {
    // The first request to a variant teaches it the default outputs; the next is asked for the score too.
    const v1Only = { 'x-model-canary-variant': 'v1' };
    await grpc.call('ModelInfer', inferRequest(true, [60]), v1Only);
    await grpc.call('ModelInfer', inferRequest(true, [60]), { ...v1Only, 'x-request-id': 'grpc-log-1' });
    await new Promise((r) => setTimeout(r, 400));
    const event = readEvents(join(dir, 'data')).find(
      (e): e is RequestEvent => e.type === 'request' && e.id === 'grpc-log-1',
    );
    assert.ok(event, 'no event for grpc-log-1');
    assert.equal(event.protocol, 'grpc');
    assert.equal(event.status, 200);
    assert.deepEqual(event.inputs, { 'input-0_0': 60, 'input-0_1': 12 });
    assert.equal(event.outputs?.predict, 1);
    assert.equal(typeof event.outputs?.proba, 'number');
    const metrics = (await http.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_requests_total\{experiment="propensity",variant="v\d",protocol="grpc",code="200"\} \d+/,
    );
    // Feedback over HTTP attributes to the gRPC request by the id from its metadata.
    const fb = await http.send('POST', '/api/v1/experiments/propensity/feedback', {
      requestId: 'grpc-log-1',
      metric: 'conversion',
      value: 1,
    });
    assert.equal(fb.status, 202, fb.text);
    // The report counts randomised gRPC requests by variant (the forced ones above are left out).
    const report = async (): Promise<Report> =>
      (await http.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    const grpcCount = (r: Report): number => r.variants.reduce((n, v) => n + (v.grpcRequests ?? 0), 0);
    const before = await report();
    for (let i = 0; i < 3; i++) await grpc.call('ModelInfer', inferRequest(false, [30 + i]), {});
    const after = await report();
    assert.equal(grpcCount(after) - grpcCount(before), 3);
    assert.equal(
      after.variants.reduce((n, v) => n + v.requests, 0) -
        before.variants.reduce((n, v) => n + v.requests, 0),
      3,
    );
    assert.match(formatReportText(after), /By protocol: v1 HTTP [\d,]+ · gRPC [\d,]+; v2 HTTP/);
  });

  it('keeps a sticky key from metadata on one variant and forces a variant named in metadata', async () => {
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const a = await grpc.call('ModelInfer', inferRequest(false), { 'x-user-id': user });
        seen.add(a.headers!.get('x-model-canary-variant')[0] as string);
      }
      assert.equal(seen.size, 1, `${user} saw ${[...seen].join(', ')}`);
    }
    for (let i = 0; i < 6; i++) {
      const a = await grpc.call('ModelInfer', inferRequest(false), { 'x-model-canary-variant': 'v2' });
      assert.equal(a.headers!.get('x-model-canary-variant')[0], 'v2');
    }
    const wrong = await grpc.call('ModelInfer', inferRequest(false), { 'x-model-canary-variant': 'v9' });
    assert.equal(wrong.error?.code, status.INVALID_ARGUMENT);
    assert.match(wrong.error!.details, /unknown variant "v9" .* has v1, v2/);
    await new Promise((r) => setTimeout(r, 400));
    const events = readEvents(join(dir, 'data')).filter(
      (e): e is RequestEvent => e.type === 'request' && e.protocol === 'grpc',
    );
    assert.ok(events.some((e) => e.assignment === 'sticky' && /^[0-9a-f]{16}$/.test(e.user ?? '')));
    assert.equal(events.filter((e) => e.assignment === 'forced' && e.variant === 'v2').length, 6);
  });

  it("sends gRPC requests to a variant's gRPC port as the client sent them (raw stays raw), and counts an unreachable one as UNAVAILABLE", async () => {
    const a = await grpc.call<Response>('ModelInfer', inferRequest(true, [60], 'viagrpc'), {
      'x-request-id': 'grpc-up-1',
    });
    assert.equal(a.error, undefined, a.error?.details);
    assert.equal(a.response!.raw_output_contents[0]!.readBigInt64LE(0), 1n);
    const seen = grpcUp.calls.find((c) => c.requestId === 'grpc-up-1');
    assert.deepEqual(seen && { model: seen.model, rawInputs: seen.rawInputs }, { model: 'gm', rawInputs: 1 });
    // Once the variant's default outputs are known, a sampled request asks it for predict and
    // predict_proba too, and the client gets the variant's answer without the extra ones, in its
    // own encoding, with its message id.
    const direct = new InferenceClient(`127.0.0.1:${grpcUp.port}`);
    try {
      for (const raw of [true, false]) {
        const requestId = `grpc-up-extra-${raw}`;
        const request = { ...inferRequest(raw, [60, 1], 'viagrpc'), id: `msg-${raw}` };
        const b = await grpc.call<Response>('ModelInfer', request, { 'x-request-id': requestId });
        assert.equal(b.error, undefined, b.error?.details);
        assert.deepEqual(grpcUp.calls.find((c) => c.requestId === requestId)?.outputs, [
          'predict',
          'predict_proba',
        ]);
        const d = await direct.call<Response>('ModelInfer', { ...request, model_name: 'gm' });
        assert.deepEqual(
          b.response!.outputs.map((o) => o.name),
          ['predict'],
        );
        assert.deepEqual(b.response, {
          ...d.response,
          outputs: d.response!.outputs.filter((o) => o.name === 'predict'),
        });
        assert.equal(b.response!.id, `msg-${raw}`);
      }
    } finally {
      direct.close();
    }
    // HTTP requests to the same experiment still go over HTTP.
    const before = grpcUp.calls.length;
    assert.equal(
      (await http.infer('viagrpc', { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] }))
        .status,
      200,
    );
    assert.equal(grpcUp.calls.length, before);

    const down = await grpc.call('ModelInfer', inferRequest(false, [1], 'grpcnowhere'));
    assert.equal(down.error?.code, status.UNAVAILABLE);
    assert.match(down.error!.details, /variant n1: 127\.0\.0\.1:9 \(model m, gRPC\) failed/);
    const metrics = (await http.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_request_errors_total\{experiment="grpcnowhere",variant="n1",protocol="grpc"\} 1/,
    );
  });

  it('maps failures to gRPC codes: bad tensors, unknown models, an upstream 5xx, an unreachable upstream', async () => {
    const cases: [object, status, RegExp][] = [
      [{ model_name: 'propensity', inputs: [] }, status.INVALID_ARGUMENT, /^inputs: must not be empty/],
      [
        { ...inferRequest(true), raw_input_contents: [Buffer.alloc(5)] },
        status.INVALID_ARGUMENT,
        /^raw_input_contents\[0\]: has 5 bytes but the shape needs 4 FP64 elements of 8 bytes \(32\)/,
      ],
      [
        { model_name: 'propensity', inputs: [{ name: 'a', datatype: 'FP99', shape: [1] }] },
        status.INVALID_ARGUMENT,
        /^inputs\[0\]\.datatype: must be one of/,
      ],
      [
        {
          model_name: 'propensity',
          inputs: [{ name: 'a', datatype: 'FP64', shape: [3], contents: { fp64_contents: [1] } }],
        },
        status.INVALID_ARGUMENT,
        /^inputs\[0\]\.contents\.fp64_contents: has 1 elements but the shape needs 3/,
      ],
      [inferRequest(false, [1], 'nope'), status.NOT_FOUND, /unknown model "nope"/],
      [inferRequest(false, [1], 'flaky'), status.INTERNAL, /variant f1 \(f\) answered 500/],
      [inferRequest(false, [1], 'nowhere'), status.UNAVAILABLE, /variant n1: .* failed/],
    ];
    for (const [request, code, details] of cases) {
      const a = await grpc.call('ModelInfer', request);
      assert.equal(a.error?.code, code, `${JSON.stringify(request)} → ${a.error?.code} ${a.error?.details}`);
      assert.match(a.error!.details, details);
      assert.ok(a.trailers?.get('x-request-id')[0], 'the request id is in the trailers of a failure');
    }
    const metrics = (await http.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_request_errors_total\{experiment="flaky",variant="f1",protocol="grpc"\} 1/,
    );
    assert.match(metrics, /model_canary_rejected_requests_total\{code="400"\} [1-9]/);
  });

  it('passes the client deadline upstream: DEADLINE_EXCEEDED, recorded as an error of the variant', async () => {
    const started = Date.now();
    // The router's own answer (not only the client's timer): the event says 504 with the error.
    const a2 = await grpc.call(
      'ModelInfer',
      { ...inferRequest(false), model_name: 'slow' },
      {
        'x-request-id': 'grpc-deadline-2',
      },
      { deadlineMs: 400 },
    );
    assert.equal(a2.error?.code, status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 1_400, `took ${Date.now() - started} ms`);
    await new Promise((r) => setTimeout(r, 600));
    const event = readEvents(join(dir, 'data')).find(
      (e): e is RequestEvent => e.type === 'request' && e.id === 'grpc-deadline-2',
    );
    assert.equal(event?.status, 504);
    assert.match(event?.error ?? '', /deadline/);
    const metrics = (await http.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_request_errors_total\{experiment="slow",variant="s1",protocol="grpc"\} 1/,
    );
  });

  it('passes a cancellation on: the upstream call is aborted and the request is not an error', async () => {
    const before = slow.calls.length;
    const controller = new AbortController();
    const pending = grpc.call(
      'ModelInfer',
      { ...inferRequest(false), model_name: 'slow' },
      {
        'x-request-id': 'grpc-cancel-1',
      },
      { signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    const a = await pending;
    assert.equal(a.error?.code, status.CANCELLED);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(slow.calls.length, before + 1);
    const event = readEvents(join(dir, 'data')).find(
      (e): e is RequestEvent => e.type === 'request' && e.id === 'grpc-cancel-1',
    );
    assert.equal(event?.status, 499);
    assert.equal(event?.error, undefined);
    assert.ok((event?.latencyMs ?? 9e9) < 1_000, `recorded ${event?.latencyMs} ms: the call was not aborted`);
  });
});
