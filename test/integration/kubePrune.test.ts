/**
 * What a plan no longer has is deleted, on a real kube-apiserver: a promotion shows the model
 * servers of a variant that left the experiment, and a router Deployment from before the router
 * ran as a StatefulSet, as `- delete` in its preview, deletes them only once confirmed, leaves
 * another experiment's objects alone, and keeps a router scaled by hand at its replicas.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1StatefulSet } from '@kubernetes/client-node';
import { scanWorkspace } from '../../src/core/workspace/discover';
import type { Experiment } from '../../src/core/spec/experiment';
import {
  kubeRequest,
  listObjects,
  loadKubeConfig,
  promote,
  readLive,
  serverSideApply,
  summarizePreview,
  type PromoteOptions,
  type Preview,
} from '../../src/kube';
import { modelRefs, stackNames, type ExperimentInput } from '../../src/manifests';
import { selectorLabels, stackLabels } from '../../src/manifests/labels';
import { routerLabels } from '../../src/manifests/stack/metadata';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { fakeDeploymentController } from '../harness/kubeFakeController';
import { SAMPLE_MODELS } from '../harness/tools';

const NS = 'pruned';
const CONTEXT = 'remote';
const names = stackNames();
const bundle = {
  'router.js': '/* router bundle stand-in: these tests never run it */\n',
  'webview.js': '/* dashboard stand-in */\n',
  'dashboard.css': '/* stylesheet stand-in */\n',
};

describe('pruning what a plan no longer has (real kube-apiserver)', function () {
  this.timeout(120_000);
  let api: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;
  let input: ExperimentInput;
  let controller: { stop(): Promise<void> };

  before(async function () {
    api = await startKubeApiServer();
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-prune-'));
    const file = path.join(tmp, 'kubeconfig.yaml');
    await fs.promises.writeFile(file, api.kubeconfigFor(CONTEXT), { mode: 0o600 });
    kc = loadKubeConfig({ KUBECONFIG: file });
    const scan = await scanWorkspace(SAMPLE_MODELS);
    input = {
      experiment: scan.experiments.find((e) => e.name === 'propensity')!.experiment!,
      models: modelRefs(scan.root, scan.models),
    };
    controller = fakeDeploymentController(kc, CONTEXT, NS);
  });

  after(async function () {
    await controller?.stop();
    await api?.stop();
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  function options(extra: Partial<PromoteOptions> = {}): PromoteOptions & { previews: Preview[] } {
    const previews: Preview[] = [];
    return {
      context: CONTEXT,
      namespace: NS,
      plan: 'as-is',
      source: 'kind-model-canary/model-canary',
      stack: {
        platform: 'remote',
        modelSource: { kind: 'http', baseUrl: 'https://models.example.com/m' },
        router: { bundle },
      },
      waitTimeoutMs: 20_000,
      undoFile: path.join(tmp, 'undo.yaml'),
      yes: true,
      confirm: async () => true,
      onPreview: (p) => {
        previews.push(p);
      },
      ...extra,
      previews,
    };
  }

  /** The experiment without its shadow variant (v3). */
  function withoutShadow(): ExperimentInput {
    const exp = structuredClone(input.experiment) as Experiment;
    exp.spec.variants = exp.spec.variants.filter((v) => v.name !== 'v3');
    if (exp.spec.routing) delete exp.spec.routing.mirror;
    return { ...input, experiment: exp };
  }

  /** The experiment under another name: its objects carry its own label. */
  function renamed(name: string): ExperimentInput {
    const exp = structuredClone(input.experiment) as Experiment;
    exp.metadata.name = name;
    exp.spec.endpoint = name;
    return { ...input, experiment: exp };
  }

  const deploymentNames = async (): Promise<string[]> =>
    (await listObjects(kc, CONTEXT, 'apps/v1', 'Deployment', NS)).map((d) => d.metadata!.name!).sort();

  it('a promotion that drops a variant shows its model server deleted, and deletes it once confirmed', async function () {
    assert.equal((await promote(kc, input, options())).status, 'applied');
    assert.equal((await promote(kc, renamed('other'), options())).status, 'applied');
    assert.deepEqual(await deploymentNames(), [
      'other-v1',
      'other-v2',
      'other-v3',
      'propensity-v1',
      'propensity-v2',
      'propensity-v3',
    ]);

    const dry = await promote(kc, withoutShadow(), options({ dryRun: true }));
    assert.equal(dry.status, 'dry-run');
    const deletes = dry.preview.changes.filter((c) => c.action === 'delete').map((c) => c.ref);
    assert.deepEqual(deletes.sort(), [
      `Deployment ${NS}/propensity-v3`,
      `HorizontalPodAutoscaler ${NS}/propensity-v3`,
      `PodDisruptionBudget ${NS}/propensity-v3`,
      `Service ${NS}/propensity-v3`,
    ]);
    assert.match(summarizePreview(dry.preview), new RegExp(`^- Deployment ${NS}/propensity-v3 delete`, 'm'));
    assert.match(
      dry.preview.diff,
      new RegExp(`^--- live: Deployment ${NS}/propensity-v3\\n\\+\\+\\+ /dev/null`, 'm'),
    );
    assert.ok(
      await readLive(kc, CONTEXT, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'propensity-v3', namespace: NS },
      }),
      'a dry run deletes nothing',
    );

    const declined = await promote(kc, withoutShadow(), options({ yes: false, confirm: async () => false }));
    assert.equal(declined.status, 'declined');
    assert.ok((await deploymentNames()).includes('propensity-v3'), 'declined: nothing deleted');

    const progress: string[] = [];
    const done = await promote(kc, withoutShadow(), options({ onProgress: (m) => progress.push(m) }));
    assert.equal(done.status, 'applied', done.error);
    assert.deepEqual(await deploymentNames(), [
      'other-v1',
      'other-v2',
      'other-v3',
      'propensity-v1',
      'propensity-v2',
    ]);
    const services = (await listObjects(kc, CONTEXT, 'v1', 'Service', NS)).map((s) => s.metadata!.name!);
    assert.ok(!services.includes('propensity-v3') && services.includes('other-v3'), services.join(', '));
    assert.ok(
      progress.some((p) => p === `deleting Deployment ${NS}/propensity-v3: no longer in the plan`),
      progress.join('\n'),
    );
    // The undo file holds the deleted objects, so re-applying it brings them back.
    assert.match(done.undo ?? '', /restores \d+ changed or deleted object\(s\)/);
    assert.match(await fs.promises.readFile(path.join(tmp, 'undo.yaml'), 'utf8'), /name: propensity-v3/);
  });

  it('a router Deployment from before StatefulSets and autoscalers turned off are shown deleted and removed; a router scaled by hand keeps its replicas', async function () {
    const labels = stackLabels(routerLabels('model-canary'));
    const selector = selectorLabels(routerLabels('model-canary'));
    await serverSideApply(
      kc,
      CONTEXT,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: names.router, namespace: NS, labels },
        spec: {
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'router', image: 'node:22.22.0-alpine' }] },
          },
        },
      } as KubernetesObject,
      { fieldManager: 'model-canary' },
    );
    // Autoscaling turned off as well: the autoscalers of the router and of this experiment go too,
    // and the router keeps the autoscaler's minimum (2 on a remote cluster).
    const o = options();
    const off = { ...o, stack: { ...o.stack, autoscaling: { mode: 'off' as const } } };
    const result = await promote(kc, withoutShadow(), off);
    assert.equal(result.status, 'applied', result.error);
    assert.deepEqual(
      result.preview.changes
        .filter((c) => c.action === 'delete')
        .map((c) => c.ref)
        .sort(),
      [
        `Deployment ${NS}/${names.router}`,
        `HorizontalPodAutoscaler ${NS}/${names.router}`,
        `HorizontalPodAutoscaler ${NS}/propensity-v1`,
        `HorizontalPodAutoscaler ${NS}/propensity-v2`,
      ],
    );
    assert.ok(!(await deploymentNames()).includes(names.router));
    const hpas = await listObjects(kc, CONTEXT, 'autoscaling/v2', 'HorizontalPodAutoscaler', NS);
    assert.deepEqual(
      hpas.map((h) => h.metadata!.name).sort(),
      ['other-v1', 'other-v2', 'other-v3'],
      'another experiment is left alone',
    );
    const replicas = async () =>
      (
        await readLive<V1StatefulSet>(kc, CONTEXT, {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: names.router, namespace: NS },
        })
      )?.spec?.replicas;
    assert.equal(await replicas(), 2);

    // Scaled by hand to 3 (a merge patch of its replicas, as `kubectl scale` sets them): kept.
    const res = await kubeRequest(
      kc,
      CONTEXT,
      `/apis/apps/v1/namespaces/${NS}/statefulsets/${names.router}`,
      {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: JSON.stringify({ spec: { replicas: 3 } }),
      },
    );
    assert.equal(res.status, 200, res.text);
    const again = await promote(kc, withoutShadow(), off);
    assert.equal(again.status, 'unchanged', again.preview.diff);
    assert.equal(await replicas(), 3, 'the promotion kept the replicas set by hand');
  });
});
