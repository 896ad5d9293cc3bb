import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelServer } from '../../src/runtime/modelServer';
import type { RequestEvent } from '../../src/shared/events';
import type { Report } from '../../src/shared/report';
import { startSampleModelServers } from '../harness/sampleServers';
import { startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import {
  Client,
  FEATURES,
  inParallel,
  namedInputsRequest,
  readEvents,
  trafficRows,
} from '../harness/routerClient';
import { SAMPLE_MODELS } from '../harness/tools';

interface V2Response {
  model_name: string;
  outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
}

describe('router in front of real MLServer serving the sample models', function () {
  const servers: ModelServer[] = [];
  let dir: string;
  let router: RunningRouter;
  let client: Client;

  before(async function () {
    this.timeout(600_000);
    dir = await mkdtemp(join(tmpdir(), 'mc-router-mlserver-'));
    servers.push(
      ...(await startSampleModelServers(['propensity-v1', 'propensity-v2', 'propensity-v3'], dir)),
    );
    const [v1, v2, v3] = servers as [ModelServer, ModelServer, ModelServer];
    router = await startRouter(
      await writeRouterConfig(dir, {
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            experimentFile: join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
            variants: [
              { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 50, role: 'baseline' },
              { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 50 },
            ],
            sticky: { header: 'x-user-id' },
            mirror: { variant: 'v3', url: v3.url, model: 'propensity-v3', percent: 100 },
          },
        ],
      }),
    );
    client = new Client(router.url, 8);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers exactly what MLServer answers, records features, class and score, shadow agreement and feedback', async () => {
    assert.equal((await client.send('GET', '/v2/models/propensity/ready')).status, 200);
    const rows = trafficRows().slice(0, 400);
    const direct = new Client(servers[0]!.url, 1);
    const results = await inParallel(rows.length, 8, async (i) => {
      const row = rows[i]!;
      const res = await client.infer('propensity', namedInputsRequest(row.features), {
        'x-user-id': row.user_id,
        'x-request-id': `ml-${i}`,
      });
      assert.equal(res.status, 200, res.text);
      return { row, variant: String(res.headers['x-model-canary-variant']), body: res.json() as V2Response };
    });

    // The client gets MLServer's default output (predict) only, the same values as calling v1 directly.
    for (const r of results.filter((x) => x.variant === 'v1').slice(0, 20)) {
      const mine = await direct.infer('propensity-v1', namedInputsRequest(r.row.features));
      const expected = mine.json() as V2Response;
      assert.deepEqual(
        r.body.outputs.map((o) => o.name),
        ['predict'],
      );
      assert.deepEqual(r.body.outputs, expected.outputs);
      assert.equal(r.body.model_name, 'propensity-v1');
    }
    await direct.close();
    assert.ok(results.some((r) => r.variant === 'v2') && results.some((r) => r.variant === 'v1'));

    // Feedback from the dataset's ground truth.
    const feedback = results.map((r, i) => ({
      requestId: `ml-${i}`,
      metric: 'conversion',
      value: r.row.converted,
    }));
    assert.equal(
      (await client.send('POST', '/api/v1/experiments/propensity/feedback', feedback)).status,
      202,
    );
    // Mirrors finish after the clients have their answers: wait until each one is logged or
    // counted as dropped (bounded in flight, by design), however slow the machine is.
    const dropped = async (): Promise<number> => {
      const text = (await client.send('GET', '/metrics')).text;
      const line = /^model_canary_shadow_dropped_total\{[^}]*\} (\d+)/m.exec(text);
      return line ? Number(line[1]) : 0;
    };
    const mirrored = (): number =>
      readEvents(join(dir, 'data')).filter((e) => e.type === 'request' && e.shadow).length;
    for (let i = 0; i < 300 && mirrored() + (await dropped()) < rows.length; i++)
      await new Promise((r) => setTimeout(r, 100));

    const events = readEvents(join(dir, 'data')).filter((e): e is RequestEvent => e.type === 'request');
    const primary = events.filter((e) => !e.shadow);
    assert.equal(primary.length, rows.length);
    for (const e of primary) {
      assert.deepEqual(Object.keys(e.inputs ?? {}).sort(), [...FEATURES].sort());
      assert.ok(e.outputs?.predict === 0 || e.outputs?.predict === 1, JSON.stringify(e));
    }
    // After the first answer taught the router MLServer's default outputs, it also asks for the score.
    assert.ok(primary.filter((e) => typeof e.outputs?.proba === 'number').length >= rows.length - 16);
    const shadow = events.filter((e) => e.shadow);
    assert.equal(
      shadow.length + (await dropped()),
      rows.length,
      'every request was mirrored or counted as dropped',
    );
    assert.ok(shadow.length > rows.length / 2, `most requests were mirrored (${shadow.length})`);
    assert.ok(
      shadow.every((e) => e.status === 200 && e.variant === 'v3' && typeof e.outputs?.proba === 'number'),
    );

    const report = (await client.send('GET', '/api/v1/experiments/propensity/report')).json() as Report;
    assert.equal(
      report.variants.reduce((n, v) => n + v.requests, 0),
      rows.length,
    );
    assert.equal(
      report.variants.reduce((n, v) => n + (v.feedback.conversion?.count ?? 0), 0),
      rows.length,
    );
    assert.equal(report.shadow!.requests, shadow.length, 'the report counts the mirrors that were made');
    assert.ok(
      report.shadow!.agreement > 0.5 && report.shadow!.agreement <= 1,
      `agreement ${report.shadow!.agreement}`,
    );
    assert.ok(report.drift && report.drift.features.length > 0, 'drift is computed on the recorded features');
    assert.ok(report.variants.every((v) => v.errors === 0));
  });
});
