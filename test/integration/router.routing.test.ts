import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestEvent, WeightsEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { writeRouterConfig, type RunningRouter } from '../harness/router';
import type { Client } from '../harness/routerClient';
import { chiSquare, inParallel, readEvents, simpleRequest } from '../harness/routerClient';
import { auth, until } from '../harness/routerSuites';
import { startRoutingFixture, type RoutingFixture } from '../harness/routingFixture';
import { fakeClass, startUpstream, type Upstream } from '../harness/upstream';
import type { RouterConfigInput } from '../../src/core/spec/routerConfig';

describe('router: V2 front, routing and admin (real router process, fake V2 upstreams)', function () {
  let v1: Upstream;
  let v2: Upstream;
  let flaky: Upstream;
  let dir: string;
  let router: RunningRouter;
  let client: Client;
  let config: RouterConfigInput;
  let fixture: RoutingFixture | undefined;

  before(async () => {
    fixture = await startRoutingFixture();
    ({ v1, v2, flaky, dir, router, client, config } = fixture);
  });

  after(async () => {
    await fixture?.stop();
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
    // Users are the unit: the log names each one by a hash (never the header's value), and the
    // report counts 1,000 users, none of them in two arms, with the SRM on users.
    const sticky = await until('3,000 sticky requests in the log', async () => {
      const logged = readEvents(join(dir, 'data')).filter(
        (e): e is RequestEvent => e.type === 'request' && e.assignment === 'sticky',
      );
      return logged.length >= 3_000 ? logged : undefined;
    });
    assert.equal(sticky.length, 3_000);
    assert.ok(
      sticky.every((e) => /^[0-9a-f]{16}$/.test(e.user ?? '')),
      'every sticky request names its user by hash',
    );
    assert.equal(new Set(sticky.map((e) => e.user)).size, 1_000);
    const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.equal(report.srm.unit, 'user');
    assert.equal(report.units?.users, 1_000);
    assert.equal(report.units?.crossovers, 0);
    assert.equal(report.comparisons[0]?.unit, 'user');
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
    assert.match(
      (unknown.json() as { error: string }).error,
      /weights: unknown variant "v7" — experiment propensity has v1, v2/,
    );
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
    assert.match(
      metrics,
      /model_canary_request_errors_total\{experiment="flaky",variant="f1",protocol="http"\} 3/,
    );
  });
});
