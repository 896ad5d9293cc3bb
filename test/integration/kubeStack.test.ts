import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { scanWorkspace } from '../../src/core/workspace/discover';
import type { Experiment } from '../../src/core/spec/experiment';
import {
  applyObjects,
  ApplyConflictError,
  kubeRequest,
  listObjects,
  loadKubeConfig,
  previewApply,
  readLive,
  RolloutError,
  serverSideApply,
  setRouterWeights,
  waitForRollouts,
} from '../../src/kube';
import {
  buildStack,
  modelRefs,
  releaseSelector,
  routerConfig,
  routerConfigMap,
  routerExperimentEntry,
  stackNames,
  type ExperimentInput,
  type ModelRef,
  type StackOptions,
} from '../../src/manifests';
import { KubeRuntime } from '../../src/runtime/kubeRuntime';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { markRolledOut } from '../harness/kubeFakeController';
import { freePort, hostAddress, publishRouterPod, routerKubeArgs } from '../harness/kubeRouterStandIn';
import { ROUTER_BUNDLE, ensureRouterBuilt, startRouter, type RunningRouter } from '../harness/router';
import { SAMPLE_MODELS } from '../harness/tools';

const CONTEXT = 'local';
const LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
  'modelcanary.dev/experiment',
];

describe('the serving stack on a real kube-apiserver', function () {
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;
  let experiment: Experiment;
  let models: ModelRef[];
  let input: ExperimentInput;
  let bundle: string;

  before(async function () {
    ensureRouterBuilt();
    bundle = await fs.promises.readFile(ROUTER_BUNDLE, 'utf8');
    server = await startKubeApiServer();
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mc-kubestack-'));
    const file = path.join(tmp, 'kubeconfig.yaml');
    await fs.promises.writeFile(file, server.kubeconfigFor(CONTEXT), { mode: 0o600 });
    kc = loadKubeConfig({ KUBECONFIG: file });
    const scan = await scanWorkspace(SAMPLE_MODELS);
    experiment = scan.experiments.find((e) => e.name === 'propensity')!.experiment!;
    models = modelRefs(scan.root, scan.models);
    const referenceCsv = await fs.promises.readFile(path.join(SAMPLE_MODELS, 'data/reference.csv'), 'utf8');
    input = { experiment, models, referenceCsv };
  });

  after(async function () {
    await server?.stop();
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  const kindStack = (): StackOptions => ({ namespace: 'mc-kind', platform: 'kind', router: { bundle } });
  const remoteStack = (): StackOptions => ({
    namespace: 'mc-remote',
    platform: 'remote',
    modelSource: { kind: 'http', baseUrl: 'https://models.example.com/sample-models' },
    router: { bundle },
  });

  for (const [label, opts] of [
    ['kind (NodePort, models from the node mount)', kindStack],
    ['remote (ClusterIP, models fetched over HTTPS)', remoteStack],
  ] as const) {
    it(`applies every object of the ${label} stack by server-side apply, and re-applying changes nothing`, async function () {
      const objects = buildStack([input], opts()) as KubernetesObject[];
      const kinds = new Set(objects.map((o) => o.kind));
      for (const k of [
        'Namespace',
        'ServiceAccount',
        'Role',
        'RoleBinding',
        'PersistentVolumeClaim',
        'ConfigMap',
        'Service',
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
          (live.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`),
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
    // Now model-canary is the one refused — in a dry run (what promotion shows first) and for real.
    await assert.rejects(
      previewApply(kc, CONTEXT, [cm]),
      (err: unknown) => err instanceof ApplyConflictError && err.managers[0] === 'ops-team',
    );
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

  describe('a router process watching the API server', function () {
    const ns = 'mc-live';
    let router: RunningRouter | undefined;
    let routerPort: number;
    let stack: StackOptions;
    let runtime: KubeRuntime;

    before(async function () {
      // Paths the router can use on this machine instead of the Pod's mounts.
      const dataDir = path.join(tmp, 'router-data');
      const expDir = path.join(tmp, 'experiments');
      await fs.promises.mkdir(expDir, { recursive: true });
      await fs.promises.cp(
        path.join(SAMPLE_MODELS, 'experiments/propensity.yaml'),
        path.join(expDir, 'propensity.yaml'),
      );
      await fs.promises.cp(path.join(SAMPLE_MODELS, 'data'), path.join(tmp, 'data'), { recursive: true });
      routerPort = await freePort();
      stack = {
        namespace: ns,
        platform: 'remote',
        modelSource: { kind: 'http', baseUrl: 'https://models.example.com' },
        router: { bundle },
      };
      const objects = buildStack([input], stack) as KubernetesObject[];
      const names = stackNames();
      const config = parse(
        (objects.find((o) => o.metadata?.name === names.routerConfig) as V1ConfigMap).data!['router.yaml']!,
      );
      config.listen = `0.0.0.0:${routerPort}`;
      config.dataDir = dataDir;
      // The admin token the Secret volume would hold in a Pod.
      config.adminTokenFile = path.join(tmp, 'admin-token');
      await fs.promises.writeFile(config.adminTokenFile, randomBytes(24).toString('hex'), { mode: 0o600 });
      config.experiments[0].experimentFile = path.join(expDir, 'propensity.yaml');
      const idx = objects.findIndex((o) => o.metadata?.name === names.routerConfig);
      objects[idx] = routerConfigMap(config, stack) as KubernetesObject;
      await applyObjects(kc, CONTEXT, objects);

      router = await startRouter(path.join(tmp, 'unused.yaml'), {
        cwd: tmp,
        args: ['--kube-configmap', `${ns}/${names.routerConfig}`, ...(await routerKubeArgs(server, tmp))],
      });
      runtime = new KubeRuntime({
        workspace: SAMPLE_MODELS,
        context: CONTEXT,
        kubeconfig: kc,
        namespace: ns,
        platform: 'remote',
      });
    });

    after(async function () {
      await router?.stop();
    });

    const reportWeights = async (url: string): Promise<Record<string, number>> => {
      const res = await fetch(`${url}/api/v1/experiments/propensity/report`);
      assert.equal(res.status, 200, await res.clone().text());
      const report = (await res.json()) as { variants: { name: string; weight: number }[] };
      return Object.fromEntries(report.variants.map((v) => [v.name, v.weight]));
    };

    it('routes with the weights of the ConfigMap it started from', async function () {
      assert.deepEqual(await reportWeights(router!.url), { v1: 95, v2: 5 });
    });

    it('picks up a weight change made by patching the ConfigMap within a second or two', async function () {
      const started = Date.now();
      await setRouterWeights(kc, CONTEXT, stack, 'propensity', { v1: 75, v2: 25 });
      let weights: Record<string, number> = {};
      while (Date.now() - started < 5_000) {
        weights = await reportWeights(router!.url);
        if (weights.v2 === 25) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(weights, { v1: 75, v2: 25 }, router!.output());
      // Only a bound that a lost watch would break; bench/ measures, tests do not time things.
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      await assert.rejects(
        setRouterWeights(kc, CONTEXT, stack, 'propensity', { v9: 10 }),
        /has no variant v9/,
      );
    });

    it("reads the report through the API server's service proxy, and sets weights through the runtime", async function () {
      const address = hostAddress();
      if (!address) this.skip(); // the service proxy cannot reach a loopback-only machine
      // No controller runs Pods or fills endpoints here: a Pod object with the router's labels and
      // this machine's address, and an EndpointSlice naming it — what the service proxy checks.
      await publishRouterPod(kc, CONTEXT, ns, 'model-canary-router-test', address, routerPort);
      // The API server reads EndpointSlices from an informer: give it a moment.
      const deadline = Date.now() + 10_000;
      while (
        Date.now() < deadline &&
        !(await runtime.report('propensity').then(
          () => true,
          () => false,
        ))
      )
        await new Promise((r) => setTimeout(r, 100));
      const report = await runtime.report('propensity');
      assert.equal(report.experiment, 'propensity');
      assert.deepEqual(
        report.variants.map((v) => [v.name, v.weight]),
        [
          ['v1', 75],
          ['v2', 25],
        ],
      );
      const progress: string[] = [];
      await runtime.setWeights('propensity', { v1: 50, v2: 50 }, { onProgress: (m) => progress.push(m) });
      assert.deepEqual(
        (await runtime.report('propensity')).variants.map((v) => v.weight),
        [50, 50],
        progress.join('\n'),
      );
    });

    it('status lists the router and model servers; down deletes them by label and keeps the event log volume', async function () {
      const status = await runtime.status();
      assert.equal(status.runtime, 'kubernetes');
      assert.equal(status.up, true);
      assert.deepEqual(status.components.map((c) => c.name).sort(), [
        'propensity-v1',
        'propensity-v2',
        'propensity-v3',
        'router',
      ]);
      assert.ok(
        status.components.every((c) => c.state === 'not-ready'),
        'nothing runs Pods on the test API server',
      );
      assert.deepEqual(
        status.experiments.map((e) => e.name),
        ['propensity'],
      );
      await runtime.down();
      const left = await listObjects(
        kc,
        CONTEXT,
        'apps/v1',
        'Deployment',
        ns,
        releaseSelector('model-canary'),
      );
      assert.deepEqual(left, []);
      const pvcs = await listObjects(
        kc,
        CONTEXT,
        'v1',
        'PersistentVolumeClaim',
        ns,
        releaseSelector('model-canary'),
      );
      assert.equal(pvcs.length, 1);
      const res = await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${ns}/configmaps`);
      assert.doesNotMatch(res.text, /model-canary-router-config/);
    });
  });
});
