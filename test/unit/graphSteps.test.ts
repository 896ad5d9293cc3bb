import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseExperiment } from '../../src/core/spec/experiment';
import { slowestStep, stepSummary, stepWaves, type ReportStep } from '../../src/shared/graphSteps';

// What the dashboard's graphs panel and the Experiments tree draw of a graph variant.
const experiment = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: pipeline }
spec:
  endpoint: pipeline
  variants:
    - { name: v1, model: propensity-v1, weight: 50 }
    - name: g
      weight: 50
      graph:
        steps:
          - name: encoder
          - name: sklearn
          - name: xgb
            inputs: [encoder.outputs.features]
        output: { steps: [xgb, sklearn] }
  metrics:
    primary: { name: conversion, kind: proportion }
`,
  'pipeline.yaml',
);

const step = (name: string, p50: number, requests = 10, errors = 0, after?: string[]): ReportStep => ({
  name,
  requests,
  errors,
  errorRate: requests ? errors / requests : 0,
  latencyMs: { p50, p95: p50 * 2, p99: p50 * 3 },
  ...(after ? { after } : {}),
});

describe('a graph variant drawn: steps in waves with their latency', () => {
  it("reports the steps in the graph's order with what each reads, whatever order they finished in", () => {
    const b = new ReportBuilder(experiment);
    for (let i = 0; i < 20; i++)
      b.ingest({
        type: 'request',
        id: `r${i}`,
        ts: 1_760_000_000_000 + i,
        experiment: 'pipeline',
        variant: 'g',
        latencyMs: 20,
        status: 200,
        assignment: 'weighted',
        // sklearn answers first, the encoder next, XGBoost (which waits for it) last.
        steps: [
          { name: 'sklearn', latencyMs: 3, status: 200 },
          { name: 'encoder', latencyMs: 12, status: 200 },
          { name: 'xgb', latencyMs: 2, status: 200 },
        ],
      });
    const steps = b.report(1_760_000_001_000).variants[1]!.steps!;
    assert.deepEqual(
      steps.map((s) => [s.name, s.after]),
      [
        ['encoder', []],
        ['sklearn', []],
        ['xgb', ['encoder']],
      ],
    );
    // The encoder and scikit-learn run side by side: one wave; XGBoost after the encoder.
    assert.deepEqual(
      stepWaves(steps).map((w) => w.map((s) => s.name)),
      [['encoder', 'sklearn'], ['xgb']],
    );
    assert.equal(slowestStep(steps), 'encoder');
  });

  it('draws an older report (no `after`) as a chain in its order, and marks no slowest of one answered step', () => {
    const steps = [step('a', 5), step('b', 1), step('c', 9, 4, 4)];
    assert.deepEqual(
      stepWaves(steps).map((w) => w.map((s) => s.name)),
      [['a'], ['b'], ['c']],
    );
    assert.equal(slowestStep(steps), 'a', 'c never answered: its latency does not count');
    assert.equal(slowestStep([step('a', 5), step('b', 9, 3, 3)]), undefined);
  });

  it('summarises a step in words people read', () => {
    assert.equal(stepSummary(step('a', 9.94, 2705, 4)), 'p50 9.9 ms · p95 19.9 ms · errors 4 of 2,705');
    assert.equal(stepSummary(step('a', NaN, 3, 3)), 'no answer yet · errors 3 of 3');
  });
});
