import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseExperiment } from '../../src/core/spec/experiment';
import {
  assertPinned,
  buildStack,
  DEFAULT_IMAGES,
  dnsName,
  experimentFiles,
  isLabelValue,
  modelFileUrl,
  stackNames,
  type KubeObject,
} from '../../src/manifests';

import { input, kind, remote } from './manifestsFixture';

const byRef = (objects: KubeObject[]) => new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
type Pod = {
  initContainers?: { args?: string[]; image: string }[];
  containers: {
    image: string;
    command?: string[];
    env?: { name: string; value: string }[];
    volumeMounts?: Record<string, unknown>[];
  }[];
  volumes: Record<string, unknown>[];
};
const podOf = (o: KubeObject | undefined): Pod =>
  (o as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;

describe('stack manifests (pure builders)', () => {
  it('builds the namespace, the router (a StatefulSet) with its RBAC, config, Services and budget, and a server per variant and the shadow (autoscaling off on kind)', () => {
    const objects = buildStack([input], kind);
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Namespace/mc',
        'ServiceAccount/model-canary-router',
        'Role/model-canary-router',
        'RoleBinding/model-canary-router',
        'ConfigMap/model-canary-router-bundle',
        'ConfigMap/model-canary-experiments',
        'ConfigMap/model-canary-router-config',
        'Service/model-canary-router',
        'Service/model-canary-router-peers',
        'StatefulSet/model-canary-router',
        'PodDisruptionBudget/model-canary-router',
        'Deployment/propensity-v1',
        'Service/propensity-v1',
        'PodDisruptionBudget/propensity-v1',
        'Deployment/propensity-v2',
        'Service/propensity-v2',
        'PodDisruptionBudget/propensity-v2',
        'Deployment/propensity-v3',
        'Service/propensity-v3',
        'PodDisruptionBudget/propensity-v3',
      ],
    );
  });

  it('labels everything with app.kubernetes.io/* and modelcanary.dev/experiment', () => {
    for (const o of buildStack([input], kind)) {
      const l = o.metadata.labels ?? {};
      assert.equal(l['app.kubernetes.io/part-of'], 'model-canary', o.metadata.name);
      assert.equal(l['app.kubernetes.io/managed-by'], 'model-canary');
      assert.equal(l['app.kubernetes.io/instance'], 'model-canary');
      assert.ok(l['app.kubernetes.io/name'] && l['app.kubernetes.io/component']);
      assert.ok('modelcanary.dev/experiment' in l);
      for (const v of Object.values(l)) assert.ok(isLabelValue(v), v);
      const expected = o.metadata.name.startsWith('propensity-') ? 'propensity' : '';
      assert.equal(l['modelcanary.dev/experiment'], expected, `${o.kind}/${o.metadata.name}`);
    }
  });

  it('is deterministic: the same input gives the same objects (so re-applying changes nothing)', () => {
    assert.deepEqual(buildStack([input], remote), buildStack([input], remote));
  });

  it('runs MLServer (pinned sklearn image, one process) with V2 health probes and the model from the kind node mount', () => {
    const pod = podOf(byRef(buildStack([input], kind)).get('Deployment/propensity-v2'));
    const c = pod.containers[0]!;
    assert.equal(c.image, 'seldonio/mlserver:1.7.1-sklearn');
    assert.deepEqual(
      c.env?.find((e) => e.name === 'MLSERVER_PARALLEL_WORKERS'),
      { name: 'MLSERVER_PARALLEL_WORKERS', value: '0' },
    );
    // The docs promise one OpenMP thread per model server, in Pods as on local processes.
    assert.deepEqual(
      c.env?.find((e) => e.name === 'OMP_NUM_THREADS'),
      { name: 'OMP_NUM_THREADS', value: '1' },
    );
    assert.deepEqual(pod.volumes, [
      { name: 'model', hostPath: { path: '/models/models/propensity-v2', type: 'Directory' } },
    ]);
    assert.equal(pod.initContainers, undefined);
    const dep = byRef(buildStack([input], kind)).get('Deployment/propensity-v2') as unknown as {
      spec: {
        template: {
          spec: { containers: { readinessProbe: unknown; livenessProbe: unknown; resources: unknown }[] };
        };
      };
    };
    const main = dep.spec.template.spec.containers[0]!;
    assert.deepEqual(main.readinessProbe, {
      httpGet: { path: '/v2/health/ready', port: 'http' },
      periodSeconds: 5,
      failureThreshold: 3,
    });
    assert.deepEqual(main.livenessProbe, {
      httpGet: { path: '/v2/health/live', port: 'http' },
      periodSeconds: 10,
      failureThreshold: 3,
    });
    assert.ok(main.resources);
  });

  it('on a remote cluster fetches model-settings.json and the artifact over HTTPS into an emptyDir', () => {
    const pod = podOf(byRef(buildStack([input], remote)).get('Deployment/propensity-v1'));
    assert.deepEqual(pod.volumes, [{ name: 'model', emptyDir: { sizeLimit: '2Gi' } }]);
    const init = pod.initContainers![0]!;
    assert.equal(init.image, DEFAULT_IMAGES.fetcher);
    assert.deepEqual(init.args!.slice(-6), [
      '--output',
      'model-settings.json',
      'https://models.example.com/base/models/propensity-v1/model-settings.json',
      '--output',
      'model.joblib',
      'https://models.example.com/base/models/propensity-v1/model.joblib',
    ]);
  });

  it('refuses a remote stack without a model URI base, and URI bases that are not http(s)', () => {
    assert.throws(
      () => buildStack([input], { ...remote, modelSource: undefined }),
      /cannot see your workspace/,
    );
    assert.throws(() => modelFileUrl('s3://bucket', 'm', 'model.joblib'), /must be an http\(s\) URL/);
  });

  it('the router: Node image, bundle unpacked from a gzipped ConfigMap, watching its ConfigMap; NodePort on kind only', () => {
    const kindObjects = byRef(buildStack([input], kind));
    const pod = podOf(kindObjects.get('StatefulSet/model-canary-router'));
    assert.equal(pod.containers[0]!.image, DEFAULT_IMAGES.node);
    assert.deepEqual(pod.containers[0]!.command, [
      'node',
      '/opt/model-canary/router.js',
      '--kube-configmap',
      'mc/model-canary-router-config',
      '--kube-configmap-key',
      'router.yaml',
      '--kube-experiments-configmap',
      'mc/model-canary-experiments',
      '--kube-experiments-dir',
      '/etc/model-canary/experiments',
    ]);
    assert.equal(pod.initContainers?.[0]?.image, DEFAULT_IMAGES.node);
    const svc = (o: KubeObject | undefined) =>
      (o as unknown as { spec: { type: string; ports: { nodePort?: number }[] } }).spec;
    assert.equal(svc(kindObjects.get('Service/model-canary-router')).type, 'NodePort');
    assert.equal(svc(kindObjects.get('Service/model-canary-router')).ports[0]!.nodePort, 30090);
    assert.equal(
      svc(byRef(buildStack([input], remote)).get('Service/model-canary-router')).type,
      'ClusterIP',
    );
    const role = kindObjects.get('Role/model-canary-router') as unknown as { rules: unknown };
    assert.deepEqual(role.rules, [
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['model-canary-router-config', 'model-canary-experiments'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['model-canary-router-config'],
        verbs: ['update', 'patch'],
      },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['model-canary-router'],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
  });

  it('a configured router image replaces the bundle ConfigMap and the unpacking', () => {
    const objects = byRef(
      buildStack([input], { ...kind, router: { image: 'registry.example.com/model-canary-router:0.1.0' } }),
    );
    assert.equal(objects.get('ConfigMap/model-canary-router-bundle'), undefined);
    const pod = podOf(objects.get('StatefulSet/model-canary-router'));
    assert.equal(pod.containers[0]!.image, 'registry.example.com/model-canary-router:0.1.0');
    assert.equal(pod.initContainers, undefined);
    assert.throws(() => buildStack([input], { ...kind, router: { image: 'router:latest' } }), /not pinned/);
    assert.throws(() => buildStack([input], { ...kind, router: {} }), /router bundle/);
  });

  it('the router config routes each variant to its Service, with the weights of a plan, and its admin and ingest tokens from the mounted Secret', () => {
    const objects = byRef(buildStack([{ ...input, weights: { v1: 75, v2: 25 } }], remote));
    const cm = objects.get('ConfigMap/model-canary-router-config');
    const config = parse((cm!.data as Record<string, string>)['router.yaml']!);
    assert.equal(config.listen, '0.0.0.0:8090');
    assert.equal(config.grpcListen, '0.0.0.0:8091');
    const service = objects.get('Service/model-canary-router')!.spec as {
      ports: { name: string; port: number }[];
    };
    assert.deepEqual(
      service.ports.map((p) => [p.name, p.port]),
      [
        ['http', 8090],
        ['grpc', 8091],
      ],
    );
    // The token's value is never in the manifests: the config names the file the Secret provides.
    assert.equal(config.adminToken, undefined);
    assert.equal(config.adminTokenFile, '/etc/model-canary/admin/token');
    // The router listens beyond loopback: feedback and labels need the ingest token, from the same Secret.
    assert.equal(config.ingestToken, undefined);
    assert.equal(config.ingestTokenFile, '/etc/model-canary/admin/ingest-token');
    assert.equal(config.requireIngestToken, true);
    assert.ok(![...objects.keys()].some((k) => k.startsWith('Secret/')), 'no Secret among the stack objects');
    const pod = podOf(objects.get('StatefulSet/model-canary-router'));
    assert.deepEqual(
      pod.volumes.find((v) => v.name === 'admin'),
      { name: 'admin', secret: { secretName: 'model-canary-router-admin', defaultMode: 0o440 } },
    );
    assert.deepEqual(
      pod.containers[0]!.volumeMounts?.find((m) => m.name === 'admin'),
      { name: 'admin', mountPath: '/etc/model-canary/admin', readOnly: true },
    );
    // Alert webhooks (docs/alerts.md): an optional Secret the user makes, named by the config.
    assert.deepEqual(config.alerts, { secretsFile: '/etc/model-canary/alerts/alerts.yaml' });
    assert.deepEqual(
      pod.volumes.find((v) => v.name === 'alerts'),
      {
        name: 'alerts',
        secret: { secretName: 'model-canary-router-alerts', defaultMode: 0o440, optional: true },
      },
    );
    assert.deepEqual(
      pod.containers[0]!.volumeMounts?.find((m) => m.name === 'alerts'),
      { name: 'alerts', mountPath: '/etc/model-canary/alerts', readOnly: true },
    );
    assert.deepEqual(config.experiments[0].variants, [
      {
        name: 'v1',
        url: 'http://propensity-v1.mc.svc:8080',
        grpc: 'propensity-v1.mc.svc:8081',
        model: 'propensity-v1',
        weight: 75,
        role: 'baseline',
      },
      {
        name: 'v2',
        url: 'http://propensity-v2.mc.svc:8080',
        grpc: 'propensity-v2.mc.svc:8081',
        model: 'propensity-v2',
        weight: 25,
        role: 'candidate',
      },
    ]);
    assert.equal(config.experiments[0].mirror.url, 'http://propensity-v3.mc.svc:8080');
    assert.equal(config.experiments[0].experimentFile, '/etc/model-canary/experiments/propensity.yaml');
  });

  it('copies the experiment file with its drift reference renamed beside it; the copy parses', () => {
    const files = experimentFiles(input);
    assert.deepEqual(Object.keys(files).sort(), ['propensity.reference.csv', 'propensity.yaml']);
    const copy = parseExperiment(files['propensity.yaml']!, 'propensity.yaml');
    assert.equal(copy.spec.drift?.reference, 'propensity.reference.csv');
    assert.equal(copy.spec.variants[1]?.weight, 5, 'routing weights live in the router config, not here');
    // The local environment's MLServer processes: on the stack each arm counts one replica.
    const sized = { ...input.experiment, spec: { ...input.experiment.spec, serving: { workers: 8 } } };
    const sizedCopy = experimentFiles({ ...input, experiment: sized })['propensity.yaml']!;
    assert.equal(parseExperiment(sizedCopy, 'propensity.yaml').spec.serving, undefined);
    assert.deepEqual(Object.keys(experimentFiles({ ...input, referenceCsv: undefined })), [
      'propensity.yaml',
    ]);
  });

  it('names: DNS-1035 labels, shortened with a hash when needed', () => {
    assert.equal(dnsName(['propensity', 'v1']), 'propensity-v1');
    assert.equal(dnsName(['My_Model.v2']), 'my-model-v2-' + dnsName(['My_Model.v2']).slice(-6));
    assert.match(dnsName(['1st']), /^m-1st-[0-9a-f]{6}$/);
    const long = dnsName(['a'.repeat(60), 'b'.repeat(60)]);
    assert.equal(long.length, 63);
    assert.notEqual(long, dnsName(['a'.repeat(60), 'c'.repeat(60)]));
    assert.deepEqual(stackNames('demo'), {
      router: 'demo-router',
      routerConfig: 'demo-router-config',
      experiments: 'demo-experiments',
      bundle: 'demo-router-bundle',
      data: 'demo-router-data',
      adminToken: 'demo-router-admin',
      alertSecrets: 'demo-router-alerts',
      routerPeers: 'demo-router-peers',
      adapter: 'demo-prometheus-adapter',
    });
  });

  it('images are pinned: tags or digests, never :latest', () => {
    for (const image of Object.values(DEFAULT_IMAGES)) assertPinned(image, 'default');
    assert.throws(() => assertPinned('seldonio/mlserver', 'MLServer'), /not pinned/);
    assert.throws(() => assertPinned('seldonio/mlserver:latest', 'MLServer'), /not pinned/);
    assertPinned('localhost:5000/router@sha256:' + 'a'.repeat(64), 'router');
    assert.throws(() => assertPinned('localhost:5000/router', 'router'), /not pinned/);
  });
});
