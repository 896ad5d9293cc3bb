import assert from 'node:assert/strict';
import type { DriftSettings, ReferenceData } from '../../src/core/drift/detector';
import { DriftDetector } from '../../src/core/drift/detector';
import { parseExperiment } from '../../src/core/spec/experiment';
import { modelInputDriftProblems } from '../../src/core/workspace/modelInputDrift';
import { uniforms } from '../fixtures/drift/rng';

// Drift on a graph's model input (drift.modelInput): the transformer's columns against their own
// reference, beside the raw request's drift, in a family of their own.

function normals(seed: number): () => number {
  const u = uniforms(seed);
  return () => {
    let x = 0;
    for (let k = 0; k < 12; k++) x += u();
    return x - 6;
  };
}

/** Raw: basket (about 60); model input: log_basket and a one-hot flag, as a transformer makes them. */
function references(): ReferenceData {
  const n = normals(1);
  const u = uniforms(2);
  const raw = Array.from({ length: 1500 }, () => ({ basket: 60 + 10 * n() }));
  const encoded = raw.map((r) => ({ log_basket: Math.log1p(r.basket), app: u() < 0.3 ? 1 : 0 }));
  return {
    columns: ['basket'],
    rows: raw,
    modelInput: { columns: ['log_basket', 'app'], rows: encoded },
  };
}

const SETTINGS: DriftSettings = {
  reference: '../data/reference.csv',
  features: 'auto',
  test: 'auto',
  pValue: 0.05,
  correction: 'bonferroni',
  window: 400,
  modelInput: { tensor: 'encoder.outputs.features', reference: '../data/reference-features.csv' },
};

/** 400 requests of `graph` (with model inputs, its log_basket shifted by `shift`) and of `single` (raw only). */
function feed(d: DriftDetector, shift: number): { rows: { log_basket: number; app: number }[] } {
  const n = normals(9);
  const u = uniforms(10);
  const rows: { log_basket: number; app: number }[] = [];
  for (let i = 0; i < 400; i++) {
    const basket = 60 + 10 * n();
    const encoded = { log_basket: Math.log1p(basket) + shift, app: u() < 0.3 ? 1 : 0 };
    rows.push(encoded);
    d.observe('graph', i, { basket }, undefined, encoded);
    d.observe('single', i, { basket: 60 + 10 * n() }, undefined);
  }
  return { rows };
}

describe('drift: the model input of graph variants', () => {
  it('tests the model input of the variants that record it, against its own reference, labelled by its tensor', () => {
    const d = new DriftDetector(SETTINGS, references());
    feed(d, 0.5);
    const report = d.report();
    const m = report.modelInput!;
    assert.equal(m.tensor, 'encoder.outputs.features');
    assert.equal(m.reference, '../data/reference-features.csv');
    assert.deepEqual(
      m.features.map((f) => [f.variant, f.name, f.test]),
      [
        ['graph', 'log_basket', 'ks'],
        ['graph', 'app', 'ks'],
      ],
    );
    // The shifted log drifts on the model input while the raw request does not: they are apart.
    assert.equal(m.features.find((f) => f.name === 'log_basket')!.drift, true);
    assert.equal(report.datasetDrift, false);
    assert.deepEqual(m.variants, [{ variant: 'graph', drift: true }]);
    // Its own family: 2 columns × 1 variant that recorded them.
    assert.equal(m.threshold, 0.05 / 2);
    assert.equal(report.threshold, 0.05 / 2, 'the raw family: 1 column × 2 variants');
  });

  it('gives the same p-values as a detector fed the model input as its raw request', () => {
    const d = new DriftDetector(SETTINGS, references());
    const { rows } = feed(d, 0.02);
    const { modelInput: _m, ...plain } = SETTINGS;
    const alone = new DriftDetector(
      { ...plain, reference: SETTINGS.modelInput!.reference },
      references().modelInput!,
    );
    rows.forEach((r, i) => alone.observe('graph', i, r, undefined));
    assert.deepEqual(
      d.report().modelInput!.features,
      alone.report().features.map((f) => ({ ...f })),
    );
  });

  it('reports no model-input entries for events without them (older logs), and none without the reference', () => {
    const d = new DriftDetector(SETTINGS, references());
    for (let i = 0; i < 100; i++) d.observe('graph', i, { basket: 60 }, undefined);
    assert.deepEqual(d.report().modelInput?.features, []);
    const { modelInput: _m, ...raw } = references();
    assert.equal(new DriftDetector(SETTINGS, raw).report().modelInput, undefined);
  });

  it('refuses a tensor that is no graph step’s, and an experiment without a graph variant', () => {
    const exp = (variants: string, tensor: string) =>
      parseExperiment(
        `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: e }
spec:
  endpoint: e
  variants:
${variants}
  metrics: { primary: { name: conversion, kind: proportion } }
  drift:
    reference: ref.csv
    modelInput: { tensor: ${tensor}, reference: ref-features.csv }
`,
        '/nowhere/e.yaml',
      );
    const graph = `    - { name: a, model: m1, weight: 50 }
    - name: b
      weight: 50
      graph: { steps: [{ name: enc }, { name: m2, inputs: [enc.outputs.features] }] }`;
    const messages = (e: ReturnType<typeof exp>) => modelInputDriftProblems(e).map((p) => p.message);
    const typo = messages(exp(graph, 'encc.outputs.features'));
    assert.match(
      typo[0]!,
      /"encc\.outputs\.features" must name one tensor of a graph step, .* \(steps: enc, m2\)/,
    );
    assert.match(typo[1]!, /the reference file ref-features\.csv does not exist/);
    const single = messages(exp('    - { name: a, model: m1, weight: 100 }', 'enc.outputs.features'));
    assert.match(single[0]!, /no variant is a graph/);
  });
});
