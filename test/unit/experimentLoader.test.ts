import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SpecError, formatProblem, type SpecProblem } from '../../src/core/spec/errors';
import { baselineOf, loadExperimentFile, parseExperiment } from '../../src/core/spec/experiment';

const SAMPLE = join(import.meta.dirname, '../../sample-models/experiments/propensity.yaml');

const VALID = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata:
  name: propensity
spec:
  endpoint: propensity
  variants:
    - { name: v1, model: propensity-v1, role: baseline, weight: 95 }
    - { name: v2, model: propensity-v2, weight: 5 }
  metrics:
    primary: { name: conversion, kind: proportion }
`;

function problemsOf(text: string, file = 'exp.yaml'): SpecProblem[] {
  try {
    parseExperiment(text, file);
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the experiment to be rejected');
}

describe('experiment file loader', () => {
  it('loads the sample experiment with roles, weights, mirror and drift defaults', async () => {
    const exp = await loadExperimentFile(SAMPLE);
    assert.equal(exp.metadata.name, 'propensity');
    assert.equal(exp.spec.endpoint, 'propensity');
    assert.deepEqual(
      exp.spec.variants.map((v) => [v.name, v.model, v.role, v.weight]),
      [
        ['v1', 'propensity-v1', 'baseline', 95],
        ['v2', 'propensity-v2', 'candidate', 5],
      ],
    );
    assert.deepEqual(exp.spec.routing?.mirror, { variant: 'v3', model: 'propensity-v3', percent: 100 });
    assert.equal(exp.spec.routing?.sticky?.header, 'x-user-id');
    assert.equal(exp.spec.drift?.correction, 'bonferroni');
    assert.equal(exp.spec.drift?.window, 1000);
    assert.deepEqual(exp.spec.rollout?.steps, [5, 25, 50, 100]);
    assert.equal(exp.file, SAMPLE);
  });

  it('makes the first variant the baseline when no role is given, and fills drift defaults', () => {
    const text = VALID.replace(', role: baseline', '') + '  drift:\n    reference: ref.csv\n';
    const exp = parseExperiment(text, 'exp.yaml');
    assert.equal(baselineOf(exp).name, 'v1');
    assert.deepEqual(exp.spec.drift, {
      reference: 'ref.csv',
      features: 'auto',
      test: 'auto',
      pValue: 0.05,
      correction: 'bonferroni',
      window: 1000,
    });
  });

  it('names the file, line and field of a wrongly typed weight', () => {
    const [p, ...rest] = problemsOf(VALID.replace('weight: 5 }', 'weight: five }'), 'experiments/bad.yaml');
    assert.equal(rest.length, 0);
    assert.equal(p?.file, 'experiments/bad.yaml');
    assert.equal(p?.field, 'spec.variants[1].weight');
    assert.equal(p?.line, 9);
    assert.match(p?.message ?? '', /number/);
    assert.match(formatProblem(p!), /^experiments\/bad\.yaml:9:\d+: spec\.variants\[1\]\.weight: /);
  });

  it('points an unknown (misspelt) field at its own line', () => {
    const [p] = problemsOf(VALID.replace('  endpoint: propensity', '  endpoint: propensity\n  wieghts: 3'));
    assert.equal(p?.field, 'spec.wieghts');
    assert.equal(p?.line, 7);
    assert.equal(p?.column, 3);
    assert.equal(p?.message, 'unknown field');
  });

  it('reports a missing required section at its parent', () => {
    const problems = problemsOf(VALID.split('  metrics:')[0]!);
    assert.deepEqual(
      problems.map((p) => [p.field, p.line]),
      [['spec.metrics', 6]],
    );
  });

  it('reports YAML syntax errors with their line', () => {
    const [p] = problemsOf(VALID.replace('endpoint: propensity', 'endpoint: propensity: x'));
    assert.equal(p?.line, 6);
    assert.match(p?.message ?? '', /^invalid YAML/);
  });

  it('rejects duplicate variants, a second baseline and weights that add up to zero', () => {
    const text = VALID.replace('weight: 95', 'weight: 0')
      .replace('weight: 5 }', 'weight: 0, role: baseline }')
      .replace('name: v2', 'name: v1');
    const problems = problemsOf(text);
    const byField = new Map(problems.map((p) => [p.field, p]));
    assert.match(byField.get('spec.variants[1].name')?.message ?? '', /duplicate variant "v1"/);
    assert.equal(byField.get('spec.variants[1].name')?.line, 9);
    assert.match(byField.get('spec.variants[1].role')?.message ?? '', /only one variant can be the baseline/);
    assert.match(byField.get('spec.variants')?.message ?? '', /weights must add up to something positive/);
    assert.equal(byField.get('spec.variants')?.line, 8);
  });

  it('rejects another apiVersion, bad names and out-of-range drift settings', () => {
    const text = VALID.replace('modelcanary.dev/v1alpha1', 'modelcanary.dev/v2')
      .replace('name: propensity', 'name: Propensity_Model')
      .concat('  drift:\n    reference: r.csv\n    pValue: 1.5\n    correction: holm\n');
    const fields = problemsOf(text).map((p) => `${p.field}@${p.line}`);
    assert.deepEqual(fields.sort(), [
      'apiVersion@1',
      'metadata.name@4',
      'spec.drift.correction@15',
      'spec.drift.pValue@14',
    ]);
  });

  it('says which file could not be read', async () => {
    await assert.rejects(loadExperimentFile('/nonexistent/exp.yaml'), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.match(err.message, /^\/nonexistent\/exp\.yaml:1:1: cannot read the file/);
      return true;
    });
  });
});
