import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeedbackEvent, RequestEvent, WeightsEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, chiSquare, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { fakeClass, startUpstream, type Upstream } from '../harness/upstream';
import { SAMPLE_MODELS } from '../harness/tools';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';

const TOKEN = 'test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('router: V2 front, routing and admin (real router process, fake V2 upstreams)', function () {
  let v1: Upstream;
  let v2: Upstream;
  let flaky: Upstream;
  let dir: string;
  let router: RunningRouter;
  let client: Client;
  let config: RouterConfigInput;

  before(async () => {
    [v1, v2, flaky] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    dir = await routerDir();
    config = {
      adminToken: TOKEN,
      timeouts: { upstreamMs: 400, headersMs: 1_000, requestMs: 2_000 },
      limits: { maxBodyBytes: 64 * 1024 },
      experiments: [
        {
          name: 'propensity',
          endpoint: 'propensity',
          variants: [
            { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 90, role: 'baseline' },
            { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 10 },
          ],
          sticky: { header: 'x-user-id' },
        },
        {
          name: 'flaky',
          endpoint: 'flaky',
          variants: [{ name: 'f1', url: flaky.url, model: 'flaky-model', weight: 1 }],
        },
        {
          name: 'nowhere',
          endpoint: 'nowhere',
          // A port nothing listens on: the connection is refused.
          variants: [{ name: 'n1', url: 'http://127.0.0.1:9', model: 'm', weight: 1 }],
        },
      ],
    };
    router = await startRouter(await writeRouterConfig(dir, config));
    client = new Client(router.url);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all([v1, v2, flaky].map((u) => u?.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers V2 health, readiness and model metadata', async () => {
    assert.equal((await client.send('GET', '/v2/health/live')).status, 200);
    assert.equal((await client.send('GET', '/v2/health/ready')).status, 200);
    const meta = await client.send('GET', '/v2/models/propensity');
    assert.equal(meta.status, 200);
    assert.equal((meta.json() as { name: string }).name, 'propensity');
    assert.deepEqual((meta.json() as { versions: string[] }).versions, ['v1', 'v2']);
    assert.equal((await client.send('GET', '/v2/models/propensity/ready')).status, 200);
    assert.equal((await client.send('GET', '/v2/models/nowhere/ready')).status, 503);
    assert.equal((await client.send('GET', '/v2/models/unknown/ready')).status, 404);
  });

  it("proxies to the variant's own model name and answers with the upstream's body untouched", async () => {
    const before = v2.calls.length;
    const res = await client.infer(
      'propensity',
      { ...simpleRequest(41), outputs: [{ name: 'predict' }] },
      {
        'x-model-canary-variant': 'v2',
      },
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-model-canary-variant'], 'v2');
    assert.equal(v2.calls.length, before + 1);
    assert.equal(v2.calls.at(-1)!.model, 'propensity-v2');
    const body = res.json() as { model_name: string; outputs: { name: string; data: number[] }[] };
    assert.equal(body.model_name, 'propensity-v2');
    assert.deepEqual(
      body.outputs.map((o) => o.name),
      ['predict'],
    );
    assert.deepEqual(body.outputs[0]!.data, [fakeClass(41)]);
  });

  it("keeps the client's x-request-id, generates one otherwise, and forwards it upstream", async () => {
    const mine = await client.infer('propensity', simpleRequest(), { 'x-request-id': 'client-id-42' });
    assert.equal(mine.headers['x-request-id'], 'client-id-42');
    assert.ok([...v1.calls, ...v2.calls].some((c) => c.requestId === 'client-id-42'));
    const generated = await client.infer('propensity', simpleRequest());
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('forces a variant with x-model-canary-variant and names an unknown one in a 400', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await client.infer('propensity', simpleRequest(), { 'x-model-canary-variant': 'v2' });
      assert.equal(res.headers['x-model-canary-variant'], 'v2');
    }
    const bad = await client.infer('propensity', simpleRequest(), { 'x-model-canary-variant': 'v9' });
    assert.equal(bad.status, 400);
    assert.match((bad.json() as { error: string }).error, /unknown variant "v9".*v1, v2/);
  });

  it('routes 20k requests within SRM bounds of the 90/10 weights', async () => {
    const counts = { v1: 0, v2: 0 };
    await inParallel(20_000, 64, async () => {
      const res = await client.infer('propensity', simpleRequest());
      assert.equal(res.status, 200);
      counts[res.headers['x-model-canary-variant'] as 'v1' | 'v2']++;
    });
    const { chi2, critical } = chiSquare([counts.v1, counts.v2], [90, 10]);
    assert.ok(chi2 < critical, `chi2 ${chi2.toFixed(2)} ≥ ${critical} for ${JSON.stringify(counts)}`);
    assert.ok(counts.v2 > 1_500 && counts.v2 < 2_500, JSON.stringify(counts));
    // The live report agrees (the SRM check of the analysis engine).
    const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.equal(report.srm.mismatch, false, JSON.stringify(report.srm));
  });

  it('keeps each of 1k sticky users on one variant, split by the weights', async () => {
    const seen = new Map<string, Set<string>>();
    await inParallel(3_000, 64, async (i) => {
      const user = `user-${i % 1_000}`;
      const res = await client.infer('propensity', simpleRequest(), { 'x-user-id': user });
      const set = seen.get(user) ?? new Set<string>();
      set.add(String(res.headers['x-model-canary-variant']));
      seen.set(user, set);
    });
    assert.equal(seen.size, 1_000);
    const split = [...seen.values()];
    assert.ok(
      split.every((s) => s.size === 1),
      'every user always got the same variant',
    );
    const canary = split.filter((s) => s.has('v2')).length;
    const { chi2, critical } = chiSquare([1_000 - canary, canary], [90, 10]);
    assert.ok(chi2 < critical, `${canary} of 1000 users on the canary`);
  });

  it('ramps monotonically: raising the canary only moves users from baseline to canary', async () => {
    const users = Array.from({ length: 1_000 }, (_, i) => `ramp-user-${i}`);
    const variantsAt = async (): Promise<Map<string, string>> => {
      const out = new Map<string, string>();
      await inParallel(users.length, 64, async (i) => {
        const res = await client.infer('propensity', simpleRequest(), { 'x-user-id': users[i]! });
        out.set(users[i]!, String(res.headers['x-model-canary-variant']));
      });
      return out;
    };
    let previous = await variantsAt();
    for (const canary of [25, 50, 75, 100]) {
      const put = await client.send(
        'PUT',
        '/api/v1/experiments/propensity/weights',
        { weights: { v1: 100 - canary, v2: canary } },
        auth,
      );
      assert.equal(put.status, 200, put.text);
      const now = await variantsAt();
      let moved = 0;
      for (const u of users) {
        if (previous.get(u) === 'v2')
          assert.equal(now.get(u), 'v2', `${u} went back to the baseline at ${canary}%`);
        if (previous.get(u) === 'v1' && now.get(u) === 'v2') moved++;
      }
      assert.ok(moved > 0, `some users moved to the canary at ${canary}%`);
      previous = now;
    }
    assert.ok(
      [...previous.values()].every((v) => v === 'v2'),
      'at 100% everyone is on the canary',
    );
    await client.send('PUT', '/api/v1/experiments/propensity/weights', { weights: { v1: 90, v2: 10 } }, auth);
  });

  it('changes weights over PUT only with the admin token (401 without or with a wrong one) and logs each change', async () => {
    const path = '/api/v1/experiments/propensity/weights';
    const none = await client.send('PUT', path, { weights: { v1: 50, v2: 50 } });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="model-canary"');
    const wrong = await client.send(
      'PUT',
      path,
      { weights: { v1: 50, v2: 50 } },
      { authorization: 'Bearer nope' },
    );
    assert.equal(wrong.status, 401);
    const wrongHeader = await client.send(
      'PUT',
      path,
      { weights: { v1: 50, v2: 50 } },
      { 'x-model-canary-token': 'nope' },
    );
    assert.equal(wrongHeader.status, 401);
    // The header that survives the Kubernetes API server's service proxy carries the token too.
    const viaHeader = await client.send(
      'PUT',
      path,
      { weights: { v1: 90, v2: 10 } },
      { 'x-model-canary-token': auth.authorization.replace(/^Bearer /, '') },
    );
    assert.equal(viaHeader.status, 200);
    const unknown = await client.send('PUT', path, { weights: { v7: 1 } }, auth);
    assert.equal(unknown.status, 400);
    assert.match((unknown.json() as { error: string }).error, /weights\.v7: unknown variant "v7"/);
    assert.deepEqual((await client.send('GET', path)).json(), {
      experiment: 'propensity',
      weights: { v1: 90, v2: 10 },
    });

    const ok = await client.send('PUT', path, { weights: { v1: 70, v2: 30 } }, auth);
    assert.equal(ok.status, 200);
    assert.deepEqual((await client.send('GET', path)).json(), {
      experiment: 'propensity',
      weights: { v1: 70, v2: 30 },
    });
    const events = readEvents(join(dir, 'data')).filter((e): e is WeightsEvent => e.type === 'weights');
    const last = events.at(-1)!;
    assert.deepEqual([last.source, last.weights], ['api', { v1: 70, v2: 30 }]);
    const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.deepEqual(
      report.variants.map((v) => v.weight),
      [70, 30],
    );
    await client.send('PUT', path, { weights: { v1: 90, v2: 10 } }, auth);
  });

  it('reloads weights and variants when the config file changes', async () => {
    const path = '/api/v1/experiments/propensity/weights';
    const edited = structuredClone(config);
    edited.experiments![0]!.variants[0]!.weight = 60;
    edited.experiments![0]!.variants[1]!.weight = 40;
    await writeRouterConfig(dir, edited);
    await until('the new weights', async () => {
      const w = (await client.send('GET', path)).json() as { weights: Record<string, number> };
      return w.weights.v1 === 60 && w.weights.v2 === 40 ? true : undefined;
    });
    const last = readEvents(join(dir, 'data'))
      .filter((e): e is WeightsEvent => e.type === 'weights')
      .at(-1)!;
    assert.deepEqual([last.source, last.weights], ['config', { v1: 60, v2: 40 }]);

    // A third variant appears in the file: it takes traffic and shows in the report.
    const v3 = await startUpstream();
    try {
      const grown = structuredClone(edited);
      grown.experiments![0]!.variants.push({ name: 'v3', url: v3.url, model: 'propensity-v3', weight: 40 });
      await writeRouterConfig(dir, grown);
      await until('the third variant', async () => {
        const w = (await client.send('GET', path)).json() as { weights: Record<string, number> };
        return w.weights.v3 === 40 ? true : undefined;
      });
      const res = await client.infer('propensity', simpleRequest(), { 'x-model-canary-variant': 'v3' });
      assert.equal(res.status, 200);
      assert.equal(v3.calls.at(-1)!.model, 'propensity-v3');
      const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
      assert.deepEqual(
        report.variants.map((v) => v.name),
        ['v1', 'v2', 'v3'],
      );
      assert.ok(report.variants[0]!.requests > 10_000, 'the rebuilt report kept the history from the log');
      // An invalid edit is reported and the running config stays.
      await writeFile(join(dir, 'router.yaml'), 'experiments: [ {name: broken');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await client.infer('propensity', simpleRequest())).status, 200);
      assert.match(router.output(), /config reload failed/);
    } finally {
      await writeRouterConfig(dir, config);
      await until('the original config', async () => {
        const w = (await client.send('GET', path)).json() as { weights: Record<string, number> };
        return w.weights.v3 === undefined && w.weights.v1 === 90 ? true : undefined;
      });
      await v3.close();
    }
  });

  it('answers 502 when an upstream fails or is unreachable and 504 when it times out, as errors of that variant', async () => {
    flaky.set({ status: 500 });
    const failed = await client.infer('flaky', simpleRequest(), { 'x-request-id': 'flaky-500' });
    assert.equal(failed.status, 502);
    assert.match((failed.json() as { error: string }).error, /variant f1 .*answered 500/);
    flaky.set({ reset: true });
    assert.equal((await client.infer('flaky', simpleRequest())).status, 502);
    flaky.set({ latencyMs: 1_500 });
    const slow = await client.infer('flaky', simpleRequest(), { 'x-request-id': 'flaky-timeout' });
    assert.equal(slow.status, 504);
    assert.match((slow.json() as { error: string }).error, /did not answer in time/);
    const refused = await client.infer('nowhere', simpleRequest());
    assert.equal(refused.status, 502);
    assert.match((refused.json() as { error: string }).error, /ECONNREFUSED/);
    flaky.set({ status: 422 });
    assert.equal(
      (await client.infer('flaky', simpleRequest())).status,
      422,
      "an upstream 4xx is the client's",
    );
    flaky.set({});

    const report = (await client.send('GET', '/api/v1/experiments/flaky/report')).json() as Report;
    assert.equal(report.variants[0]!.errors, 3);
    const events = readEvents(join(dir, 'data')).filter((e): e is RequestEvent => e.type === 'request');
    const timeout = events.find((e) => e.id === 'flaky-timeout')!;
    assert.equal(timeout.status, 504);
    assert.match(timeout.error ?? '', /did not answer in time/);
    const metrics = (await client.send('GET', '/metrics')).text;
    assert.match(metrics, /model_canary_request_errors_total\{experiment="flaky",variant="f1"\} 3/);
  });

  it('refuses malformed requests with the field named: 413, 400, 404, 405', async () => {
    const big = { inputs: [{ name: 'x', shape: [20_000], datatype: 'FP64', data: Array(20_000).fill(1.5) }] };
    assert.equal((await client.infer('propensity', big)).status, 413);
    const cases: [unknown, RegExp][] = [
      ['{"inputs": [', /^malformed JSON/],
      ['', /empty/],
      [[1, 2], /JSON object with "inputs"/],
      [{ inputs: [] }, /^inputs: must not be empty/],
      [
        { inputs: [{ name: 'a', shape: [2], datatype: 'FP64', data: [1] }] },
        /^inputs\[0\]\.data: has 1 elements but shape \[2\] needs 2/,
      ],
      [
        { inputs: [{ name: 'a', shape: [1], datatype: 'FP99', data: [1] }] },
        /^inputs\[0\]\.datatype: must be one of/,
      ],
      [{ inputs: [{ name: 'a', shape: [-1], datatype: 'FP64', data: [] }] }, /^inputs\[0\]\.shape/],
      [
        {
          inputs: [
            { name: 'a', shape: [1], datatype: 'FP64', data: [1] },
            { name: 'b', shape: [1], datatype: 'INT64', data: ['x'] },
          ],
        },
        /^inputs\[1\]\.data\[0\]: INT64 needs numbers, got string/,
      ],
      [{ inputs: [{ shape: [1], datatype: 'FP64', data: [1] }] }, /^inputs\[0\]\.name/],
      [{ ...simpleRequest(), outputs: [{}] }, /^outputs\[0\]\.name/],
    ];
    for (const [body, message] of cases) {
      const res = await client.infer('propensity', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
      assert.match((res.json() as { error: string }).error, message);
    }
    assert.equal((await client.infer('no-such-model', simpleRequest())).status, 404);
    const noExperiment = await client.send('GET', '/api/v1/experiments/nope/report');
    assert.equal(noExperiment.status, 404);
    assert.match((noExperiment.json() as { error: string }).error, /unknown experiment "nope"/);
    assert.equal((await client.send('GET', '/v2/models/propensity/infer')).status, 405);
    assert.equal((await client.send('GET', '/nothing/here')).status, 404);
    assert.equal(
      (await client.infer('propensity', simpleRequest(), { 'x-request-id': 'x'.repeat(300) })).status,
      400,
    );
  });

  it('times out slow clients: headers that never finish, and a body that never arrives', async () => {
    const slowSocket = (payload: string): Promise<{ ms: number; text: string }> =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const socket = connect(router.port, '127.0.0.1', () => socket.write(payload));
        let text = '';
        socket.on('data', (c) => (text += c.toString()));
        socket.on('close', () => resolve({ ms: Date.now() - started, text }));
        socket.on('error', () => resolve({ ms: Date.now() - started, text }));
        setTimeout(() => reject(new Error('the router kept a slow client for 10 s')), 10_000).unref();
      });
    const headers = await slowSocket('POST /v2/models/propensity/infer HTTP/1.1\r\nHost: x\r\n');
    assert.match(headers.text, /^HTTP\/1\.1 408/);
    const body = await slowSocket(
      'POST /v2/models/propensity/infer HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inp',
    );
    assert.ok(body.ms < 8_000, `closed after ${body.ms} ms`);
    assert.equal((await client.send('GET', '/v2/health/live')).status, 200);
  });

  it('serves Prometheus metrics labelled by experiment and variant', async () => {
    const text = (await client.send('GET', '/metrics')).text;
    assert.match(
      text,
      /model_canary_request_duration_seconds_bucket\{le="0\.005",experiment="propensity",variant="v1"\}/,
    );
    assert.match(text, /model_canary_requests_total\{experiment="propensity",variant="v2",code="200"\} \d+/);
    assert.match(text, /model_canary_weight\{experiment="propensity",variant="v1"\} 90/);
    assert.match(text, /model_canary_srm_p_value\{experiment="propensity"\}/);
    assert.match(text, /model_canary_rejected_requests_total\{code="400"\}/);
  });
});

describe('router: shadow, features and feedback (real router process, fake V2 upstreams)', function () {
  let primary: Upstream;
  let canary: Upstream;
  let shadow: Upstream;
  let dir: string;
  let router: RunningRouter;
  let client: Client;

  before(async () => {
    [primary, canary, shadow] = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        eventLog: { fsyncIntervalMs: 50 },
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            // The sample experiment brings the metric, guardrails and the drift reference (whose
            // header names the columns of a 2-D input tensor).
            experimentFile: join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
            variants: [
              { name: 'v1', url: primary.url, model: 'propensity-v1', weight: 50 },
              { name: 'v2', url: canary.url, model: 'propensity-v2', weight: 50 },
            ],
            mirror: { variant: 'v3', url: shadow.url, model: 'propensity-v3', percent: 100, maxInFlight: 8 },
          },
          {
            name: 'unsampled',
            endpoint: 'unsampled',
            sampleRate: 0,
            variants: [{ name: 'u1', url: primary.url, model: 'plain', weight: 1 }],
          },
        ],
      }),
    );
    client = new Client(router.url, 8);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all([primary, canary, shadow].map((u) => u?.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("records named inputs, the columns of a 2-D tensor by the reference CSV's header, and class and score", async () => {
    const named = await client.infer('propensity', simpleRequest(55), { 'x-request-id': 'feat-1' });
    assert.equal(named.status, 200);
    const tensor = {
      inputs: [
        {
          name: 'X',
          shape: [2, 6],
          datatype: 'BYTES',
          data: [
            [33, 7, 3, 20.5, 'app', 'west'],
            [60, 1, 1, 1.0, 'web', 'east'],
          ],
        },
      ],
    };
    assert.equal((await client.infer('propensity', tensor, { 'x-request-id': 'feat-2' })).status, 200);
    await client.infer('unsampled', simpleRequest(), { 'x-request-id': 'feat-3' });
    await new Promise((r) => setTimeout(r, 200));
    const events = readEvents(join(dir, 'data')).filter(
      (e): e is RequestEvent => e.type === 'request' && !e.shadow,
    );
    const byId = new Map(events.map((e) => [e.id, e]));
    assert.deepEqual(byId.get('feat-1')!.inputs, { age: 55, channel: 'web' });
    assert.deepEqual(byId.get('feat-2')!.inputs, {
      age: 33,
      tenure_months: 7,
      sessions_30d: 3,
      basket_value: 20.5,
      channel: 'app',
      region: 'west',
    });
    assert.equal(byId.get('feat-3')!.inputs, undefined, 'sampleRate 0 records no features');
  });

  it('asks for class and score but answers the client only the outputs it would have got', async () => {
    // The first answer without outputs teaches the router each variant's default outputs.
    for (let i = 0; i < 4; i++) await client.infer('propensity', simpleRequest(50));
    for (const variant of ['v1', 'v2']) {
      const upstream = variant === 'v1' ? primary : canary;
      const res = await client.infer('propensity', simpleRequest(50), {
        'x-model-canary-variant': variant,
        'x-request-id': `out-${variant}`,
      });
      const body = res.json() as { outputs: { name: string; data: number[] }[] };
      assert.deepEqual(
        body.outputs.map((o) => o.name),
        ['predict'],
        'the client asked for no outputs and gets the default one only',
      );
      assert.deepEqual(
        upstream.calls.at(-1)!.body,
        { ...simpleRequest(50), outputs: [{ name: 'predict' }, { name: 'predict_proba' }] },
        'the upstream was asked for both',
      );
    }
    const asked = await client.infer(
      'propensity',
      { ...simpleRequest(50), outputs: [{ name: 'predict_proba' }] },
      { 'x-request-id': 'out-asked' },
    );
    assert.deepEqual(
      (asked.json() as { outputs: { name: string }[] }).outputs.map((o) => o.name),
      ['predict_proba'],
    );
    await new Promise((r) => setTimeout(r, 200));
    const events = readEvents(join(dir, 'data')).filter(
      (e): e is RequestEvent => e.type === 'request' && !e.shadow,
    );
    const out = events.find((e) => e.id === 'out-v1')!;
    assert.deepEqual(out.outputs, { predict: 1, proba: 50 / 80 });
    assert.deepEqual(events.find((e) => e.id === 'out-asked')!.outputs, { proba: 50 / 80, predict: 1 });
  });

  it('mirrors to the shadow after answering; a shadow sleeping 500 ms does not move the p99', async () => {
    const timed = async (n: number): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const res = await client.infer('propensity', simpleRequest(30 + (i % 30)));
        assert.equal(res.status, 200);
        ms.push(performance.now() - t);
      }
      return ms;
    };
    shadow.set({});
    const fast = await timed(300);
    shadow.set({ latencyMs: 500 });
    const slow = await timed(300);
    const [p99Fast, p99Slow] = [percentile(fast, 0.99), percentile(slow, 0.99)];
    // A shadow on the client's path would put its 500 ms into the p99; the margins only absorb a busy machine.
    assert.ok(p99Slow < 400, `client p99 ${p99Slow.toFixed(1)} ms with a 500 ms shadow`);
    assert.ok(p99Slow < p99Fast + 200, `p99 ${p99Fast.toFixed(1)} → ${p99Slow.toFixed(1)} ms`);

    // 300 mirrors at ~1 ms intervals against 8 slots of 500 ms: most were dropped and counted.
    const metrics = (await client.send('GET', '/metrics')).text;
    const dropped = Number(
      /model_canary_shadow_dropped_total\{experiment="propensity"\} (\d+)/.exec(metrics)?.[1],
    );
    assert.ok(dropped > 100, `dropped ${dropped}`);
    shadow.set({});
    await new Promise((r) => setTimeout(r, 700));
    const shadows = readEvents(join(dir, 'data')).filter(
      (e): e is RequestEvent => e.type === 'request' && e.shadow === true,
    );
    assert.ok(shadows.length > 300);
    assert.ok(
      shadows.some((e) => e.latencyMs >= 500),
      'the slow shadow calls are recorded with their latency',
    );
    assert.ok(shadows.every((e) => e.variant === 'v3'));
    const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.equal(report.shadow!.variant, 'v3');
    // The fake models agree by construction (same rule), so agreement is complete.
    assert.equal(report.shadow!.agreement, 1);
  });

  it('attributes feedback to the variant through the request id, 202 once durable, 404 naming unknown ids', async () => {
    const ids: Record<string, string[]> = { v1: [], v2: [] };
    for (let i = 0; i < 40; i++) {
      const variant = i % 2 === 0 ? 'v1' : 'v2';
      const res = await client.infer('propensity', simpleRequest(), {
        'x-model-canary-variant': variant,
        'x-request-id': `fb-${i}`,
      });
      ids[variant]!.push(String(res.headers['x-request-id']));
    }
    const before = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    const count = (r: Report, v: string): number =>
      r.variants.find((x) => x.name === v)!.feedback.conversion?.count ?? 0;

    // v2 converts every time, v1 half of the time; one object and an array.
    const single = await client.send('POST', '/api/v1/experiments/propensity/feedback', {
      requestId: ids.v2![0],
      metric: 'conversion',
      value: 1,
    });
    assert.equal(single.status, 202);
    const batch = [
      ...ids.v2!.slice(1).map((id) => ({ requestId: id, metric: 'conversion', value: 1 })),
      ...ids.v1!.map((id, i) => ({ requestId: id, metric: 'conversion', value: i % 2 })),
    ];
    const res = await client.send('POST', '/api/v1/experiments/propensity/feedback', batch);
    assert.equal(res.status, 202);
    assert.deepEqual(res.json(), { accepted: 39 });

    const after = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.equal(count(after, 'v1') - count(before, 'v1'), 20);
    assert.equal(count(after, 'v2') - count(before, 'v2'), 20);
    const logged = readEvents(join(dir, 'data')).filter((e): e is FeedbackEvent => e.type === 'feedback');
    assert.ok(
      ids.v2!.every((id) => logged.some((e) => e.id === id && e.value === 1)),
      'fsynced before 202',
    );

    const unknown = await client.send('POST', '/api/v1/experiments/propensity/feedback', [
      { requestId: ids.v1![0], metric: 'conversion', value: 1 },
      { requestId: 'never-seen', metric: 'conversion', value: 1 },
    ]);
    assert.equal(unknown.status, 404);
    assert.match((unknown.json() as { error: string }).error, /unknown request id "never-seen"/);
    const other = await client.send('POST', '/api/v1/experiments/unsampled/feedback', {
      requestId: ids.v1![0],
      metric: 'conversion',
      value: 1,
    });
    assert.equal(other.status, 404, 'an id of another experiment is unknown here');
    const bad = await client.send('POST', '/api/v1/experiments/propensity/feedback', [
      { requestId: 'x', metric: 'conversion', value: 'yes' },
    ]);
    assert.equal(bad.status, 400);
    assert.match((bad.json() as { error: string }).error, /^\[0\]\.value: must be a finite number/);
    const unchanged = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.equal(count(unchanged, 'v1'), count(after, 'v1'), 'a refused batch records nothing');

    const metrics = (await client.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_feedback_total\{experiment="propensity",variant="v2",metric="conversion"\} 20/,
    );
  });

  it('reports drift p-values from the sampled features as gauges', async () => {
    // Ages far from the reference: 100 requests per variant (the detector needs 30).
    await inParallel(200, 8, (i) =>
      client.infer('propensity', simpleRequest(75 + (i % 5)), {
        'x-model-canary-variant': i % 2 ? 'v1' : 'v2',
      }),
    );
    const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    const age = report.drift?.features.find((f) => f.name === 'age' && f.variant === 'v1');
    assert.ok(age, JSON.stringify(report.drift));
    assert.equal(age.drift, true);
    await new Promise((r) => setTimeout(r, 1_100)); // the metrics read a report at most a second old
    const metrics = (await client.send('GET', '/metrics')).text;
    assert.match(
      metrics,
      /model_canary_drift_p_value\{experiment="propensity",variant="v1",feature="age",test="ks"\} [0-9.e-]+/,
    );
  });

  it('stops gracefully on SIGTERM: the request in flight is answered, the log fsynced, exit 0', async () => {
    primary.set({ latencyMs: 400 });
    canary.set({ latencyMs: 400 });
    const inflight = client.infer('propensity', simpleRequest(), { 'x-request-id': 'last-one' });
    await new Promise((r) => setTimeout(r, 100));
    const code = router.stop('SIGTERM');
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(await code, 0);
    const events = readEvents(join(dir, 'data'));
    assert.ok(events.some((e) => e.type === 'request' && e.id === 'last-one'));
    assert.match(router.output(), /stopped/);
    primary.set({});
    canary.set({});
  });
});

describe('router: durable event log (real router process, SIGKILL)', function () {
  let a: Upstream;
  let b: Upstream;
  let dir: string;
  let configFile: string;
  const routers: RunningRouter[] = [];

  before(async () => {
    [a, b] = await Promise.all([startUpstream(), startUpstream()]);
    dir = await routerDir();
    configFile = await writeRouterConfig(dir, {
      // Small segments and a small in-memory id map, so rotation and the on-disk lookup both happen.
      eventLog: { segmentBytes: 256 * 1024, idCacheSize: 500, fsyncIntervalMs: 100 },
      experiments: [
        {
          name: 'durable',
          endpoint: 'durable',
          variants: [
            { name: 'a', url: a.url, model: 'model-a', weight: 50 },
            { name: 'b', url: b.url, model: 'model-b', weight: 50 },
          ],
        },
      ],
    });
  });

  after(async () => {
    for (const r of routers) await r.stop('SIGKILL');
    await Promise.all([a, b].map((u) => u?.close()));
    if (dir && !process.env.KEEP) await rm(dir, { recursive: true, force: true });
  });

  const reportOf = async (r: RunningRouter): Promise<Report> => {
    const c = new Client(r.url, 1);
    try {
      return (await c.send('GET', '/api/v1/experiments/durable/report?now=1800000000000')).json() as Report;
    } finally {
      await c.close();
    }
  };

  it('keeps every acknowledged feedback through SIGKILL under load, and rebuilds identical aggregates', async () => {
    const first = await startRouter(configFile);
    routers.push(first);
    const client = new Client(first.url, 32);
    const acked: string[] = [];
    const firstIds: string[] = [];
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await client.infer('durable', simpleRequest(20 + (i % 50)));
          const id = String(res.headers['x-request-id']);
          if (firstIds.length < 50) firstIds.push(id);
          if (i % 2 === 0) {
            const fb = await client.send('POST', '/api/v1/experiments/durable/feedback', {
              requestId: id,
              metric: 'conversion',
              value: (i + w) % 3 === 0 ? 1 : 0,
            });
            if (fb.status === 202) acked.push(id);
          }
        } catch {
          return; // the router is gone
        }
      }
    };
    const workers = Array.from({ length: 24 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 3_000));
    await first.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await client.close().catch(() => undefined);
    assert.ok(acked.length > 500, `only ${acked.length} feedback acknowledged before the kill`);

    // A write torn by the crash: the recovery must cut it off.
    const dataDir = join(dir, 'data');
    const segments = readdirSync(dataDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort();
    assert.ok(segments.length > 2, `the log rotated (${segments.length} segments)`);
    const lastSegment = join(dataDir, segments.at(-1)!);
    await writeFile(
      lastSegment,
      (await readFile(lastSegment, 'utf8')) + '{"type":"feedback","id":"torn',
      'utf8',
    );

    const second = await startRouter(configFile);
    routers.push(second);
    assert.match(second.output(), /replayed \d+ events/);
    assert.match(second.output(), /torn last line/);
    assert.ok(!(await readFile(lastSegment, 'utf8')).includes('"torn'), 'the torn line was cut off');

    const events = readEvents(dataDir);
    const feedbackIds = new Set(events.filter((e) => e.type === 'feedback').map((e) => e.id));
    const missing = acked.filter((id) => !feedbackIds.has(id));
    assert.deepEqual(missing, [], 'every feedback that got 202 is in the log');

    // The rebuilt aggregates equal what the log says…
    const r1 = await reportOf(second);
    for (const variant of ['a', 'b']) {
      const requests = events.filter(
        (e) => e.type === 'request' && !e.shadow && e.variant === variant,
      ).length;
      assert.equal(r1.variants.find((v) => v.name === variant)!.requests, requests);
    }
    const totalFeedback = r1.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0);
    assert.equal(totalFeedback, feedbackIds.size);
    // …and another restart (graceful this time) rebuilds the very same report.
    assert.equal(await second.stop('SIGTERM'), 0);
    const third = await startRouter(configFile);
    routers.push(third);
    assert.deepEqual(await reportOf(third), r1);

    // An id long evicted from the in-memory map (500 entries) is still found in the segments.
    const c = new Client(third.url, 1);
    const old = await c.send('POST', '/api/v1/experiments/durable/feedback', {
      requestId: firstIds[0],
      metric: 'conversion',
      value: 1,
    });
    assert.equal(old.status, 202, old.text);
    await c.close();
  });
});

describe('router: fuzzing (real router process)', function () {
  let up: Upstream;
  let dir: string;
  let router: RunningRouter;

  before(async () => {
    up = await startUpstream();
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        limits: { maxBodyBytes: 256 * 1024 },
        timeouts: { headersMs: 2_000, requestMs: 4_000 },
        experiments: [
          {
            name: 'fuzz',
            endpoint: 'fuzz',
            variants: [
              { name: 'a', url: up.url, model: 'm', weight: 1 },
              { name: 'b', url: up.url, model: 'm2', weight: 1 },
            ],
            sticky: { header: 'x-user-id' },
          },
        ],
      }),
    );
  });

  after(async () => {
    await router?.stop();
    await up?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const rss = async (): Promise<number> => {
    const status = await readFile(`/proc/${router.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
  };

  it('survives thousands of generated malformed requests with 4xx answers and bounded memory', async () => {
    // A seeded generator (mulberry32), so a failure can be replayed.
    let seed = 0x5eed;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const junkValue = (depth = 0): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return pick([null, true, -1, 1e308, 'x', '', 0.5, 'ü\u0000', []]);
      if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => junkValue(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 4) }, () => [
          pick(['inputs', 'outputs', 'name', 'shape', 'data', 'datatype', 'id', 'x']),
          junkValue(depth + 1),
        ]),
      );
    };
    const mutate = (): unknown => {
      const req = structuredClone(simpleRequest()) as {
        inputs: Record<string, unknown>[];
        outputs?: unknown;
      };
      const input = req.inputs[0]!;
      const field = pick(['name', 'shape', 'datatype', 'data', 'parameters', 'outputs', 'inputs']);
      const value = junkValue();
      if (field === 'outputs') req.outputs = value;
      else if (field === 'inputs') (req as Record<string, unknown>).inputs = value;
      else input[field] = value;
      return req;
    };
    const rawBytes = (): Buffer =>
      Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
    const deep = (): string => '['.repeat(5_000) + ']'.repeat(5_000);

    const client = new Client(router.url, 16);
    await inParallel(200, 16, () => client.infer('fuzz', simpleRequest())); // warm up
    const baseline = await rss();
    const statuses = new Map<number, number>();
    await inParallel(6_000, 32, async (i) => {
      const kind = i % 8;
      let res;
      try {
        if (kind === 0) res = await client.infer('fuzz', rawBytes());
        else if (kind === 1) res = await client.infer('fuzz', junkValue());
        else if (kind === 2 || kind === 3)
          res = await client.infer('fuzz', mutate(), { 'x-user-id': String(rand()) });
        else if (kind === 4) res = await client.infer('fuzz', `{"inputs":${deep()}}`);
        else if (kind === 5)
          res = await client.send(
            'POST',
            '/api/v1/experiments/fuzz/feedback',
            pick([junkValue(), [junkValue()], rawBytes()]) as string,
          );
        else if (kind === 6)
          res = await client.send(
            'PUT',
            '/api/v1/experiments/fuzz/weights',
            { weights: junkValue() },
            pick([auth, {}]),
          );
        else
          res = await client.send(
            pick(['POST', 'PUT'] as const),
            pick([
              '/v2/models/%ZZ/infer',
              '/v2/models//infer',
              '/api/v1/experiments/%/report',
              '/v2/models/fuzz/infer?x=%%',
              '/%C3%A9',
              '/metrics/x',
            ]),
            rawBytes().toString('latin1'),
            { 'x-model-canary-variant': pick(['a', 'zz', 'b']) },
          );
      } catch (err) {
        assert.fail(`request ${i} (kind ${kind}) failed at the transport level: ${(err as Error).message}`);
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    });
    await client.close();

    // Broken HTTP on raw sockets: garbage, huge headers, bodies cut short.
    const raw = (payload: string | Buffer): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(router.port, '127.0.0.1', () => {
          socket.write(payload);
          setTimeout(() => socket.end(), 20);
        });
        let text = '';
        socket.on('data', (c) => (text += c.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
    for (let i = 0; i < 300; i++) {
      const payloads = [
        rawBytes(),
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        'POST /v2/models/fuzz/infer HTTP/1.1\r\nHost: x\r\ncontent-length: 50\r\n\r\n{"in',
        'POST /v2/models/fuzz/infer HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
        'GET /v2/health/live HTTP/9.9\r\n\r\n',
      ];
      await raw(pick(payloads));
    }

    const after = await rss();
    const fiveHundreds = [...statuses].filter(([s]) => s >= 500);
    assert.deepEqual(fiveHundreds, [], `statuses: ${JSON.stringify([...statuses])}`);
    const check = new Client(router.url, 1);
    assert.equal((await check.send('GET', '/v2/health/live')).status, 200, 'still alive');
    assert.equal((await check.infer('fuzz', simpleRequest())).status, 200, 'still routing');
    await check.close();
    assert.equal(router.proc.exitCode, null);
    assert.ok(
      after < baseline + 150 * 1024 * 1024,
      `RSS grew from ${baseline >> 20} MB to ${after >> 20} MB`,
    );
    assert.doesNotMatch(router.output(), /error on /, 'no handler crashed');
  });
});

describe('router: admin token from a file (real router process)', function () {
  let upstream: Upstream;
  let dir: string;
  let router: RunningRouter;
  let client: Client;
  const path = '/api/v1/experiments/solo/weights';
  const put = (token: string) =>
    client.send('PUT', path, { weights: { s1: 1 } }, { authorization: `Bearer ${token}` });

  before(async () => {
    upstream = await startUpstream();
    dir = await routerDir();
    await writeFile(join(dir, 'admin-token'), 'first-token-0123456789\n');
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminTokenFile: 'admin-token',
        experiments: [
          {
            name: 'solo',
            endpoint: 'solo',
            variants: [{ name: 's1', url: upstream.url, model: 'solo-model', weight: 1 }],
          },
        ],
      }),
    );
    client = new Client(router.url);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes a rotated token at once, and keeps the last good one when the file is emptied', async () => {
    assert.equal((await put('first-token-0123456789')).status, 200);
    // A Secret rotated in Kubernetes: the mounted file changes, the router is not restarted.
    await writeFile(join(dir, 'admin-token'), 'second-token-0123456789\n');
    assert.equal((await put('first-token-0123456789')).status, 401);
    assert.equal((await put('second-token-0123456789')).status, 200);
    await writeFile(join(dir, 'admin-token'), '');
    assert.equal(
      (await put('second-token-0123456789')).status,
      200,
      'a broken file keeps the last good token',
    );
  });
});
