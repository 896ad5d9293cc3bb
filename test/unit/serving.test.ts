import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/core/spec/experiment';
import { MAX_SERVING_WORKERS, variantWorkers } from '../../src/core/spec/serving';

const spec = (weights: number[], workers?: number) => ({
  spec: {
    variants: weights.map((weight, i) => ({ name: `v${i + 1}`, weight })),
    ...(workers === undefined ? {} : { serving: { workers } }),
  },
});

describe('MLServer processes sized to each variant’s traffic share (spec.serving)', () => {
  it('runs one process per variant without spec.serving', () => {
    assert.deepEqual(variantWorkers(spec([95, 5])), { v1: 1, v2: 1 });
  });

  it('gives each variant round(share × workers) processes, at least one and at most workers', () => {
    assert.deepEqual(variantWorkers(spec([95, 5], 8)), { v1: 8, v2: 1 });
    assert.deepEqual(variantWorkers(spec([95, 5], 7)), { v1: 7, v2: 1 });
    assert.deepEqual(variantWorkers(spec([50, 50], 4)), { v1: 2, v2: 2 });
    assert.deepEqual(variantWorkers(spec([75, 25], 4)), { v1: 3, v2: 1 });
    assert.deepEqual(variantWorkers(spec([100, 0], 2)), { v1: 2, v2: 1 });
    assert.deepEqual(variantWorkers(spec([60, 30, 10], 1)), { v1: 1, v2: 1, v3: 1 });
  });

  it('keeps 95/5 arms within 3× of each other’s load per process from 7 workers on', () => {
    for (const workers of [7, 8, 12]) {
      const w = variantWorkers(spec([95, 5], workers));
      const ratio = 95 / w.v1! / (5 / w.v2!);
      assert.ok(ratio < 3, `workers ${workers}: ratio ${ratio}`);
    }
    const six = variantWorkers(spec([95, 5], 6));
    assert.ok(95 / six.v1! / (5 / six.v2!) > 3);
  });
});

describe('spec.serving in an experiment file', () => {
  const file = (serving: string) =>
    [
      'apiVersion: modelcanary.dev/v1alpha1',
      'kind: Experiment',
      'metadata: { name: e }',
      'spec:',
      '  endpoint: e',
      '  variants: [{ name: a, model: m1, weight: 90 }, { name: b, model: m2, weight: 10 }]',
      '  metrics: { primary: { name: conversion, kind: proportion } }',
      serving,
    ].join('\n');

  it('accepts a whole number of workers', () => {
    const exp = parseExperiment(file('  serving: { workers: 8 }'), '/w/e.yaml');
    assert.deepEqual(exp.spec.serving, { workers: 8 });
  });

  it('refuses a fraction, zero or more than the maximum with the field’s path', () => {
    for (const bad of ['1.5', '0', String(MAX_SERVING_WORKERS + 1)])
      assert.throws(
        () => parseExperiment(file(`  serving: { workers: ${bad} }`), '/w/e.yaml'),
        /spec\.serving\.workers/,
      );
  });
});
