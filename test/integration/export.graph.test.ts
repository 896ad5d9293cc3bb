/**
 * Graph variants exported to Seldon Core v2 Pipelines, validated against Seldon's own CRDs
 * (test/fixtures/crds/, the same files as in export.test.ts) on a real kube-apiserver by
 * server-side apply with dryRun=All; KServe and the builtin stack refuse graphs, writing nothing.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { parseExperiment } from '../../src/core/spec/experiment';
import { scanWorkspace } from '../../src/core/workspace/discover';
import { ensureNamespace, installCrds, loadKubeConfig, serverSideApply } from '../../src/kube';
import { exportExperiment, modelRefs, type ExperimentInput } from '../../src/manifests';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { REPO_ROOT, SAMPLE_MODELS } from '../harness/tools';

const CRDS = path.join(REPO_ROOT, 'test/fixtures/crds/seldon-core-v2');
const CONTEXT = 'crds';

const EXPERIMENT = `apiVersion: modelcanary.dev/v1alpha1
kind: Experiment
metadata: { name: pipeline }
spec:
  endpoint: pipeline
  variants:
    - { name: v1, model: propensity-v1, weight: 90 }
    - name: xgb
      weight: 10
      graph:
        steps:
          - name: propensity-v2
          - name: propensity-xgb
            inputs: [request.inputs.features]
            tensorMap: { request.inputs.features: input-0 }
        output:
          steps: [propensity-v2.outputs.predict_proba, propensity-xgb]
          tensorMap: { propensity-xgb.outputs.predict_proba: xgb_proba }
  routing:
    mirror: { variant: v3, model: propensity-v3, percent: 10 }
  metrics:
    primary: { name: conversion, kind: proportion }
`;

function documents(text: string): (KubernetesObject & { spec: Record<string, unknown> })[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as (KubernetesObject & { spec: Record<string, unknown> }) | null)
    .filter((d): d is KubernetesObject & { spec: Record<string, unknown> } => d !== null);
}

describe('graph variants exported to Seldon Core v2 Pipelines, checked against the CRDs on a real API server', function () {
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;
  let input: ExperimentInput;

  before(async function () {
    server = await startKubeApiServer();
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-export-graph-'));
    await fs.promises.writeFile(path.join(tmp, 'kubeconfig'), server.kubeconfigFor(CONTEXT), { mode: 0o600 });
    kc = loadKubeConfig({ KUBECONFIG: path.join(tmp, 'kubeconfig') });
    const crds = await Promise.all(
      [
        'mlops.seldon.io_models.yaml',
        'mlops.seldon.io_experiments.yaml',
        'mlops.seldon.io_pipelines.yaml',
      ].map(async (f) => documents(await fs.promises.readFile(path.join(CRDS, f), 'utf8'))[0]!),
    );
    await installCrds(kc, CONTEXT, crds);
    await ensureNamespace(kc, CONTEXT, 'serving');
    const scan = await scanWorkspace(SAMPLE_MODELS);
    input = {
      experiment: parseExperiment(EXPERIMENT, path.join(SAMPLE_MODELS, 'experiments/pipeline.yaml')),
      models: modelRefs(scan.root, scan.models),
    };
  });

  after(async function () {
    await server?.stop();
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  it('writes Models, a Pipeline per variant with the graph one to one, and an Experiment over the pipelines', async function () {
    const result = exportExperiment(input, {
      target: 'seldon',
      namespace: 'serving',
      modelUriBase: 'gs://models-bucket/propensity',
    });
    const objects = documents(result.files[0]!.content);
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.name}`),
      [
        'Model/propensity-v1',
        'Model/propensity-v2',
        'Model/propensity-xgb',
        'Model/propensity-v3',
        'Pipeline/pipeline-v1',
        'Pipeline/pipeline-xgb',
        'Pipeline/pipeline-v3',
        'Experiment/pipeline',
      ],
    );
    const byName = new Map(objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
    assert.deepEqual(byName.get('Model/propensity-xgb')!.spec, {
      storageUri: 'gs://models-bucket/propensity/propensity-xgb',
      requirements: ['xgboost'],
    });
    assert.deepEqual(byName.get('Model/propensity-v1')!.spec.requirements, ['sklearn']);
    assert.deepEqual(byName.get('Pipeline/pipeline-xgb')!.spec, {
      steps: [
        { name: 'propensity-v2' },
        {
          name: 'propensity-xgb',
          inputs: ['pipeline-xgb.inputs.features'],
          tensorMap: { 'pipeline-xgb.inputs.features': 'input-0' },
        },
      ],
      output: {
        steps: ['propensity-v2.outputs.predict_proba', 'propensity-xgb'],
        tensorMap: { 'propensity-xgb.outputs.predict_proba': 'xgb_proba' },
      },
    });
    assert.deepEqual(byName.get('Pipeline/pipeline-v1')!.spec, {
      steps: [{ name: 'propensity-v1' }],
      output: { steps: ['propensity-v1'] },
    });
    assert.deepEqual(byName.get('Experiment/pipeline')!.spec, {
      default: 'pipeline-v1',
      resourceType: 'pipeline',
      candidates: [
        { name: 'pipeline-v1', weight: 90 },
        { name: 'pipeline-xgb', weight: 10 },
      ],
      mirror: { name: 'pipeline-v3', percent: 10 },
    });
    for (const o of objects) {
      const applied = await serverSideApply(kc, CONTEXT, o, { dryRun: true });
      assert.equal(applied.metadata?.name, o.metadata?.name);
    }
    // The Pipeline schema is enforced: a step without its name is refused.
    const broken = structuredClone(byName.get('Pipeline/pipeline-xgb')!) as KubernetesObject & {
      spec: { steps: Record<string, unknown>[] };
    };
    delete broken.spec.steps[0]!.name;
    await assert.rejects(serverSideApply(kc, CONTEXT, broken, { dryRun: true }), (err: unknown) => {
      assert.match(String((err as { body?: unknown }).body ?? err), /spec\.steps\[0\]\.name: Required value/);
      return true;
    });
  });

  it('KServe refuses the graph, naming the variant, and writes nothing; the builtin stack carries it', function () {
    assert.throws(
      () => exportExperiment(input, { target: 'kserve', modelUriBase: 's3://m', allowLossy: true }),
      /^GraphExportError: KServe \(it has no graph object\) cannot carry inference graphs: variant xgb of pipeline is a graph — export to --target seldon/,
    );
    const builtin = exportExperiment(input, {
      target: 'builtin',
      routerBundle: { 'router.js': '', 'webview.js': '', 'dashboard.css': '' },
    });
    const text = builtin.files.map((f) => f.content).join('\n');
    // A model server (Deployment and Service) per step of the graph variant (kubeStack.graph.test.ts
    // applies such a stack to a real API server).
    const steps = input.experiment.spec.variants
      .find((v) => v.name === 'xgb')!
      .graph!.steps.map((s) => s.name);
    const servers = new Set([...text.matchAll(/name: (pipeline-xgb-[a-z0-9-]+)\n/g)].map((m) => m[1]));
    assert.deepEqual([...servers].sort(), steps.map((s) => `pipeline-xgb-${s}`).sort());
  });
});
