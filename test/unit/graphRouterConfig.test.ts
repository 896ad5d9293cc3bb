import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { SpecError } from '../../src/core/spec/errors';
import { parseExperiment } from '../../src/core/spec/experiment';
import { parseRouterConfig } from '../../src/core/spec/routerConfig';
import { localRouterConfig } from '../../src/runtime/localRouterConfig';
import type { RuntimeState } from '../../src/runtime/state';

const EXPERIMENT = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: pipeline }
spec:
  endpoint: pipeline
  variants:
    - { name: v1, model: propensity-v1, weight: 90 }
    - name: xgb
      weight: 10
      graph:
        steps:
          - name: encoder
          - name: propensity-xgb
            inputs: [encoder.outputs.features]
  metrics:
    primary: { name: conversion, kind: proportion }
`;

const server = (port: number): RuntimeState['modelServers'][string] => ({
  pid: 1,
  url: `http://127.0.0.1:${port}`,
  logFile: '/ws/.model-canary/logs/x.log',
  dir: '/ws/x',
  ports: { http: port, grpc: port + 1, metrics: port + 2 },
});

const state: RuntimeState = {
  version: 1,
  workspace: '/ws',
  startedAt: '2026-12-06T19:00:00Z',
  router: {
    pid: 2,
    url: 'http://127.0.0.1:8090',
    logFile: '/ws/.model-canary/logs/router.log',
    configFile: '/ws/.model-canary/router.yaml',
    tokenFile: '/ws/.model-canary/admin-token',
    dataDir: '/ws/.model-canary/data',
  },
  modelServers: { 'propensity-v1': server(9000), encoder: server(9010), 'propensity-xgb': server(9020) },
  experiments: {},
};

describe("the local environment's router config for a graph variant", () => {
  it('gives the router every step at its own model server, and the router config accepts it', () => {
    const exp = parseExperiment(EXPERIMENT, '/ws/experiments/pipeline.yaml');
    const config = parseRouterConfig(
      stringify(localRouterConfig(state, [exp])),
      '/ws/.model-canary/router.yaml',
    );
    const [v1, xgb] = config.experiments[0]!.variants;
    assert.equal(v1!.graph, undefined);
    assert.equal(xgb!.model, 'propensity-xgb', 'the answering model is the last step');
    assert.deepEqual(xgb!.graph!.steps, [
      { name: 'encoder', url: 'http://127.0.0.1:9010' },
      { name: 'propensity-xgb', url: 'http://127.0.0.1:9020', inputs: ['encoder.outputs.features'] },
    ]);
  });

  it('refuses a graph with a cycle in a router config, at its line', () => {
    const text = `experiments:
  - name: p
    endpoint: p
    variants:
      - name: g
        url: http://127.0.0.1:1
        model: a
        weight: 1
        graph:
          steps:
            - { name: a, url: "http://127.0.0.1:1", inputs: [b] }
            - { name: b, url: "http://127.0.0.1:2", inputs: [a] }
`;
    assert.throws(
      () => parseRouterConfig(text, 'router.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.equal(err.problems[0]!.line, 11);
        assert.match(err.problems[0]!.message, /the steps form a cycle: a → b → a/);
        return true;
      },
    );
  });
});
