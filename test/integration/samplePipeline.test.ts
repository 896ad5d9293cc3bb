import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { EnvironmentStatus } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';
import { namedInputsRequest, trafficRows } from '../harness/routerClient';
import { copySampleModels, workspaceCli, removeSampleModels } from '../harness/sampleWorkspace';

interface V2Output {
  name: string;
  shape: number[];
  datatype: string;
  data: (number | boolean)[];
}

// sample-models/experiments/propensity-pipeline.yaml through the built CLI: the feature
// transformer (a custom step with a requirements.txt, served from its own environment), v1's
// model or XGBoost, the offer post-processor (a custom step), each on a real MLServer.
describe('the sample pipeline experiment (real MLServer + router processes)', function () {
  let ws: string;
  const cli = workspaceCli(() => ws, 240_000);

  before(async () => {
    ws = await copySampleModels('mc-sample-pipeline-');
  });

  after(async () => {
    await removeSampleModels(ws);
  });

  it('answers, per variant, what its three steps answer by hand; the offer is the score against the threshold', async function () {
    this.timeout(300_000);
    assert.equal((await cli('up', '--port', '0')).exitCode, 0);
    const deployed = await cli('deploy', join(ws, 'experiments/propensity-pipeline.yaml'));
    assert.equal(deployed.exitCode, 0, deployed.stderr);
    const status = JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;
    const url = (name: string): string => status.components.find((c) => c.name === name)!.url;
    assert.deepEqual(status.components.map((c) => [c.name, c.state]).sort(), [
      ['offer-decision', 'ready'],
      ['propensity-features', 'ready'],
      ['propensity-v1-encoded', 'ready'],
      ['propensity-xgb', 'ready'],
      ['router', 'ready'],
    ]);
    const post = async (base: string, model: string, body: object, headers = {}): Promise<V2Output[]> => {
      const res = await fetch(`${base}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { outputs: V2Output[] }).outputs;
    };
    const models = { v1: 'propensity-v1-encoded', xgb: 'propensity-xgb' };
    let offers = 0;
    for (const row of trafficRows().slice(0, 8)) {
      const request = namedInputsRequest(row.features);
      const [features] = await post(url('propensity-features'), 'propensity-features', request);
      assert.deepEqual([features!.name, features!.datatype, features!.shape], ['features', 'FP32', [1, 12]]);
      for (const [variant, model] of Object.entries(models)) {
        const routed = await post(url('router'), 'propensity-pipeline', request, {
          'x-model-canary-variant': variant,
        });
        const scored = await post(url(model), model, {
          inputs: [features],
          outputs: [{ name: 'predict_proba' }],
        });
        const decided = await post(url('offer-decision'), 'offer-decision', { inputs: scored });
        assert.deepEqual(routed, decided, `${variant}: the graph's answer is the steps' by hand`);
        const proba = decided.find((o) => o.name === 'predict_proba')!;
        const offer = decided.find((o) => o.name === 'offer')!;
        assert.deepEqual(proba.data, scored[0]!.data.map(Number), 'the post-processor passes the score on');
        assert.deepEqual(offer.data, [(proba.data[1] as number) >= 0.5]);
        if (offer.data[0]) offers++;
      }
    }
    console.log(`      ${offers} of 16 answers offered`);

    // The simulator works on it unchanged: it reads predict_proba; the report has both graphs' steps,
    // and drift on the raw request and on the model input (the transformer's output), labelled apart.
    const sim = await cli(
      'simulate',
      'propensity-pipeline',
      '--requests',
      '900',
      '--rps',
      '200',
      '--drift',
      'basket_value=shift:+60',
      '--json',
    );
    assert.equal(sim.exitCode, 0, sim.stderr);
    assert.equal((JSON.parse(sim.stdout) as { errors: number }).errors, 0);
    await new Promise((r) => setTimeout(r, 500));
    const report = JSON.parse((await cli('report', 'propensity-pipeline', '--json')).stdout) as Report;
    for (const v of report.variants)
      assert.deepEqual(
        v.steps?.map((s) => [s.name, s.errors]),
        [
          ['propensity-features', 0],
          [models[v.name as keyof typeof models], 0],
          ['offer-decision', 0],
        ],
      );
    // The 16 forced requests above are left out of the experiment's counts.
    assert.equal(
      report.variants.reduce((n, v) => n + v.requests, 0),
      900,
    );
    const drift = report.drift!;
    const modelInput = drift.modelInput!;
    assert.equal(modelInput.tensor, 'propensity-features.outputs.features');
    const columns = (variant: string, d: { features: { name: string; variant: string }[] }) =>
      d.features.filter((f) => f.variant === variant).map((f) => f.name);
    assert.deepEqual(columns('v1', modelInput), [
      'age',
      'tenure_months',
      'sessions_30d',
      'log_basket_value',
      'channel_web',
      'channel_app',
      'channel_email',
      'channel_store',
      'region_north',
      'region_south',
      'region_east',
      'region_west',
    ]);
    const drifting = (d: { features: { name: string; variant: string; drift: boolean }[] }) =>
      d.features.filter((f) => f.variant === 'v1' && f.drift).map((f) => f.name);
    // Half the requests moved basket_value by +60: the raw column drifts, and so does its log.
    assert.ok(drifting(drift).includes('basket_value'), JSON.stringify(drift.features));
    assert.ok(drifting(modelInput).includes('log_basket_value'), JSON.stringify(modelInput.features));
    const text = (await cli('report', 'propensity-pipeline')).stdout;
    assert.match(text, /Drift on the model input \(propensity-features\.outputs\.features;/);
    assert.match(text, /per variant: v1 raw YES · model input YES/);
  });
});
