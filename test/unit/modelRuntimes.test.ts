import assert from 'node:assert/strict';
import { parseExperiment } from '../../src/core/spec/experiment';
import { MODEL_RUNTIMES, modelRuntimeOf } from '../../src/core/workspace/modelRuntimes';
import {
  buildStack,
  DEFAULT_IMAGES,
  exportExperiment,
  modelRefs,
  type KubeObject,
} from '../../src/manifests';
import { runtimeImage } from '../../src/manifests/images';
import { EXTRA_RUNTIMES, runtimeNamed } from '../../src/runtime/runtimePackages';
import { MLSERVER_VERSION } from '../../src/runtime/python';

const EXPERIMENT = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: propensity }
spec:
  endpoint: propensity
  variants:
    - { name: v1, model: propensity-v1, weight: 90 }
    - { name: xgb, model: propensity-xgb, weight: 10 }
  metrics:
    primary: { name: conversion, kind: proportion }
`;

describe('model runtimes (XGBoost, LightGBM beside scikit-learn)', () => {
  it('knows a runtime by its implementation, and none for a custom class', () => {
    assert.equal(modelRuntimeOf('mlserver_xgboost.XGBoostModel'), 'xgboost');
    assert.equal(modelRuntimeOf('mlserver_lightgbm.LightGBMModel'), 'lightgbm');
    assert.equal(modelRuntimeOf('mlserver_sklearn.SKLearnModel'), 'sklearn');
    assert.equal(modelRuntimeOf('my_runtime.Transformer'), undefined);
  });

  it("pins each runtime's MLServer package to the environment's MLServer release", () => {
    for (const runtime of EXTRA_RUNTIMES) {
      assert.equal(runtime.implementation, MODEL_RUNTIMES[runtime.name]);
      assert.ok(
        runtime.packages.includes(`mlserver-${runtime.name}==${MLSERVER_VERSION}`),
        runtime.packages.join(' '),
      );
      assert.ok(
        runtime.packages.every((p) => /==\d/.test(p)),
        `${runtime.name}: every package pinned`,
      );
    }
    assert.throws(() => runtimeNamed('torch'), /unknown runtime "torch" — .*xgboost, lightgbm/);
  });

  it("swaps MLServer's runtime image tag for the model's runtime, and leaves custom images alone", () => {
    assert.equal(
      runtimeImage(DEFAULT_IMAGES.mlserver, MODEL_RUNTIMES.xgboost),
      'seldonio/mlserver:1.7.1-xgboost',
    );
    assert.equal(
      runtimeImage(DEFAULT_IMAGES.mlserver, MODEL_RUNTIMES.lightgbm),
      'seldonio/mlserver:1.7.1-lightgbm',
    );
    assert.equal(runtimeImage(DEFAULT_IMAGES.mlserver, MODEL_RUNTIMES.sklearn), DEFAULT_IMAGES.mlserver);
    assert.equal(runtimeImage(DEFAULT_IMAGES.mlserver, undefined), DEFAULT_IMAGES.mlserver);
    assert.equal(
      runtimeImage('registry.local/mlserver:1.7.1-sklearn', MODEL_RUNTIMES.xgboost),
      'registry.local/mlserver:1.7.1-xgboost',
    );
    assert.equal(
      runtimeImage('registry.local/all-runtimes:3', MODEL_RUNTIMES.xgboost),
      'registry.local/all-runtimes:3',
    );
  });

  it("runs each model server on its model's runtime image", () => {
    const models = modelRefs('/ws', [
      {
        name: 'propensity-v1',
        dir: '/ws/propensity-v1',
        settingsFile: '',
        implementation: MODEL_RUNTIMES.sklearn,
        artifact: '/ws/propensity-v1/model.joblib',
      },
      {
        name: 'propensity-xgb',
        dir: '/ws/propensity-xgb',
        settingsFile: '',
        implementation: MODEL_RUNTIMES.xgboost,
        artifact: '/ws/propensity-xgb/model.ubj',
      },
    ]);
    const objects = buildStack(
      [{ experiment: parseExperiment(EXPERIMENT, '/ws/experiments/p.yaml'), models }],
      {
        namespace: 'mc',
        platform: 'kind',
        router: { bundle: { 'router.js': '', 'webview.js': '', 'dashboard.css': '' } },
      },
    );
    const images = new Map(
      objects
        .filter(
          (o: KubeObject) =>
            o.kind === 'Deployment' && (o.metadata as { name: string }).name.includes('propensity-'),
        )
        .map((o) => [
          (o.metadata as { name: string }).name,
          (o as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec
            .template.spec.containers[0]!.image,
        ]),
    );
    assert.deepEqual([...images.values()].sort(), [
      'seldonio/mlserver:1.7.1-sklearn',
      'seldonio/mlserver:1.7.1-xgboost',
    ]);
  });

  it('exports an XGBoost variant with its runtime: Seldon requirements and KServe model format', () => {
    const models = modelRefs('/ws', [
      {
        name: 'propensity-v1',
        dir: '/ws/propensity-v1',
        settingsFile: '',
        implementation: MODEL_RUNTIMES.sklearn,
      },
      {
        name: 'propensity-xgb',
        dir: '/ws/propensity-xgb',
        settingsFile: '',
        implementation: MODEL_RUNTIMES.xgboost,
      },
    ]);
    const input = { experiment: parseExperiment(EXPERIMENT, '/ws/experiments/p.yaml'), models };
    const seldon = exportExperiment(input, { target: 'seldon', modelUriBase: 'gs://b' }).files[0]!.content;
    assert.match(seldon, /name: propensity-xgb\n[^]*?requirements:\n\s+- xgboost/);
    assert.match(seldon, /name: propensity-v1\n[^]*?requirements:\n\s+- sklearn/);
    const canary = exportExperiment(input, { target: 'kserve', modelUriBase: 'gs://b' }).files[1]!.content;
    assert.match(canary, /modelFormat:\n\s+name: xgboost\n/);
  });
});
