import { strict as assert } from 'node:assert';
import { ReportBuilder } from '../../src/core/analysis/reportBuilder';
import { GenerationalMap } from '../../src/core/analysis/generations';
import { parseExperiment } from '../../src/core/spec/experiment';

const EXPERIMENT = parseExperiment(
  `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: checkout }
spec:
  endpoint: checkout
  variants:
    - { name: v1, model: m1, role: baseline, weight: 50 }
    - { name: v2, model: m2, weight: 50 }
  metrics:
    primary: { name: conversion, kind: proportion }
`,
  'checkout.yaml',
);

function requests(builder: ReportBuilder, n: number, from = 0): void {
  for (let i = from; i < from + n; i++)
    builder.ingest({
      type: 'request',
      id: `r${i}`,
      ts: 1_764_000_000_000 + i,
      experiment: 'checkout',
      variant: i % 2 === 0 ? 'v1' : 'v2',
      latencyMs: 5,
      status: 200,
    });
}

const feedback = (id: string, value: number, variant?: string) =>
  ({
    type: 'feedback',
    id,
    ts: 1_764_000_100_000,
    experiment: 'checkout',
    metric: 'conversion',
    value,
    ...(variant ? { variant } : {}),
  }) as const;

const conversions = (b: ReportBuilder, variant: string) =>
  b.report(1_764_000_200_000).variants.find((v) => v.name === variant)!.feedback.conversion;

describe('the report builder remembers a bounded number of request ids', () => {
  it('keeps between one and two generations of keys', () => {
    const m = new GenerationalMap<number, number>(3);
    for (let i = 0; i < 10; i++) m.set(i, i * 10);
    assert.ok(m.size >= 3 && m.size <= 6, `${m.size}`);
    assert.equal(m.get(9), 90);
    assert.equal(m.get(0), undefined, 'the oldest keys are forgotten');
    assert.throws(() => new GenerationalMap(0), /at least 1/);
  });

  it('attributes feedback by the variant the router resolved, even for a request it forgot', () => {
    const builder = new ReportBuilder(EXPERIMENT, { idMemory: 100 });
    requests(builder, 1000);
    builder.ingest(feedback('r0', 1)); // forgotten, and the event has no variant: an orphan
    assert.equal(builder.orphanFeedbackCount, 1);
    builder.ingest(feedback('r1', 1, 'v2')); // forgotten, but the router says v2
    builder.ingest(feedback('r998', 1)); // remembered: v1
    assert.equal(conversions(builder, 'v2')?.count, 1);
    assert.equal(conversions(builder, 'v1')?.count, 1);
    assert.equal(builder.orphanFeedbackCount, 1);
  });

  it("uses the caller's index of request ids when given one", () => {
    const asked: string[] = [];
    const builder = new ReportBuilder(EXPERIMENT, {
      variantOf: (id) => {
        asked.push(id);
        return id === 'r5' ? 'v2' : undefined;
      },
    });
    requests(builder, 10);
    builder.ingest(feedback('r5', 1));
    builder.ingest(feedback('r4', 1)); // the index no longer knows it: an orphan
    builder.ingest(feedback('r6', 1, 'v1')); // named in the event: no lookup
    assert.deepEqual(asked, ['r5', 'r4']);
    assert.equal(conversions(builder, 'v2')?.count, 1);
    assert.equal(conversions(builder, 'v1')?.count, 1);
    assert.equal(builder.orphanFeedbackCount, 1);
  });

  it('the latest feedback for a recent request replaces the earlier one', () => {
    const builder = new ReportBuilder(EXPERIMENT, { idMemory: 100 });
    requests(builder, 10);
    builder.ingest(feedback('r3', 1, 'v2'));
    builder.ingest(feedback('r3', 0, 'v2'));
    assert.deepEqual([conversions(builder, 'v2')?.count, conversions(builder, 'v2')?.sum], [1, 0]);
  });
});
