// A router process watching a real kube-apiserver: it routes with the weights of the stack's
// ConfigMap, follows a patch of it, answers through the API server's service proxy, and
// KubeRuntime's status and down see the stack it belongs to.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1StatefulSet } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  applyObjects,
  kubeRequest,
  listObjects,
  readAdminToken,
  readIngestToken,
  setRouterWeights,
} from '../../src/kube';
import { applyWithAdminToken } from '../../src/kube/adminToken';
import { postLabels } from '../../src/operations/label';
import { simulateTraffic } from '../../src/operations/simulate';
import {
  buildStack,
  releaseSelector,
  routerConfigMap,
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../../src/manifests';
import { KubeRuntime } from '../../src/runtime/kubeRuntime';
import type { KubeApiServer } from '../harness/kubeApiServer';
import { freePort, hostAddress, publishRouterPod, routerKubeArgs } from '../harness/kubeRouterStandIn';
import { startRouter, type RunningRouter } from '../harness/router';
import { startUpstream, type Upstream } from '../harness/upstream';
import { CONTEXT, startServingStackApi, type ServingStackApi } from '../harness/servingStackApi';
import { SAMPLE_MODELS } from '../harness/tools';

describe('the serving stack on a real kube-apiserver', function () {
  let api: ServingStackApi | undefined;
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;
  let input: ExperimentInput;
  let bundle: ServingStackApi['bundle'];

  before(async function () {
    api = await startServingStackApi();
    ({ server, kc, tmp, input, bundle } = api);
  });

  after(async function () {
    await api?.stop();
  });

  describe('a router process watching the API server', function () {
    const ns = 'mc-live';
    let router: RunningRouter | undefined;
    let routerPort: number;
    let stack: StackOptions;
    let runtime: KubeRuntime;
    let upstreams: Upstream[] = [];

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
      // The tokens the Secret volume would hold in a Pod: the files of the Secret `up` makes.
      config.adminTokenFile = path.join(tmp, 'token');
      config.ingestTokenFile = path.join(tmp, 'ingest-token');
      config.experiments[0].experimentFile = path.join(expDir, 'propensity.yaml');
      // The model servers: V2 servers on this machine instead of the in-cluster Services.
      upstreams = await Promise.all([startUpstream(), startUpstream(), startUpstream()]);
      config.experiments[0].variants.forEach((v: { url: string; grpc?: string }, i: number) => {
        v.url = upstreams[i]!.url;
        delete v.grpc;
      });
      config.experiments[0].mirror.url = upstreams[2]!.url;
      const idx = objects.findIndex((o) => o.metadata?.name === names.routerConfig);
      objects[idx] = routerConfigMap(config, stack) as KubernetesObject;
      await applyWithAdminToken(kc, CONTEXT, objects, stack);
      const secret = { namespace: ns };
      await fs.promises.writeFile(config.adminTokenFile, (await readAdminToken(kc, CONTEXT, secret))!, {
        mode: 0o600,
      });
      await fs.promises.writeFile(config.ingestTokenFile, (await readIngestToken(kc, CONTEXT, secret))!, {
        mode: 0o600,
      });

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
      await Promise.all(upstreams.map((u) => u.close()));
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
        /unknown variant "v9" — experiment propensity has v1, v2/,
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

    it('simulate and label reach the router with the ingest token of its Secret; without it feedback is refused (401)', async function () {
      this.timeout(60_000);
      // Without the token: refused through the service proxy, as from any client in the cluster.
      const refused = await kubeRequest(
        kc,
        CONTEXT,
        `/api/v1/namespaces/${ns}/services/model-canary-router:http/proxy/api/v1/experiments/propensity/feedback`,
        {
          method: 'POST',
          contentType: 'application/json',
          body: JSON.stringify({ requestId: 'r-1', metric: 'conversion', value: 1 }),
        },
      );
      assert.equal(refused.status, 401, refused.text);
      assert.match(refused.text, /missing ingest token for propensity/);
      const summary = await simulateTraffic(runtime, {
        experiment: input.experiment,
        requests: 60,
        rps: 200,
        labelDelayMs: 0,
        routerUrl: router!.url,
      });
      assert.equal(summary.ok, 60, summary.firstError);
      assert.ok(summary.feedbackSent > 0, JSON.stringify(summary));
      assert.equal(summary.feedbackFailed, 0, summary.firstError);
      assert.ok((summary.labelsSent ?? 0) > 0, JSON.stringify(summary));
      assert.equal(summary.labelsFailed, 0, summary.firstError);
      const report = await runtime.report('propensity');
      assert.ok(
        report.variants.some((v) => (v.feedback.conversion?.count ?? 0) > 0),
        'the feedback was recorded',
      );
      const requestId = upstreams[0]!.calls.at(-1)?.requestId ?? upstreams[1]!.calls.at(-1)!.requestId!;
      const labelled = await postLabels(runtime, { experiment: 'propensity', requestId, label: '0' });
      assert.equal(labelled.accepted, 1);
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
      // Each replica's claim, as the StatefulSet controller (not running here) makes it from the template.
      const sts = (await listObjects<V1StatefulSet>(kc, CONTEXT, 'apps/v1', 'StatefulSet', ns))[0]!;
      const template = sts.spec!.volumeClaimTemplates![0]!;
      for (const i of [0, 1])
        await applyObjects(kc, CONTEXT, [
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { ...template.metadata, name: `data-${sts.metadata!.name}-${i}`, namespace: ns },
            spec: template.spec,
          } as KubernetesObject,
        ]);
      await runtime.down();
      for (const kind of ['Deployment', 'StatefulSet'])
        assert.deepEqual(
          await listObjects(kc, CONTEXT, 'apps/v1', kind, ns, releaseSelector('model-canary')),
          [],
          kind,
        );
      const claims = async () =>
        (await listObjects(kc, CONTEXT, 'v1', 'PersistentVolumeClaim', ns, releaseSelector('model-canary')))
          .map((c) => c.metadata?.name)
          .sort();
      assert.deepEqual(await claims(), ['data-model-canary-router-0', 'data-model-canary-router-1']);
      const res = await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${ns}/configmaps`);
      assert.doesNotMatch(res.text, /model-canary-router-config/);
    });
  });
});
