import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvironmentStatus } from '../../src/runtime/runtime';
import type { Report } from '../../src/shared/report';
import { namedInputsRequest, trafficRows } from '../harness/routerClient';
import { REPO_ROOT } from '../harness/tools';
import { copySampleModels, workspaceCli, removeSampleModels } from '../harness/sampleWorkspace';

const EXPERIMENT = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: pipeline }
spec:
  endpoint: pipeline
  variants:
    - { name: v1, model: propensity-v1, weight: 50 }
    - name: xgb
      weight: 50
      graph:
        steps:
          - name: encoder
          - name: propensity-xgb
            inputs: [encoder.outputs.features]
        output:
          steps: [propensity-xgb.outputs.predict_proba]
  metrics:
    primary: { name: conversion, kind: proportion }
`;

interface V2Answer {
  outputs: { name: string; data: number[] }[];
}

// A graph experiment through the built CLI as a user runs it: deploy starts an MLServer per
// step's model (installing the XGBoost runtime if needed), the router runs the graph.
describe('local environment with a graph variant (real MLServer + router processes)', function () {
  let ws: string;
  const cli = workspaceCli(() => ws, 240_000);

  before(async () => {
    ws = await copySampleModels('mc-local-graph-');
    await cp(join(REPO_ROOT, 'test/fixtures/graph/encoder'), join(ws, 'encoder'), { recursive: true });
    await writeFile(join(ws, 'experiments/pipeline.yaml'), EXPERIMENT);
  });

  after(async () => {
    await removeSampleModels(ws);
  });

  it("deploy starts every step's model server; the graph answers what its steps give by hand; the report has its steps", async function () {
    this.timeout(300_000);
    assert.equal((await cli('up', '--port', '0')).exitCode, 0);
    const deployed = await cli('deploy', join(ws, 'experiments/pipeline.yaml'));
    assert.equal(deployed.exitCode, 0, deployed.stderr);
    const status = JSON.parse((await cli('status', '--json')).stdout) as EnvironmentStatus;
    const url = (name: string): string => status.components.find((c) => c.name === name)!.url;
    assert.deepEqual(status.components.map((c) => [c.name, c.state]).sort(), [
      ['encoder', 'ready'],
      ['propensity-v1', 'ready'],
      ['propensity-xgb', 'ready'],
      ['router', 'ready'],
    ]);
    const post = async (base: string, path: string, body: object, headers = {}): Promise<V2Answer> => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as V2Answer;
    };
    for (const row of trafficRows().slice(0, 5)) {
      const request = namedInputsRequest(row.features);
      const routed = await post(url('router'), '/v2/models/pipeline/infer', request, {
        'x-model-canary-variant': 'xgb',
      });
      const features = (await post(url('encoder'), '/v2/models/encoder/infer', request)).outputs[0]!;
      const byHand = await post(url('propensity-xgb'), '/v2/models/propensity-xgb/infer', {
        inputs: [features],
        outputs: [{ name: 'predict_proba' }],
      });
      assert.deepEqual(
        routed.outputs,
        byHand.outputs.map((o) => ({ ...o })),
      );
    }
    // Weighted requests: the graph's are one request each of xgb, with their steps in the report.
    let toGraph = 0;
    for (const row of trafficRows().slice(10, 40)) {
      const res = await fetch(`${url('router')}/v2/models/pipeline/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(namedInputsRequest(row.features)),
      });
      assert.equal(res.status, 200);
      if (res.headers.get('x-model-canary-variant') === 'xgb') toGraph++;
    }
    assert.ok(toGraph > 0, 'some of 30 requests at 50% went to the graph');
    await new Promise((r) => setTimeout(r, 500));
    const report = JSON.parse((await cli('report', 'pipeline', '--json')).stdout) as Report;
    const xgb = report.variants.find((v) => v.name === 'xgb')!;
    assert.equal(xgb.requests, toGraph);
    assert.deepEqual(
      xgb.steps!.map((s) => [s.name, s.requests, s.errors]),
      [
        ['encoder', toGraph, 0],
        ['propensity-xgb', toGraph, 0],
      ],
    );
    assert.equal(report.variants.find((v) => v.name === 'v1')!.steps, undefined);
  });
});
