import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanWorkspace } from '../../src/core/workspace/discover';

const SAMPLE = join(import.meta.dirname, '../../sample-models');

describe('workspace discovery', () => {
  let ws: string;

  beforeEach(async () => {
    ws = await mkdtemp(join(tmpdir(), 'mc-ws-'));
    await cp(SAMPLE, ws, { recursive: true });
  });

  afterEach(() => rm(ws, { recursive: true, force: true }));

  it('finds the sample model versions, the pipeline steps and both experiments, without problems', async () => {
    const scan = await scanWorkspace(ws);
    assert.deepEqual(
      scan.models.map((m) => [m.name, m.implementation]),
      [
        ['offer-decision', 'offer.OfferDecision'],
        ['propensity-features', 'features.FeatureTransformer'],
        ['propensity-v1-encoded', 'mlserver_sklearn.SKLearnModel'],
        ['propensity-v1', 'mlserver_sklearn.SKLearnModel'],
        ['propensity-v2', 'mlserver_sklearn.SKLearnModel'],
        ['propensity-v3', 'mlserver_sklearn.SKLearnModel'],
        ['propensity-xgb', 'mlserver_xgboost.XGBoostModel'],
      ],
    );
    assert.equal(
      scan.models.find((m) => m.name === 'propensity-features')?.requirements,
      join(ws, 'propensity-features/requirements.txt'),
    );
    assert.deepEqual(
      scan.experiments.map((e) => e.name),
      ['propensity-pipeline', 'propensity'],
    );
    assert.deepEqual(scan.problems, []);
  });

  it('reports an unknown model, a missing reference file and a missing artifact with their lines', async () => {
    const expFile = join(ws, 'experiments/propensity.yaml');
    const text = await readFile(expFile, 'utf8');
    await writeFile(
      expFile,
      text
        .replace('model: propensity-v2', 'model: propensity-v9')
        .replace('../data/reference.csv', '../data/nope.csv'),
    );
    await unlink(join(ws, 'propensity-v3/model.joblib'));
    const scan = await scanWorkspace(ws);
    const lines = text.split('\n');
    const lineOf = (needle: string): number => lines.findIndex((l) => l.includes(needle)) + 1;
    const find = (field: string) => scan.problems.find((p) => p.field === field);
    assert.equal(find('spec.variants[1].model')?.line, lineOf('model: propensity-v2'));
    assert.match(
      find('spec.variants[1].model')?.message ?? '',
      /unknown model "propensity-v9" \(known: offer-decision, propensity-features, propensity-v1, propensity-v1-encoded, propensity-v2, propensity-v3, propensity-xgb\)/,
    );
    assert.equal(find('spec.drift.reference')?.line, lineOf('reference:'));
    assert.match(find('spec.drift.reference')?.message ?? '', /does not exist/);
    const artifact = find('parameters.uri');
    assert.equal(artifact?.file, join(ws, 'propensity-v3/model-settings.json'));
    assert.match(artifact?.message ?? '', /model\.joblib does not exist/);
  });

  it('reports duplicate model names and keeps scanning past an invalid experiment', async () => {
    await cp(join(ws, 'propensity-v1'), join(ws, 'copy-of-v1'), { recursive: true });
    await writeFile(
      join(ws, 'experiments/broken.yaml'),
      'apiVersion: modelcanary.dev/v1alpha1\nkind: Experiment\nmetadata:\n  name: broken\nspec: {}\n',
    );
    await writeFile(join(ws, 'ci.yaml'), 'kind: Workflow\non: push\n');
    const scan = await scanWorkspace(ws);
    assert.ok(
      scan.problems.some((p) => p.field === 'name' && /duplicate model name "propensity-v1"/.test(p.message)),
    );
    assert.deepEqual(
      scan.experiments.map((e) => [e.name, !!e.experiment]),
      [
        ['broken', false],
        ['propensity-pipeline', true],
        ['propensity', true],
      ],
    );
    assert.ok(scan.problems.some((p) => p.file.endsWith('broken.yaml') && p.field === 'spec.endpoint'));
    assert.ok(!scan.problems.some((p) => p.file.endsWith('ci.yaml')), 'unrelated YAML is ignored');
  });
});
