import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/process/execaRunner';
import { startModelServer, type ModelServer } from '../../src/runtime/modelServer';
import { ensureMlserverEnv } from '../../src/runtime/python';
import type { RequestEvent } from '../../src/shared/events';
import { freePort } from '../../src/runtime/ports';
import { startRouter, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, namedInputsRequest, readEvents, trafficRows } from '../harness/routerClient';
import { startSampleModelServers } from '../harness/sampleServers';
import { REPO_ROOT, toolCache } from '../harness/tools';

interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
  parameters?: Record<string, unknown>;
}
interface V2Answer {
  outputs: V2Tensor[];
  error?: string;
}

// The graph of both tests: the encoder (a custom runtime) and v1 read the request side by side;
// the XGBoost model reads the encoder's features; the answer is v1's and XGBoost's scores.
const graph = (urls: { encoder: string; v1: string; xgb: string }) => ({
  steps: [
    { name: 'encoder', url: urls.encoder },
    { name: 'propensity-v1', url: urls.v1 },
    {
      name: 'propensity-xgb',
      url: urls.xgb,
      inputs: ['encoder.outputs.features'],
      tensorMap: { 'encoder.outputs.features': 'input-0' },
    },
  ],
  output: {
    steps: ['propensity-v1', 'propensity-xgb'],
    tensorMap: {
      'propensity-v1.outputs.predict_proba': 'v1_proba',
      'propensity-xgb.outputs.predict_proba': 'xgb_proba',
    },
  },
});

describe('graph variants: the router runs each step on real MLServer', function () {
  const servers: ModelServer[] = [];
  let dir: string;
  let router: RunningRouter;
  let client: Client;
  let direct: Client;
  let encoder: ModelServer, v1: ModelServer, xgb: ModelServer;

  before(async function () {
    this.timeout(600_000);
    dir = await mkdtemp(join(tmpdir(), 'mc-router-graph-'));
    const env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
    [[v1, xgb], encoder] = (await Promise.all([
      startSampleModelServers(['propensity-v1', 'propensity-xgb'], dir),
      startModelServer({
        mlserver: env.mlserver,
        modelDir: join(REPO_ROOT, 'test/fixtures/graph/encoder'),
        modelName: 'encoder',
        logFile: join(dir, 'encoder.log'),
      }),
    ])) as [[ModelServer, ModelServer], ModelServer];
    servers.push(v1, xgb, encoder);
    const dead = `http://127.0.0.1:${await freePort()}`;
    router = await startRouter(
      await writeRouterConfig(dir, {
        experiments: [
          {
            name: 'pipeline',
            endpoint: 'pipeline',
            variants: [
              {
                name: 'g',
                url: xgb.url,
                model: 'propensity-xgb',
                weight: 1,
                role: 'baseline',
                graph: graph({ encoder: encoder.url, v1: v1.url, xgb: xgb.url }),
              },
              {
                // The same graph with the encoder's server gone.
                name: 'broken',
                url: xgb.url,
                model: 'propensity-xgb',
                weight: 0,
                graph: graph({ encoder: dead, v1: v1.url, xgb: xgb.url }),
              },
            ],
          },
          {
            // Its only variant is a graph whose encoder is gone: not ready.
            name: 'pipeline-down',
            endpoint: 'pipeline-down',
            variants: [
              {
                name: 'g',
                url: xgb.url,
                model: 'propensity-xgb',
                weight: 1,
                graph: graph({ encoder: dead, v1: v1.url, xgb: xgb.url }),
              },
            ],
          },
        ],
      }),
    );
    client = new Client(router.url, 4);
    direct = new Client(v1.url, 1);
  });

  after(async () => {
    await client?.close();
    await direct?.close();
    await router?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const byHand = async (
    row: Record<string, number | string>,
  ): Promise<{ v1: number[]; xgb: number[]; features: V2Tensor }> => {
    const call = async (server: ModelServer, model: string, body: object): Promise<V2Answer> => {
      const res = await fetch(`${server.url}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as V2Answer;
    };
    const raw = namedInputsRequest(row) as object;
    const features = (await call(encoder, 'encoder', raw)).outputs[0]!;
    const v1Answer = await call(v1, 'propensity-v1', { ...raw, outputs: [{ name: 'predict_proba' }] });
    const xgbAnswer = await call(xgb, 'propensity-xgb', {
      inputs: [{ ...features, name: 'input-0' }],
      outputs: [{ name: 'predict_proba' }],
    });
    return { v1: v1Answer.outputs[0]!.data, xgb: xgbAnswer.outputs[0]!.data, features };
  };

  it('answers what calling the steps by hand gives, as one request of the variant with per-step latency', async function () {
    this.timeout(120_000);
    // Ready: every step of the graph variant that gets traffic answers ready.
    assert.equal((await client.send('GET', '/v2/models/pipeline/ready')).status, 200);
    assert.equal((await client.send('GET', '/v2/models/pipeline-down/ready')).status, 503);
    const rows = trafficRows().slice(0, 12);
    for (const [i, row] of rows.entries()) {
      const res = await client.infer('pipeline', namedInputsRequest(row.features), {
        'x-request-id': `graph-${i}`,
        'x-model-canary-variant': 'g',
      });
      assert.equal(res.status, 200, res.text);
      const body = res.json() as V2Answer;
      const hand = await byHand(row.features);
      assert.deepEqual(
        body.outputs.map((o) => o.name),
        ['v1_proba', 'xgb_proba'],
      );
      assert.deepEqual(body.outputs[0]!.data, hand.v1);
      assert.deepEqual(body.outputs[1]!.data, hand.xgb);
      assert.equal(hand.features.shape[1], 12);
    }
    // Asking for one output gets only that one.
    const one = await client.infer(
      'pipeline',
      { ...namedInputsRequest(rows[0]!.features), outputs: [{ name: 'xgb_proba' }] },
      { 'x-model-canary-variant': 'g' },
    );
    assert.deepEqual(
      (one.json() as V2Answer).outputs.map((o) => o.name),
      ['xgb_proba'],
    );

    await new Promise((r) => setTimeout(r, 500)); // the event log's group commit
    const events = readEvents(join(router.dir, 'data')).filter(
      (e): e is RequestEvent => e.type === 'request' && e.id.startsWith('graph-'),
    );
    assert.equal(events.length, rows.length, 'one request event per graph request');
    for (const e of events) {
      assert.equal(e.variant, 'g');
      assert.equal(e.status, 200);
      assert.deepEqual(e.steps!.map((s) => s.name).sort(), ['encoder', 'propensity-v1', 'propensity-xgb']);
      assert.ok(e.steps!.every((s) => s.status === 200 && s.latencyMs > 0 && s.error === undefined));
      // The XGBoost step starts after the encoder answered: the graph takes at least both.
      const at = new Map(e.steps!.map((s) => [s.name, s.latencyMs]));
      assert.ok(e.latencyMs >= at.get('encoder')! + at.get('propensity-xgb')!, JSON.stringify(e));
    }
  });

  it('answers a failing step with a V2 error naming the step, recorded as an error of the variant', async function () {
    this.timeout(60_000);
    const res = await client.infer('pipeline', namedInputsRequest(trafficRows()[0]!.features), {
      'x-request-id': 'broken-1',
      'x-model-canary-variant': 'broken',
    });
    assert.equal(res.status, 502);
    assert.match(
      (res.json() as V2Answer).error!,
      /^variant broken: step encoder: http:\/\/127\.0\.0\.1:\d+\/v2\/models\/encoder\/infer failed/,
    );
    await new Promise((r) => setTimeout(r, 500));
    const event = readEvents(join(router.dir, 'data')).find(
      (e): e is RequestEvent => e.type === 'request' && e.id === 'broken-1',
    )!;
    assert.equal(event.status, 502);
    assert.match(event.error!, /step encoder/);
    // v1 ran beside the encoder and answered; the XGBoost step never ran.
    const steps = new Map(event.steps!.map((s) => [s.name, s]));
    assert.equal(steps.get('encoder')!.status, 502);
    assert.match(steps.get('encoder')!.error!, /^step encoder: /);
    assert.equal(steps.get('propensity-v1')!.status, 200);
    assert.equal(steps.has('propensity-xgb'), false);
  });
});
