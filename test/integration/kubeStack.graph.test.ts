// Graph variants in the serving stack, on a real kube-apiserver: the sample pipeline experiment
// gets one model server per step of each graph variant, a custom step with a requirements.txt its
// init container, and a router config whose graph names those servers' Services; the router's
// own config loader accepts it with the experiment file the stack ships.
import { strict as assert } from 'node:assert';
import { basename } from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { scanWorkspace } from '../../src/core/workspace/discover';
import { readDriftReferences } from '../../src/core/workspace/driftReferences';
import { routerConfigSchema } from '../../src/core/spec/routerConfig';
import { applyObjects, readLive } from '../../src/kube';
import {
  buildStack,
  experimentFiles,
  modelRefs,
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../../src/manifests';
import { resolveSettings } from '../../src/router/config';
import { CONTEXT, startServingStackApi, type ServingStackApi } from '../harness/servingStackApi';
import { SAMPLE_MODELS } from '../harness/tools';

const NS = 'mc-graph';
const STEPS = {
  v1: ['propensity-features', 'propensity-v1-encoded', 'offer-decision'],
  xgb: ['propensity-features', 'propensity-xgb', 'offer-decision'],
};

describe('graph variants in the serving stack on a real kube-apiserver', function () {
  let api: ServingStackApi | undefined;
  let kc: KubeConfig;
  let input: ExperimentInput;
  let opts: StackOptions;

  before(async function () {
    api = await startServingStackApi();
    kc = api.kc;
    const scan = await scanWorkspace(SAMPLE_MODELS);
    const experiment = scan.experiments.find((e) => e.name === 'propensity-pipeline')!.experiment!;
    // As deploy and promote read them: the drift reference and the model input's.
    input = {
      experiment,
      models: modelRefs(scan.root, scan.models),
      ...(await readDriftReferences(experiment)),
    };
    assert.ok(input.referenceCsv && input.modelInputCsv);
    opts = { namespace: NS, platform: 'kind', router: { bundle: api.bundle } };
  });

  after(async function () {
    await api?.stop();
  });

  it('applies a model server per step of each graph variant, and the router config wires the graph to their Services', async function () {
    const objects = buildStack([input], opts) as KubernetesObject[];
    const applied = await applyObjects(kc, CONTEXT, objects);
    assert.deepEqual(
      applied.filter((a) => a.action !== 'created').map((a) => a.ref),
      [],
    );
    const services = new Set(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata!.name));
    for (const [variant, steps] of Object.entries(STEPS))
      for (const step of steps) {
        const name = `propensity-pipeline-${variant}-${step}`;
        assert.ok(services.has(name), `a Service ${name}`);
        const dep = await readLive<V1Deployment>(kc, CONTEXT, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace: NS },
        });
        assert.ok(dep, `the Deployment ${name} is stored`);
        const pod = dep.spec!.template.spec!;
        assert.equal(pod.volumes?.[0]?.hostPath?.path, `/models/${step}`);
        assert.equal(dep.spec!.template.metadata!.labels!['modelcanary.dev/variant'], `${variant}.${step}`);
        const init = pod.initContainers?.map((c) => c.name) ?? [];
        // Only the transformer has a requirements.txt: its init container builds its environment.
        assert.deepEqual(init, step === 'propensity-features' ? ['install-requirements'] : []);
        if (step === 'propensity-features')
          assert.deepEqual(pod.containers[0]!.command, [
            '/mnt/python/env/bin/mlserver',
            'start',
            '/mnt/models',
          ]);
        if (step === 'propensity-xgb')
          assert.equal(pod.containers[0]!.image, 'seldonio/mlserver:1.7.1-xgboost');
      }

    const names = stackNames();
    const routerCm = await readLive<V1ConfigMap>(kc, CONTEXT, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: names.routerConfig, namespace: NS },
    });
    const config = routerConfigSchema.parse(parse(routerCm!.data!['router.yaml']!));
    const entry = config.experiments.find((e) => e.name === 'propensity-pipeline')!;
    for (const v of entry.variants) {
      const steps = STEPS[v.name as keyof typeof STEPS];
      assert.deepEqual(
        v.graph?.steps.map((s) => [s.name, s.url]),
        steps.map((s) => [s, `http://propensity-pipeline-${v.name}-${s}.${NS}.svc:8080`]),
      );
    }
    // The experiment file the router reads from the experiments ConfigMap: the router's own loader
    // accepts it with this config, drift.modelInput with its reference beside it.
    const filesCm = await readLive<V1ConfigMap>(kc, CONTEXT, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: names.experiments, namespace: NS },
    });
    const files = filesCm!.data!;
    const shipped = parse(files['propensity-pipeline.yaml']!) as { spec: { drift: Record<string, unknown> } };
    assert.deepEqual(shipped.spec.drift.modelInput, {
      tensor: 'propensity-features.outputs.features',
      reference: 'propensity-pipeline.model-input.csv',
    });
    assert.equal(files['propensity-pipeline.model-input.csv'], input.modelInputCsv);
    const settings = await resolveSettings(
      // The tokens are files of the Pod's Secret volume; the loader reads them as given here.
      {
        ...config,
        adminToken: 'a'.repeat(32),
        adminTokenFile: undefined,
        ingestToken: 'b'.repeat(32),
        ingestTokenFile: undefined,
      },
      '/',
      'router.yaml',
      async (path) => {
        const text = files[basename(path)];
        if (text === undefined) throw new Error(`no ${basename(path)} in the experiments ConfigMap`);
        return text;
      },
    );
    const routed = settings.experiments.find((e) => e.name === 'propensity-pipeline')!;
    assert.equal(routed.reference?.modelInput?.columns.length, 12);
    assert.equal(routed.reference?.modelInput?.columns[3], 'log_basket_value');
    assert.deepEqual(
      routed.variants.map((v) => [v.name, v.graph?.steps.map((s) => s.name)]),
      [
        ['v1', STEPS.v1],
        ['xgb', STEPS.xgb],
      ],
    );
  });
});

describe('graph variants in the stack without the model input reference', () => {
  it('ship the experiment without drift.modelInput, so the router still loads it', async () => {
    const scan = await scanWorkspace(SAMPLE_MODELS);
    const experiment = scan.experiments.find((e) => e.name === 'propensity-pipeline')!.experiment!;
    const { referenceCsv } = await readDriftReferences(experiment);
    const files = experimentFiles({ experiment, models: modelRefs(scan.root, scan.models), referenceCsv });
    const shipped = parse(files['propensity-pipeline.yaml']!) as { spec: { drift: Record<string, unknown> } };
    assert.equal('modelInput' in shipped.spec.drift, false);
    assert.deepEqual(Object.keys(files).sort(), [
      'propensity-pipeline.reference.csv',
      'propensity-pipeline.yaml',
    ]);
  });
});
