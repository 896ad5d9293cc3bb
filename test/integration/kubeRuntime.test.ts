/**
 * The Kubernetes runtime end to end on a real kube-apiserver: `up`, `deploy`, `report`,
 * `setWeights`, `logs`, `status`, `down`. What a cluster would add is played by stand-ins:
 * a deployment controller (marks rollouts done through the status subresource), the real router
 * process outside a Pod (watching its ConfigMap through the API server, reached through the
 * API server's service proxy via a Pod object and an EndpointSlice with this machine's address),
 * and a kubelet that copies the experiments ConfigMap into the router's folder — late, as a
 * kubelet does, so the runtime's reload path is exercised too.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { kubeRequest, readLive, serverSideApply } from '../../src/kube';
import { routerSelector, stackNames } from '../../src/manifests';
import { postLabels } from '../../src/operations/label';
import type { KubeRuntime } from '../../src/runtime/kubeRuntime';
import { kubeRuntimeFixture, type KubeRuntimeFixture } from '../harness/kubeRuntimeFixture';
import { serviceAccountConfig } from '../harness/kubeServiceAccount';
import { startKubeletStandIn, type KubeletStandIn } from '../harness/kubeletStandIn';
import { hostAddress, type KubeRouterStandIn } from '../harness/kubeRouterStandIn';
import { SAMPLE_MODELS } from '../harness/tools';
import { EXPECTED_STEPS, scenarioThroughOperations } from '../harness/verbScenario';

const [CONTEXT, NS] = ['cluster', 'mc-runtime'];

describe('the Kubernetes runtime (real kube-apiserver, the router process outside a Pod)', function () {
  let f: KubeRuntimeFixture | undefined;
  let kc: KubeConfig;
  let tmp: string;
  let runtime: KubeRuntime;
  let cluster: KubeRouterStandIn | undefined;
  let standIn: KubeletStandIn | undefined;
  let port: number;
  let runtimeAs: KubeRuntimeFixture['runtimeAs'];
  const progress: string[] = [];

  before(async function () {
    if (!hostAddress()) this.skip(); // the API server does not proxy to loopback addresses
    f = await kubeRuntimeFixture(CONTEXT, NS);
    ({ kc, tmp, cluster, port, runtime, runtimeAs } = f);
  });

  after(async function () {
    await standIn?.stop();
    await f?.stop();
  });

  it('up applies the namespace and the router, replaces the router Deployment of an older release, and waits for its rollout', async function () {
    // A release from before the router ran replicas: its router was a Deployment of the same name.
    const older = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'model-canary-router', namespace: NS, labels: routerSelector() },
      spec: {
        selector: { matchLabels: routerSelector() },
        template: {
          metadata: { labels: routerSelector() },
          spec: { containers: [{ name: 'router', image: 'node:22.22.0-alpine' }] },
        },
      },
    };
    await kubeRequest(kc, CONTEXT, '/api/v1/namespaces', {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ metadata: { name: NS } }),
    });
    await serverSideApply(kc, CONTEXT, older, { fieldManager: 'model-canary' });
    const status = await runtime.up({ onProgress: (m) => progress.push(m) });
    assert.equal(await readLive(kc, CONTEXT, older), undefined, 'the old router Deployment is gone');
    assert.ok(
      progress.some((m) =>
        /deleting Deployment mc-runtime\/model-canary-router: the router is a StatefulSet now/.test(m),
      ),
      progress.join('\n'),
    );
    assert.equal(status.up, true);
    assert.deepEqual(
      status.components.map((c) => c.name),
      ['router'],
    );
    assert.ok(
      progress.some((m) => /model-canary-router: 1 of 1 available/.test(m)),
      progress.join('\n'),
    );
    const again = await runtime.up();
    assert.equal(again.up, true, 'up is idempotent');

    // `up` says how an application passes the ingest token (model-canary reads the Secret itself).
    const hint = `export MODEL_CANARY_INGEST_TOKEN=$(kubectl --context cluster -n mc-runtime get secret model-canary-router-admin -o jsonpath='{.data.ingest-token}' | base64 -d)`;
    assert.ok(
      progress.some((m) => m.includes(hint)),
      progress.join('\n'),
    );

    // A replica's event log with a line that is not an event: the router quarantines it at start.
    const logDir = path.join(cluster!.paths.dataDir, 'data');
    await fs.promises.mkdir(logDir, { recursive: true });
    await fs.promises.writeFile(path.join(logDir, 'events-00000001.jsonl'), 'null\n');
    // The stand-ins: the router process on this machine, and the endpoints a cluster would fill in.
    await cluster!.startRouter();
  });

  it('deploy applies the model servers, waits for them, then routes the endpoint (asking the router to reload until its files arrive)', async function () {
    progress.length = 0;
    const status = await runtime.deploy(path.join(SAMPLE_MODELS, 'experiments/propensity.yaml'), {
      onProgress: (m) => progress.push(m),
    });
    assert.deepEqual(
      status.experiments.map((e) => e.name),
      ['propensity'],
    );
    assert.deepEqual(status.components.map((c) => c.name).sort(), [
      'propensity-v1',
      'propensity-v2',
      'propensity-v3',
      'router',
    ]);
    assert.equal(
      status.components.find((c) => c.name === 'router')?.id,
      'model-canary-router-0',
      "the router's Pod, picked by its Deployment's selector",
    );
    const text = progress.join('\n');
    assert.match(text, /propensity-v3: 1 of 1 available/);
    assert.match(text, /routing \/v2\/models\/propensity\/infer/);
    assert.match(
      text,
      /does not route propensity yet .*asking it to reload/,
      'the experiment file arrived after the config',
    );
    assert.ok(cluster!.syncs >= 1);
    assert.match(cluster!.router!.output(), /new experiment on \/v2\/models\/propensity\/infer/);
  });

  it("report reads the router's report through the API server's service proxy", async function () {
    const report = await runtime.report('propensity');
    assert.equal(report.experiment, 'propensity');
    assert.deepEqual(
      report.variants.map((v) => [v.name, v.weight]),
      [
        ['v1', 95],
        ['v2', 5],
      ],
    );
    // The experiment file reached the router: the report carries its guardrails and drift settings.
    assert.ok(report.guardrails.length > 0, JSON.stringify(report.guardrails));
  });

  it("status shows each router replica's quarantined event-log lines, read through the Pod proxy", async function () {
    const router = (await runtime.status()).components.find((c) => c.name === 'router');
    assert.equal(router?.state, 'ready');
    assert.match(
      router?.detail ?? '',
      /^model-canary-router-0: 1 event-log lines quarantined \(.*\/quarantine\.jsonl\) — copy the log out and check it: `kubectl --context cluster -n mc-runtime cp model-canary-router-0:.*\/data \.\/model-canary-router-0-log`, then `model-canary log check \.\/model-canary-router-0-log`$/,
    );
  });

  it("feedback and labels need the ingest token on Kubernetes: refused without it (401, nothing recorded), accepted from label with the Secret's token", async function () {
    // A request the router served (its upstream is not reachable here: it answers 502 and logs it).
    const infer = await fetch(`http://${cluster!.address}:${port}/v2/models/propensity/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'u-ingest' },
      body: JSON.stringify({ inputs: [{ name: 'age', shape: [1], datatype: 'FP64', data: [41] }] }),
    });
    const requestId = infer.headers.get('x-request-id');
    assert.ok(requestId, `the router names the request (HTTP ${infer.status})`);
    const before = await runtime.report('propensity');
    const post = (body: object) =>
      kubeRequest(
        kc,
        CONTEXT,
        `/api/v1/namespaces/${NS}/services/model-canary-router:http/proxy/api/v1/experiments/propensity/labels`,
        {
          method: 'POST',
          contentType: 'application/json',
          body: JSON.stringify(body),
        },
      );
    const refused = await post({ requestId, label: 1 });
    assert.equal(refused.status, 401, refused.text);
    assert.match(refused.text, /missing ingest token for propensity/);
    const feedback = await kubeRequest(
      kc,
      CONTEXT,
      `/api/v1/namespaces/${NS}/services/model-canary-router:http/proxy/api/v1/experiments/propensity/feedback`,
      {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ requestId, metric: 'conversion', value: 1 }),
      },
    );
    assert.equal(feedback.status, 401, feedback.text);
    const after = await runtime.report('propensity');
    assert.deepEqual(
      JSON.stringify(after.variants.map((v) => v.feedback)),
      JSON.stringify(before.variants.map((v) => v.feedback)),
    );
    // The runtime reads the token from the Secret and sends it.
    const token = await runtime.ingestToken();
    assert.ok(token && token.length >= 16);
    assert.equal(fs.readFileSync(path.join(cluster!.paths.adminDir, 'ingest-token'), 'utf8'), token);
    const labelled = await postLabels(runtime, { experiment: 'propensity', requestId, label: '1' });
    assert.equal(labelled.accepted, 1);
  });

  it('the verbs scenario (partial split, promote candidate, roll back) leaves what it leaves on local processes', async function () {
    this.timeout(60_000);
    await runtime.setWeights('propensity', { v1: 95, v2: 5 });
    // The same steps and the same expectations as test/integration/verbParity.test.ts on local processes.
    assert.deepEqual(await scenarioThroughOperations(runtime), EXPECTED_STEPS);
  });

  it('setWeights changes the router ConfigMap and the router confirms the new split', async function () {
    await runtime.setWeights('propensity', { v1: 80, v2: 20 });
    const report = await runtime.report('propensity');
    assert.deepEqual(
      report.variants.map((v) => v.weight),
      [80, 20],
    );
    await assert.rejects(
      runtime.setWeights('nope', { v1: 1 }),
      /experiment nope is not deployed in cluster\/mc-runtime \(deployed: propensity\)/,
    );
  });

  it("rollout actions reach the router's controller through the service proxy with the namespace's admin token", async function () {
    const secret = await readLive<V1Secret>(kc, CONTEXT, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: stackNames().adminToken, namespace: NS },
    });
    assert.ok(secret?.data?.token, 'up created the admin-token Secret');
    const started = await runtime.rollout('propensity', 'start');
    assert.equal(started.state, 'Progressing', JSON.stringify(started));
    const paused = await runtime.rollout('propensity', 'pause');
    assert.equal(paused.state, 'Paused');
    const aborted = await runtime.rollout('propensity', 'abort');
    assert.equal(aborted.state, 'RolledBack', JSON.stringify(aborted));
    // A re-applied stack keeps the token: `up` never replaces it.
    await runtime.up();
    const again = await readLive<V1Secret>(kc, CONTEXT, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: stackNames().adminToken, namespace: NS },
    });
    assert.equal(again?.data?.token, secret.data.token);
    // A token the router does not hold is refused, and the error says so: the Secret changes and
    // the router's copy does not follow yet (a kubelet syncs a Secret volume only now and then).
    cluster!.holdSecret = true;
    await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${NS}/secrets/${stackNames().adminToken}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ stringData: { token: 'not-the-routers-token-at-all' } }),
    });
    await assert.rejects(runtime.rollout('propensity', 'start'), /refused .*HTTP 401.*wrong admin token/);
    await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${NS}/secrets/${stackNames().adminToken}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ data: { token: secret.data.token } }),
    });
    cluster!.holdSecret = false;
  });

  it('up adds an ingest token to a Secret made before there was one, and keeps its admin token', async function () {
    const read = () =>
      readLive<V1Secret>(kc, CONTEXT, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: stackNames().adminToken, namespace: NS },
      });
    const before = await read();
    cluster!.holdSecret = true;
    const removed = await kubeRequest(
      kc,
      CONTEXT,
      `/api/v1/namespaces/${NS}/secrets/${stackNames().adminToken}`,
      {
        method: 'PATCH',
        contentType: 'application/json-patch+json',
        body: JSON.stringify([{ op: 'remove', path: '/data/ingest-token' }]),
      },
    );
    assert.equal(removed.status, 200, removed.text);
    assert.equal((await read())?.data?.['ingest-token'], undefined);
    await runtime.up();
    const after = await read();
    assert.equal(after?.data?.token, before?.data?.token, 'the admin token is kept');
    assert.ok(after?.data?.['ingest-token'], 'a new ingest token');
    assert.notEqual(after?.data?.['ingest-token'], before?.data?.['ingest-token']);
    cluster!.holdSecret = false;
  });

  it('falls back to a port-forward to the router Pod when RBAC denies the service proxy', async function () {
    // A node for the router's Pod: the kubelet stand-in, running the kubelet's own port-forward code.
    standIn = await startKubeletStandIn(kc, CONTEXT, { dir: tmp, nodeName: 'runtime-node' });
    await standIn.createRunningPod(NS, 'model-canary-router-pf', port);
    await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${NS}/pods/model-canary-router-pf`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ metadata: { labels: routerSelector() } }),
    });
    // A user who may read the stack and port-forward, but not use services/proxy.
    const limited = await serviceAccountConfig(CONTEXT, NS, kc, 'no-proxy', [
      { apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'secrets'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
    ]);
    const viaForward = runtimeAs(limited, { stack: { router: { port } } });
    const report = await viaForward.report('propensity');
    assert.equal(report.experiment, 'propensity');
    assert.equal(viaForward.routerPath, 'port-forward');
    assert.match(fs.readFileSync(standIn.logFile, 'utf8'), /portForward\/mc-runtime\/model-canary-router-pf/);
    // Writes take the same way, with the admin token.
    const status = await viaForward.rollout('propensity', 'start');
    assert.equal(status.state, 'Progressing');
    await viaForward.rollout('propensity', 'abort');
    // Plain HTTP clients on this machine (the simulator) get a port-forwarded URL for a while.
    const connection = await viaForward.connect();
    assert.match(connection.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const live = await fetch(`${connection.url}/api/v1/experiments/propensity/weights`);
    assert.equal(live.status, 200);
    assert.equal(((await live.json()) as { experiment: string }).experiment, 'propensity');
    await connection.close();
    await assert.rejects(fetch(`${connection.url}/v2/health/live`), 'closed with the connection');
    // Without port-forward rights either, the error names both ways and what refused them.
    const neither = await serviceAccountConfig(CONTEXT, NS, kc, 'no-access', [
      { apiGroups: [''], resources: ['pods', 'configmaps', 'secrets'], verbs: ['get', 'list'] },
    ]);
    const blocked = runtimeAs(neither);
    await assert.rejects(
      blocked.report('propensity'),
      /cannot reach the router in cluster\/mc-runtime: the API server's service proxy failed \(HTTP 403: .*services\/proxy.*\), and so did a port-forward to Pod model-canary-router-pf: .*pods\/portforward/,
    );
  });

  it('deploy of the file without its shadow deletes the shadow model server once the route has no mirror', async function () {
    // A copy of the sample workspace whose experiment file has lost its mirror.
    const ws = path.join(tmp, 'ws');
    const skip = (p: string) =>
      /(^|\/)\./.test(path.relative(SAMPLE_MODELS, p)) || p.includes('/experiments/');
    fs.cpSync(SAMPLE_MODELS, ws, { recursive: true, filter: (p) => !skip(p) });
    const original = fs.readFileSync(path.join(SAMPLE_MODELS, 'experiments/propensity.yaml'), 'utf8');
    fs.writeFileSync(path.join(ws, 'experiments/propensity.yaml'), original.replace(/^\s+mirror:.*\n/m, ''));
    const deployer = runtimeAs(kc, { workspace: ws, stack: { router: { port }, paths: cluster!.paths } });
    progress.length = 0;
    const status = await deployer.deploy(path.join(ws, 'experiments/propensity.yaml'), {
      onProgress: (m) => progress.push(m),
    });
    const names = status.components.map((c) => c.name).sort();
    assert.deepEqual(names, ['propensity-v1', 'propensity-v2', 'router'], progress.join('\n'));
    assert.ok(progress.includes('deleting Deployment mc-runtime/propensity-v3: no longer in the plan'));
    assert.ok(
      progress.indexOf('routing /v2/models/propensity/infer') <
        progress.findIndex((m) => /^deleting/.test(m)),
    );
  });

  it('logs names the components when one has no Pod, and down removes the stack', async function () {
    await assert.rejects(runtime.logs('propensity-v1'), /propensity-v1 has no Pod/);
    await assert.rejects(runtime.logs('nope'), /no component "nope" .*choose one of: router, propensity-v1/);
    await runtime.down();
    const status = await runtime.status();
    assert.equal(status.up, false);
    assert.deepEqual(status.components, []);
  });
});
