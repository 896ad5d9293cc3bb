import assert from 'node:assert/strict';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import {
  DEFAULT_ROLLOUT,
  evaluateRollout,
  fromStatus,
  initialRollout,
  startRollout,
  toStatus,
  type RolloutSpec,
} from '../../src/core/rollout/rollout';
import { parseExperiment } from '../../src/core/spec/experiment';

// #15 item 5: under an attribution window the A/B sees a unit only once its window has passed,
// so a step's samples are the candidate's units that matured during the step — the weight goes
// up only after the metric gate has judged that much of the candidate's traffic.

const EXPERIMENT = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: checkout }
spec:
  endpoint: checkout
  variants: [{ name: v1, model: m1, weight: 100 }, { name: v2, model: m2, weight: 0 }]
  metrics: { primary: { name: conversion, kind: proportion, window: 1m } }
`,
  'checkout.yaml',
);

describe('rollout steps under an attribution window', () => {
  it('counts matured candidate units for minSamplesPerStep, and waits for them to mature', () => {
    const spec: RolloutSpec = { ...DEFAULT_ROLLOUT, minSamplesPerStep: 100, minStepSeconds: 0 };
    const builder = new ReportBuilder(EXPERIMENT);
    const t0 = 1_764_000_000_000;
    let state = initialRollout('checkout', 'v1', 'v2', t0);
    state = startRollout(state, spec, builder.report(t0), t0).state;
    assert.equal(state.stepStartMatured, 0);
    // Half and half, so the split matches whatever step the rollout is at.
    builder.ingest({ type: 'weights', ts: t0, experiment: 'checkout', weights: { v1: 50, v2: 50 } });
    let id = 0;
    const traffic = (from: number, n: number) => {
      for (let i = 0; i < n; i++)
        for (const variant of ['v1', 'v2'])
          builder.ingest({
            type: 'request',
            id: `r${id++}`,
            ts: from + i * 50,
            experiment: 'checkout',
            variant,
            latencyMs: 5,
            status: 200,
          });
    };
    traffic(t0, 150); // 7.5 s of traffic: 150 candidate requests, none matured
    let now = t0 + 10_000;
    let e = evaluateRollout(state, spec, builder.report(now), now);
    assert.equal(e.state.stepIndex, 0, 'advanced on requests whose conversions are still to come');
    assert.deepEqual(
      e.state.gates.find((g) => g.name === 'samples'),
      { name: 'samples', ok: false, detail: '0 of 100 matured' },
    );
    // The log's clock passes the window of the first 150 requests.
    traffic(t0 + 70_000, 10);
    now = t0 + 71_000;
    e = evaluateRollout(e.state, spec, builder.report(now), now);
    assert.equal(e.state.stepIndex, 1, `${e.state.reason} ${JSON.stringify(e.state.gates)}`);
    assert.equal(e.state.stepStartMatured, 150);
    // The log form keeps it, so a restarted router counts the next step the same way.
    assert.equal(fromStatus('checkout', toStatus(e.state, spec)).stepStartMatured, 150);
  });
});
