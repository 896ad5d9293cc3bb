// The router's replicas, retention-sized volumes, autoscalers, budgets and prometheus-adapter,
// as the stack builds them (pure; test/integration/kubeStack.apply.test.ts applies them).
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  adapterRules,
  buildStack,
  eventLogVolume,
  type KubeObject,
  type StackOptions,
} from '../../src/manifests';
import { METRICS } from '../../src/shared/metricNames';
import { input, kind, remote } from './manifestsFixture';

// The objects are plain JSON here, read by path as a reader of the YAML would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const find = (objects: KubeObject[], kindName: string, name: string): Loose => {
  const o = objects.find((x) => x.kind === kindName && x.metadata.name === name);
  assert.ok(o, `${kindName}/${name} is in the stack`);
  return o as Loose;
};
const refs = (objects: KubeObject[], k: string) =>
  objects.filter((o) => o.kind === k).map((o) => o.metadata.name);
const MIB = 1024 ** 2;

describe('stack manifests: replicas, retention and autoscaling', () => {
  it('runs the router as a StatefulSet: 2 replicas on remote clusters, 1 on kind, Parallel, rolling updates, a claim per replica', () => {
    const sts = find(
      buildStack([input], { ...remote, autoscaling: { mode: 'off' } }),
      'StatefulSet',
      'model-canary-router',
    );
    assert.equal(sts.spec.replicas, 2);
    assert.equal(find(buildStack([input], kind), 'StatefulSet', 'model-canary-router').spec.replicas, 1);
    assert.equal(sts.spec.podManagementPolicy, 'Parallel');
    assert.equal(sts.spec.updateStrategy.type, 'RollingUpdate');
    assert.equal(sts.spec.serviceName, 'model-canary-router-peers');
    assert.deepEqual(
      sts.spec.volumeClaimTemplates.map((t: Loose) => [t.metadata.name, t.spec.accessModes]),
      [['data', ['ReadWriteOnce']]],
    );
    const pod = sts.spec.template.spec;
    assert.deepEqual(
      pod.containers[0].volumeMounts.find((m: Loose) => m.name === 'data'),
      { name: 'data', mountPath: '/var/lib/model-canary' },
    );
    assert.ok(!pod.volumes.some((v: Loose) => v.name === 'data'), 'the claim template provides the volume');
    assert.deepEqual(pod.containers[0].env, [
      { name: 'MODEL_CANARY_REPLICA', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'MODEL_CANARY_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
    // SIGTERM after the preStop pause (5 s), then a drain of up to shutdownMs (10 s) and the fsync.
    assert.equal(pod.terminationGracePeriodSeconds, 30);
    assert.deepEqual(pod.containers[0].lifecycle.preStop.exec.command, [
      'node',
      '-e',
      'setTimeout(() => {}, 5000)',
    ]);
    assert.deepEqual(
      pod.topologySpreadConstraints.map((c: Loose) => [c.topologyKey, c.whenUnsatisfiable]),
      [
        ['kubernetes.io/hostname', 'ScheduleAnyway'],
        ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
      ],
    );
    assert.equal(pod.containers[0].readinessProbe.httpGet.path, '/v2/health/ready');
    assert.throws(
      () => buildStack([input], { ...remote, router: { ...remote.router, replicas: 0 } }),
      /router replicas must be a whole number of at least 1, got 0/,
    );
  });

  it('the peers Service is headless, publishes ready Pods only and names port http', () => {
    const peers = find(buildStack([input], remote), 'Service', 'model-canary-router-peers');
    assert.equal(peers.spec.clusterIP, 'None');
    assert.equal(peers.spec.publishNotReadyAddresses, false);
    assert.deepEqual(peers.spec.ports, [{ name: 'http', port: 8090, targetPort: 'http', protocol: 'TCP' }]);
    assert.deepEqual(
      peers.spec.selector,
      find(buildStack([input], remote), 'StatefulSet', 'model-canary-router').spec.selector.matchLabels,
    );
  });

  it('sizes each replica volume from retention: min(maxBytes, days × req/s × 86 400 × 0.7 KB) × 1.25 + one 64 MiB segment', () => {
    // Defaults: 7 days at 10 req/s is 4.2 GB, over 1 GiB, so 1 GiB is kept: 1.25 GiB + 64 MiB.
    assert.equal(eventLogVolume(remote).size, '1344Mi');
    assert.equal(eventLogVolume(remote).keptBytes, 1024 ** 3);
    // 7 days at 0.5 req/s: 211 680 000 bytes kept → 264 600 000 + 67 108 864 = 316.3 MiB → 317Mi.
    const slow: StackOptions = { ...remote, router: { ...remote.router, expectedRps: 0.5 } };
    assert.equal(eventLogVolume(slow).keptBytes, 211_680_000);
    assert.equal(eventLogVolume(slow).size, '317Mi');
    const sts = find(buildStack([input], slow), 'StatefulSet', 'model-canary-router');
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '317Mi');
    // An explicit size wins.
    const sized = find(
      buildStack([input], { ...remote, router: { ...remote.router, storage: { size: '5Gi' } } }),
      'StatefulSet',
      'model-canary-router',
    );
    assert.equal(sized.spec.volumeClaimTemplates[0].spec.resources.requests.storage, '5Gi');
    // The router compacts by the same numbers.
    const config = parse(
      find(buildStack([input], slow), 'ConfigMap', 'model-canary-router-config').data['router.yaml'],
    );
    assert.deepEqual(config.eventLog, { retention: { maxAgeDays: 7, maxBytes: 1024 ** 3 } });
    assert.throws(
      () => eventLogVolume({ ...remote, router: { retention: { maxBytes: MIB } } }),
      /retention maxBytes must be at least one log segment/,
    );
    assert.throws(
      () => eventLogVolume({ ...remote, router: { expectedRps: -1 } }),
      /expected request rate must be a positive number/,
    );
  });

  it('autoscaling defaults: CPU HPAs on remote clusters (replicas left to them), none on kind', () => {
    const objects = buildStack([input], remote);
    assert.deepEqual(refs(objects, 'HorizontalPodAutoscaler'), [
      'model-canary-router',
      'propensity-v1',
      'propensity-v2',
      'propensity-v3',
    ]);
    const router = find(objects, 'HorizontalPodAutoscaler', 'model-canary-router');
    assert.deepEqual(router.spec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: 'model-canary-router',
    });
    assert.equal(router.spec.minReplicas, 2);
    assert.equal(router.spec.maxReplicas, 6);
    assert.deepEqual(router.spec.metrics, [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ]);
    assert.equal(find(objects, 'StatefulSet', 'model-canary-router').spec.replicas, undefined);
    assert.equal(find(objects, 'Deployment', 'propensity-v1').spec.replicas, undefined);
    const v1 = find(objects, 'HorizontalPodAutoscaler', 'propensity-v1');
    assert.deepEqual(
      [v1.spec.scaleTargetRef.kind, v1.spec.minReplicas, v1.spec.maxReplicas],
      ['Deployment', 1, 5],
    );
    assert.deepEqual(refs(buildStack([input], kind), 'HorizontalPodAutoscaler'), []);
    assert.equal(find(buildStack([input], kind), 'Deployment', 'propensity-v1').spec.replicas, 1);
    assert.throws(
      () => buildStack([input], { ...remote, autoscaling: { mode: 'memory' as never } }),
      /autoscaling must be requests, cpu or off, got "memory"/,
    );
    assert.throws(
      () => buildStack([input], { ...remote, autoscaling: { maxRouterReplicas: 1 } }),
      /model-canary-router can scale to 1 replicas, fewer than its 2/,
    );
  });

  it('autoscaling on requests: the router per Pod (Pods metric), each model server per its variant (External, AverageValue), with prometheus-adapter', () => {
    const objects = buildStack([input], { ...remote, autoscaling: { mode: 'requests' } });
    assert.deepEqual(find(objects, 'HorizontalPodAutoscaler', 'model-canary-router').spec.metrics, [
      {
        type: 'Pods',
        pods: {
          metric: { name: 'model_canary_requests_per_second' },
          target: { type: 'AverageValue', averageValue: '200' },
        },
      },
    ]);
    assert.deepEqual(find(objects, 'HorizontalPodAutoscaler', 'propensity-v2').spec.metrics, [
      {
        type: 'External',
        external: {
          metric: {
            name: 'model_canary_variant_requests_per_second',
            selector: { matchLabels: { experiment: 'propensity', variant: 'v2' } },
          },
          target: { type: 'AverageValue', averageValue: '50' },
        },
      },
    ]);
    // The shadow is fed by the router's mirror: its own counter.
    assert.equal(
      find(objects, 'HorizontalPodAutoscaler', 'propensity-v3').spec.metrics[0].external.metric.name,
      'model_canary_shadow_requests_per_second',
    );
    assert.deepEqual(
      objects
        .filter((o) => o.metadata.name.includes('prometheus-adapter') || o.kind === 'APIService')
        .map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'ServiceAccount/model-canary-prometheus-adapter',
        'ClusterRole/mc-model-canary-prometheus-adapter',
        'ClusterRoleBinding/mc-model-canary-prometheus-adapter',
        'ClusterRoleBinding/mc-model-canary-prometheus-adapter-auth-delegator',
        'RoleBinding/mc-model-canary-prometheus-adapter',
        'ConfigMap/model-canary-prometheus-adapter',
        'Deployment/model-canary-prometheus-adapter',
        'Service/model-canary-prometheus-adapter',
        'APIService/v1beta1.custom.metrics.k8s.io',
        'APIService/v1beta1.external.metrics.k8s.io',
      ],
    );
    const rules = parse(find(objects, 'ConfigMap', 'model-canary-prometheus-adapter').data['config.yaml']);
    assert.deepEqual(rules, adapterRules());
    // An adapter already in the cluster gets the rules only.
    const existing = buildStack([input], {
      ...remote,
      autoscaling: { mode: 'requests', adapter: 'existing' },
    });
    assert.deepEqual(refs(existing, 'APIService'), []);
    assert.deepEqual(
      existing.filter((o) => o.metadata.name.includes('prometheus-adapter')).map((o) => o.kind),
      ['ConfigMap'],
    );
  });

  it("the adapter's rules turn the router's request counters into rates per Pod and per variant", () => {
    const { rules, externalRules } = adapterRules();
    assert.deepEqual(rules, [
      {
        seriesQuery: `${METRICS.requests}{namespace!="",pod!=""}`,
        resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
        name: { matches: `^${METRICS.requests}$`, as: 'model_canary_requests_per_second' },
        metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)',
      },
    ]);
    assert.deepEqual(
      externalRules.map((r) => [r.seriesQuery, r.name.as, r.metricsQuery]),
      [
        [
          `${METRICS.requests}{namespace!="",experiment!="",variant!=""}`,
          'model_canary_variant_requests_per_second',
          'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (experiment, variant)',
        ],
        [
          `${METRICS.shadowRequests}{namespace!="",experiment!="",variant!=""}`,
          'model_canary_shadow_requests_per_second',
          'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (experiment, variant)',
        ],
      ],
    );
  });

  it('a PodDisruptionBudget of one Pod at a time for the router and each model server', () => {
    const objects = buildStack([input], remote);
    for (const name of ['model-canary-router', 'propensity-v1', 'propensity-v3']) {
      const pdb = find(objects, 'PodDisruptionBudget', name);
      assert.equal(pdb.spec.maxUnavailable, 1);
      const workload = objects.find(
        (o) => o.metadata.name === name && (o.kind === 'Deployment' || o.kind === 'StatefulSet'),
      ) as Loose;
      assert.deepEqual(pdb.spec.selector.matchLabels, workload.spec.selector.matchLabels);
    }
  });
});
