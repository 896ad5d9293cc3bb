import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeedbackEvent, RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { TOKEN } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';
import { SAMPLE_MODELS } from '../harness/tools';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

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
    // Scores on half of the recorded requests (the experiment file's routing.scoreSample).
    await writeFile(
      join(dir, 'scores.yaml'),
      `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: scores }
spec:
  endpoint: scores
  variants: [{ name: s1, model: plain, role: baseline, weight: 100 }]
  routing: { scoreSample: 0.5 }
  metrics:
    primary: { name: conversion, kind: proportion }
    model: { task: classification }
`,
    );
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
            name: 'scores',
            endpoint: 'scores',
            experimentFile: join(dir, 'scores.yaml'),
            variants: [{ name: 's1', url: shadow.url, model: 'plain', weight: 1 }],
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
    // The first answer without outputs teaches the router each variant's default outputs: one
    // forced to each (four weighted ones missed a variant one run in eight at 50/50).
    for (const variant of ['v1', 'v2'])
      await client.infer('propensity', simpleRequest(50), { 'x-model-canary-variant': variant });
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

  it('asks for the score on the routing.scoreSample share of the recorded requests only', async () => {
    // The first answer teaches the default outputs; then 200 requests, each asked for its score
    // with probability 0.5 (Binomial(200, 0.5): 100 ± 7; the bounds are 8 standard deviations).
    await client.infer('scores', simpleRequest(20));
    const before = shadow.calls.length;
    for (let i = 0; i < 200; i++) {
      const res = await client.infer('scores', simpleRequest(20), { 'x-request-id': `score-${i}` });
      assert.deepEqual(
        (res.json() as { outputs: { name: string }[] }).outputs.map((o) => o.name),
        ['predict'],
      );
    }
    const asked = shadow.calls
      .slice(before)
      .filter((c) => (c.body as { outputs?: unknown }).outputs !== undefined).length;
    console.log(`      scoreSample 0.5: ${asked} of 200 requests asked for predict_proba`);
    assert.ok(asked > 44 && asked < 156, `${asked} of 200 asked for the score`);
    await new Promise((r) => setTimeout(r, 200));
    const events = readEvents(join(dir, 'data')).filter(
      (e): e is RequestEvent => e.type === 'request' && e.id.startsWith('score-'),
    );
    assert.equal(events.length, 200);
    assert.ok(
      events.every((e) => e.outputs?.predict !== undefined),
      'every request records its class',
    );
    assert.equal(
      events.filter((e) => e.outputs?.proba !== undefined).length,
      asked,
      'a score exactly where one was asked for',
    );
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
    const setAside = (r: Report): number => r.excluded?.feedback ?? 0;

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
    // The requests forced their variant, so their feedback is attributed and logged, but set
    // aside from the A/B (experiment traffic only, docs/statistics.md).
    assert.equal(count(after, 'v1'), count(before, 'v1'));
    assert.equal(count(after, 'v2'), count(before, 'v2'));
    assert.equal(setAside(after) - setAside(before), 40);
    const logged = readEvents(join(dir, 'data')).filter((e): e is FeedbackEvent => e.type === 'feedback');
    assert.ok(
      ids.v2!.every((id) => logged.some((e) => e.id === id && e.value === 1 && e.variant === 'v2')),
      'fsynced before 202, with the variant resolved through the request id',
    );
    assert.ok(ids.v1!.every((id) => logged.some((e) => e.id === id && e.variant === 'v1')));

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
    assert.equal(setAside(unchanged), setAside(after), 'a refused batch records nothing');

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
