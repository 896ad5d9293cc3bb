import assert from 'node:assert/strict';
import { formatReportText } from '../../src/core/analysis/format';
import { checkEvent } from '../../src/core/log/eventSchema';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { parseExperiment } from '../../src/core/spec/experiment';
import type { RequestEvent } from '../../src/shared/events';

const experiment = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
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
  metrics:
    primary: { name: conversion, kind: proportion }
`,
  'pipeline.yaml',
);

describe("the report's per-step section of a graph variant", () => {
  it("counts each step's requests, errors and latency from the request events; a single model has none", () => {
    const b = new ReportBuilder(experiment);
    const t0 = 1_760_000_000_000;
    // 40 graph requests: the encoder takes 8–11.9 ms, XGBoost 2 ms; every tenth encoder call fails.
    for (let i = 0; i < 40; i++) {
      const failed = i % 10 === 9;
      const event: RequestEvent = {
        type: 'request',
        id: `g${i}`,
        ts: t0 + i,
        experiment: 'pipeline',
        variant: 'xgb',
        latencyMs: 15,
        status: failed ? 502 : 200,
        assignment: 'weighted',
        steps: failed
          ? [{ name: 'encoder', latencyMs: 3, status: 502, error: 'step encoder: failed' }]
          : [
              { name: 'encoder', latencyMs: 8 + (i % 40) / 10, status: 200 },
              { name: 'propensity-xgb', latencyMs: 2, status: 200 },
            ],
        ...(failed ? { error: 'variant xgb: step encoder: failed' } : {}),
      };
      b.ingest(event);
      // An event as older logs have it: no steps.
      b.ingest({
        type: 'request',
        id: `m${i}`,
        ts: t0 + i,
        experiment: 'pipeline',
        variant: 'v1',
        latencyMs: 4,
        status: 200,
      });
    }
    const report = b.report(t0 + 1000);
    const [v1, xgb] = report.variants;
    assert.equal(v1!.steps, undefined);
    assert.deepEqual(
      xgb!.steps!.map((s) => [s.name, s.requests, s.errors]),
      [
        ['encoder', 40, 4],
        ['propensity-xgb', 36, 0],
      ],
    );
    assert.equal(xgb!.steps![0]!.errorRate, 0.1);
    const encoder = xgb!.steps![0]!.latencyMs;
    assert.ok(
      encoder.p50 >= 9 && encoder.p50 <= 10.5 && encoder.p95 >= 11 && encoder.p95 <= 12,
      JSON.stringify(encoder),
    );
    assert.ok(Math.abs(xgb!.steps![1]!.latencyMs.p50 - 2) < 0.1);
    assert.match(
      formatReportText(report),
      /Steps of xgb: encoder p50 [\d.]+ ms · p95 [\d.]+ ms · errors 4 of 40; propensity-xgb p50/,
    );
  });

  it("the event log's schema accepts a request's steps, refuses malformed ones, and still loads lines without them", () => {
    const base = {
      type: 'request',
      id: 'r',
      ts: 1,
      experiment: 'p',
      variant: 'xgb',
      latencyMs: 5,
      status: 200,
    };
    assert.equal(checkEvent(base).ok, true);
    assert.equal(checkEvent({ ...base, steps: [{ name: 'encoder', latencyMs: 3, status: 200 }] }).ok, true);
    const bad = checkEvent({ ...base, steps: [{ name: 'encoder', latencyMs: -1, status: 200 }] });
    assert.deepEqual(bad, { ok: false, reason: 'request event: steps.0.latencyMs: must be ≥ 0' });
    assert.equal(checkEvent({ ...base, steps: 'encoder' }).ok, false);
  });
});
