import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecError, type SpecProblem } from '../../src/core/spec/errors';
import { parseExperiment } from '../../src/core/spec/experiment';
import { graphWaves, variantModels } from '../../src/core/spec/graph';
import { scanWorkspace } from '../../src/core/workspace/discover';

// `variants` starts at line 7, so the lines below are the file's own.
const experiment = (variants: string): string => `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: pipeline }
spec:
  endpoint: pipeline
  variants:
${variants}
  metrics:
    primary: { name: conversion, kind: proportion }
`;

const GRAPH = `    - name: v1
      model: propensity-v1
      weight: 50
    - name: xgb
      weight: 50
      graph:
        steps:
          - name: encoder
          - name: propensity-xgb
            inputs: [encoder.outputs.features]
            tensorMap: { encoder.outputs.features: input-0 }
          - name: audit
            inputs: [request.inputs.age]
          - name: decision
            inputs: [propensity-xgb.outputs.predict_proba, audit]
        output:
          steps: [decision]`;

function problemsOf(text: string): SpecProblem[] {
  try {
    parseExperiment(text, 'exp.yaml');
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected a SpecError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the experiment to be rejected');
}

describe('inference graphs in the experiment file', () => {
  it('loads a graph variant beside a model variant; the answering model is the output step', () => {
    const exp = parseExperiment(experiment(GRAPH), 'exp.yaml');
    const xgb = exp.spec.variants[1]!;
    assert.equal(xgb.model, 'decision');
    assert.deepEqual(variantModels(xgb), ['encoder', 'propensity-xgb', 'audit', 'decision']);
    assert.deepEqual(variantModels(exp.spec.variants[0]!), ['propensity-v1']);
    // Independent steps share a wave: they run side by side.
    assert.deepEqual(graphWaves(xgb.graph!), [['encoder', 'audit'], ['propensity-xgb'], ['decision']]);
  });

  it('refuses a cycle, naming it in the order the tensors flow, at the line of its first step', () => {
    const text = experiment(`    - name: g
      weight: 1
      graph:
        steps:
          - name: a
            inputs: [c.outputs.x]
          - name: b
            inputs: [a]
          - name: c
            inputs: [b.outputs.y]`);
    const [p, ...rest] = problemsOf(text);
    assert.deepEqual(rest, []);
    assert.equal(p!.field, 'spec.variants[0].graph.steps[0].inputs');
    assert.equal(p!.line, 12);
    assert.match(p!.message, /the steps form a cycle: a → b → c → a/);
  });

  it('refuses a reference to an unknown step, and a step reading itself, with their lines', () => {
    const problems = problemsOf(
      experiment(`    - name: g
      weight: 1
      graph:
        steps:
          - name: a
          - name: b
            inputs: [a, typo.outputs.x, b.outputs.y]
        output: { steps: [missing] }`),
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.field]),
      [
        [13, 'spec.variants[0].graph.steps[1].inputs[1]'],
        [13, 'spec.variants[0].graph.steps[1].inputs[2]'],
        [14, 'spec.variants[0].graph.output.steps[0]'],
      ],
    );
    assert.match(problems[0]!.message, /unknown step "typo" — the graph's steps are a, b/);
    assert.match(problems[1]!.message, /cannot read its own tensors/);
    assert.match(problems[2]!.message, /unknown step "missing"/);
  });

  it('refuses a variant with both model and graph, or neither, and a tensorMap of a tensor the step does not read', () => {
    const problems = problemsOf(
      experiment(`    - name: both
      model: m
      weight: 1
      graph: { steps: [{ name: m }] }
    - name: neither
      weight: 1
    - name: g
      weight: 1
      graph:
        steps:
          - name: a
          - name: b
            inputs: [a.outputs.x]
            tensorMap: { request.inputs.age: years }`),
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.field, p.message.split(' —')[0]]),
      [
        [7, 'spec.variants[0]', 'give either model or graph, not both'],
        [11, 'spec.variants[1]', 'needs a model (a model of the workspace) or a graph (docs/graphs.md)'],
        [
          20,
          'spec.variants[2].graph.steps[1].tensorMap.request.inputs.age',
          '"request.inputs.age" is not among the inputs of step "b"',
        ],
      ],
    );
  });

  describe('against the workspace (models and their outputs)', () => {
    let ws: string;
    before(async () => {
      ws = await mkdtemp(join(tmpdir(), 'mc-graph-ws-'));
      const model = async (name: string, settings: object): Promise<void> => {
        await mkdir(join(ws, name));
        await writeFile(join(ws, name, 'model-settings.json'), JSON.stringify({ name, ...settings }));
      };
      await model('encoder', {
        implementation: 'custom.Encoder',
        outputs: [{ name: 'features', datatype: 'FP32' }],
      });
      await model('propensity-xgb', { implementation: 'mlserver_xgboost.XGBoostModel' });
      await model('decision', { implementation: 'custom.Decision' });
      await model('scorer', {
        implementation: 'custom.Scorer',
        inputs: [{ name: 'input-0', datatype: 'FP64', shape: [-1, 12] }],
      });
      await mkdir(join(ws, 'experiments'));
    });
    after(() => rm(ws, { recursive: true, force: true }));

    const scan = async (variants: string): Promise<SpecProblem[]> => {
      await writeFile(join(ws, 'experiments', 'p.yaml'), experiment(variants));
      return (await scanWorkspace(ws)).problems;
    };

    it('accepts a graph whose steps are models and whose tensors their models produce', async () => {
      assert.deepEqual(
        await scan(`    - name: g
      weight: 1
      graph:
        steps:
          - name: encoder
          - name: propensity-xgb
            inputs: [encoder.outputs.features]
          - name: decision
            inputs: [propensity-xgb.outputs.predict_proba]`),
        [],
      );
    });

    it('refuses an unknown model as a step and a tensor no step produces, with their lines', async () => {
      const problems = await scan(`    - name: g
      weight: 1
      graph:
        steps:
          - name: encoder
          - name: propensity-xgb
            inputs: [encoder.outputs.feature]
          - name: decison
            inputs: [propensity-xgb.outputs.proba]`);
      assert.deepEqual(
        problems.map((p) => [p.line, p.field, p.message]),
        [
          [
            14,
            'spec.variants[0].graph.steps[2].name',
            'unknown step "decison": no such model (known: decision, encoder, propensity-xgb, scorer)',
          ],
          [
            13,
            'spec.variants[0].graph.steps[1].inputs[0]',
            'no step produces "encoder.outputs.feature": model encoder answers features',
          ],
          [
            15,
            'spec.variants[0].graph.steps[2].inputs[0]',
            'no step produces "propensity-xgb.outputs.proba": model propensity-xgb answers predict, predict_proba',
          ],
        ],
      );
      assert.ok(problems.every((p) => p.file.endsWith('p.yaml')));
    });

    it('refuses a tensor whose datatype differs from the one the reading model declares', async () => {
      const problems = await scan(`    - name: g
      weight: 1
      graph:
        steps:
          - name: encoder
          - name: scorer
            inputs: [encoder.outputs.features]
            tensorMap: { encoder.outputs.features: input-0 }`);
      assert.deepEqual(
        problems.map((p) => [p.line, p.field]),
        [[13, 'spec.variants[0].graph.steps[1].inputs[0]']],
      );
      assert.match(
        problems[0]!.message,
        /^datatype mismatch: encoder\.outputs\.features is FP32 \(model encoder\), but model scorer declares its input "input-0" as FP64 — /,
      );
    });
  });
});
