// The serving stack's objects on a real kube-apiserver: server-side apply (idempotent, with
// field-manager conflicts), what the kind and remote stacks contain, and waiting for rollouts.
import { strict as assert } from 'node:assert';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import {
  applyObjects,
  ApplyConflictError,
  deleteObject,
  previewApply,
  readLive,
  RolloutError,
  serverSideApply,
  waitForRollouts,
} from '../../src/kube';
import {
  buildStack,
  routerConfig,
  routerConfigMap,
  routerExperimentEntry,
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../../src/manifests';
import { markRolledOut } from '../harness/kubeFakeController';
import { CONTEXT, startServingStackApi, type ServingStackApi } from '../harness/servingStackApi';

const LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  'modelcanary.dev/experiment',
];

describe('the serving stack on a real kube-apiserver', function () {
  let api: ServingStackApi | undefined;
  let kc: KubeConfig;
  let input: ExperimentInput;
  let bundle: ServingStackApi['bundle'];

  before(async function () {
    api = await startServingStackApi();
    ({ kc, input, bundle } = api);
  });

  after(async function () {
    await api?.stop();
  });

  const kindStack = (): StackOptions => ({ namespace: 'mc-kind', platform: 'kind', router: { bundle } });
  const remoteStack = (): StackOptions => ({
    namespace: 'mc-remote',
    platform: 'remote',
    modelSource: { kind: 'http', baseUrl: 'https://models.example.com/sample-models' },
    router: { bundle },
  });

  const requestsStack = (): StackOptions => ({
    ...remoteStack(),
    namespace: 'mc-hpa',
    autoscaling: { mode: 'requests' },
  });

  for (const [label, opts] of [
    ['kind (NodePort, models from the node mount)', kindStack],
    ['remote (ClusterIP, models fetched over HTTPS, CPU autoscalers)', remoteStack],
    [
      'remote, autoscaled on requests (HPAs on custom and external metrics, prometheus-adapter with its APIServices)',
      requestsStack,
    ],
  ] as const) {
    it(`applies every object of the ${label} stack by server-side apply, and re-applying changes nothing`, async function () {
      const objects = buildStack([input], opts()) as KubernetesObject[];
      const kinds = new Set(objects.map((o) => o.kind));
      for (const k of [
        'Namespace',
        'ServiceAccount',
        'Role',
        'RoleBinding',
        'ConfigMap',
        'Service',
        'StatefulSet',
        'PodDisruptionBudget',
        'Deployment',
      ])
        assert.ok(kinds.has(k), `the stack has a ${k}`);
      const first = await applyObjects(kc, CONTEXT, objects);
      assert.deepEqual(
        first.filter((a) => a.action !== 'created').map((a) => a.ref),
        [],
        'every object is new',
      );
      for (const o of objects) {
        const live = await readLive(kc, CONTEXT, o);
        assert.ok(live, `${o.kind} ${o.metadata?.name} is stored`);
        for (const l of LABELS)
          assert.ok(l in (live.metadata?.labels ?? {}), `${o.kind} ${o.metadata?.name} has label ${l}`);
        assert.deepEqual(
          // The API server writes an APIService's availability itself, through its status.
          (live.metadata?.managedFields ?? [])
            .filter((m) => m.subresource !== 'status')
            .map((m) => `${m.manager}/${m.operation}`),
          ['model-canary/Apply'],
        );
      }
      // The API server re-encodes a PersistentVolumeClaim once on its first update (its storage
      // strategy, not our apply: a `{}` merge patch does the same), so that one may move once.
      const again = await applyObjects(kc, CONTEXT, buildStack([input], opts()) as KubernetesObject[]);
      assert.deepEqual(
        again
          .filter((a) => a.action !== 'unchanged' && a.result.kind !== 'PersistentVolumeClaim')
          .map((a) => a.ref),
        [],
      );
      const third = await applyObjects(kc, CONTEXT, buildStack([input], opts()) as KubernetesObject[]);
      for (const a of third) {
        assert.equal(a.action, 'unchanged', `${a.ref} was changed by a re-apply`);
        assert.equal(a.result.metadata?.resourceVersion, a.before?.metadata?.resourceVersion, a.ref);
      }
      const preview = await previewApply(kc, CONTEXT, buildStack([input], opts()) as KubernetesObject[]);
      assert.equal(preview.diff, '', 'a dry run of the same stack shows no difference');
    });
  }

  it('the autoscaled stack stored its HPAs, budgets and the adapter as written (autoscaling/v2, policy/v1, apiregistration/v1)', async function () {
    const objects = buildStack([input], requestsStack()) as KubernetesObject[];
    const hpa = await readLive<
      KubernetesObject & { spec: { metrics: { type: string }[]; scaleTargetRef: object } }
    >(kc, CONTEXT, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'propensity-v2', namespace: 'mc-hpa' },
    });
    assert.deepEqual(
      hpa?.spec.metrics.map((m) => m.type),
      ['External'],
    );
    const router = await readLive<
      KubernetesObject & { spec: { metrics: { type: string }[]; scaleTargetRef: object } }
    >(kc, CONTEXT, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'model-canary-router', namespace: 'mc-hpa' },
    });
    assert.deepEqual(
      { ...router?.spec.scaleTargetRef },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: 'model-canary-router',
      },
    );
    assert.deepEqual(
      router?.spec.metrics.map((m) => m.type),
      ['Pods'],
    );
    const apiServices = objects.filter((o) => o.kind === 'APIService');
    assert.deepEqual(
      apiServices.map((o) => o.metadata?.name),
      ['v1beta1.custom.metrics.k8s.io', 'v1beta1.external.metrics.k8s.io'],
    );
    for (const o of apiServices) {
      const live = await readLive<
        KubernetesObject & { spec: { service: { name: string; namespace: string } } }
      >(kc, CONTEXT, o);
      assert.deepEqual(
        { ...live?.spec.service },
        {
          name: 'model-canary-prometheus-adapter',
          namespace: 'mc-hpa',
          port: 443,
        },
      );
    }
    // No adapter answers here: unregister it, so the API server's discovery stays whole for the tests after.
    for (const o of apiServices) await deleteObject(kc, CONTEXT, o);
  });

  it('the kind stack exposes the router on NodePort 30090 and mounts each model from /models', async function () {
    const ns = 'mc-kind';
    const names = stackNames();
    const svc = await readLive<KubernetesObject & { spec: { type: string; ports: { nodePort?: number }[] } }>(
      kc,
      CONTEXT,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: names.router, namespace: ns },
      },
    );
    assert.equal(svc?.spec.type, 'NodePort');
    assert.equal(svc?.spec.ports[0]?.nodePort, 30090);
    const dep = await readLive<V1Deployment>(kc, CONTEXT, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'propensity-v2', namespace: ns },
    });
    const pod = dep!.spec!.template.spec!;
    assert.equal(pod.volumes?.[0]?.hostPath?.path, '/models/propensity-v2');
    const c = pod.containers[0]!;
    assert.equal(c.image, 'seldonio/mlserver:1.7.1-sklearn');
    assert.equal(c.env?.find((e) => e.name === 'MLSERVER_PARALLEL_WORKERS')?.value, '0');
    assert.equal(c.readinessProbe?.httpGet?.path, '/v2/health/ready');
    assert.equal(c.livenessProbe?.httpGet?.path, '/v2/health/live');
    assert.ok(c.resources?.requests?.memory);
    const remote = await readLive<V1Deployment>(kc, CONTEXT, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'propensity-v2', namespace: 'mc-remote' },
    });
    const init = remote!.spec!.template.spec!.initContainers![0]!;
    assert.ok(
      init.args?.includes('https://models.example.com/sample-models/propensity-v2/model.joblib'),
      init.args?.join(' '),
    );
  });

  it('detects field-manager conflicts and takes the fields over only when forced', async function () {
    const names = stackNames();
    const cm = routerConfigMap(
      routerConfig([routerExperimentEntry(input, kindStack())], kindStack()),
      kindStack(),
    ) as unknown as KubernetesObject & { data: Record<string, string> };
    const rival = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: names.routerConfig, namespace: 'mc-kind' },
      data: { 'router.yaml': 'listen: 0.0.0.0:9999\n' },
    };
    await assert.rejects(
      serverSideApply(kc, CONTEXT, rival, { fieldManager: 'ops-team' }),
      (err: unknown) => {
        assert.ok(err instanceof ApplyConflictError, String(err));
        assert.deepEqual(err.managers, ['model-canary']);
        return true;
      },
    );
    await serverSideApply(kc, CONTEXT, rival, { fieldManager: 'ops-team', force: true });
    // Now model-canary is the one refused. The dry run (what promotion shows first) still shows the
    // diff a forced apply would make, with the conflict beside it; the real apply is refused.
    const preview = await previewApply(kc, CONTEXT, [cm]);
    assert.deepEqual(
      preview.conflicts?.map((c) => c.managers),
      [['ops-team']],
    );
    assert.match(preview.diff, /listen: 0\.0\.0\.0:9999/);
    assert.match(preview.changes[0]!.note ?? '', /conflict: fields owned by ops-team/);
    await assert.rejects(applyObjects(kc, CONTEXT, [cm]), (err: unknown) => {
      assert.match(String((err as Error).message), /conflicts with field manager\(s\) ops-team/);
      return true;
    });
    const forced = await applyObjects(kc, CONTEXT, [cm], { force: true });
    assert.equal(forced[0]?.action, 'configured');
    const live = await readLive<V1ConfigMap>(kc, CONTEXT, cm);
    assert.equal(live?.data?.['router.yaml'], cm.data['router.yaml']);
  });

  it('waits for rollouts: times out with a hint while no controller runs, succeeds once the status says so', async function () {
    const deployments = [{ name: 'propensity-v1', namespace: 'mc-kind' }];
    const lines: string[] = [];
    await assert.rejects(
      waitForRollouts(kc, CONTEXT, deployments, {
        timeoutMs: 600,
        pollMs: 100,
        onProgress: (l) => lines.push(l),
      }),
      (err: unknown) => {
        assert.ok(err instanceof RolloutError, String(err));
        assert.match(err.message, /not rolled out within 1 s/);
        assert.match(err.message, /no Pods yet/);
        return true;
      },
    );
    assert.ok(
      lines.some((l) => l.includes('waiting for the deployment controller')),
      lines.join('\n'),
    );
    const waiting = waitForRollouts(kc, CONTEXT, deployments, { timeoutMs: 20_000, pollMs: 100 });
    const dep = await readLive<V1Deployment>(kc, CONTEXT, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: deployments[0]!,
    });
    await markRolledOut(kc, CONTEXT, dep!);
    const states = await waiting;
    assert.deepEqual(
      states.map((s) => [s.done, s.message]),
      [[true, '1 of 1 available']],
    );
  });
});
