import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Report } from '../../src/shared/report';
import { routerPaths } from '../../src/shared/routerApi';
import { until, type ClusterCli } from '../harness/clusterCli';
import {
  dashboardShowsData,
  inferThroughRouter,
  shareOf,
  simulate,
  type InferReply,
} from '../harness/clusterSteps';
import { LOCAL_CLUSTER, loadImages } from '../harness/kindNode';
import { kubectl, podsOf, stackImages, variantLogs, waitForReadyPods } from '../harness/kindPods';
import { kindBinary } from '../harness/tools';
import { session as s } from './session';

// The Kubernetes loop on a real kind cluster made from the offline node image, through the
// built CLI (the README's kind walkthrough; promotion is 2-promote.test.ts). Real Pods: the
// router and three MLServer model servers, reached from the host only through ports kind
// publishes on 127.0.0.1.
/** The last errors the router recorded, by variant, for a failure's message (read from its event log in the Pod). */
function routerErrors(kubeconfig: string, context: string): string {
  try {
    const pod = kubectl(kubeconfig, context, [
      'get',
      'pods',
      '-n',
      'model-canary',
      '-l',
      'app.kubernetes.io/component=router',
      '-o',
      'jsonpath={.items[0].metadata.name}',
    ]).trim();
    const lines = kubectl(kubeconfig, context, [
      'exec',
      '-n',
      'model-canary',
      pod,
      '--',
      'sh',
      '-c',
      'cat /var/lib/model-canary/data/events-*.jsonl /var/lib/model-canary/events-*.jsonl 2>/dev/null | grep \'"error"\' | tail -20',
    ]);
    return `      the router's last recorded errors:\n${lines}`;
  } catch (err) {
    return `      (the router's errors could not be read: ${String(err).split('\n')[0]})`;
  }
}

describe('the Kubernetes loop on a real kind cluster (offline node image)', function () {
  const LOCAL = s.local;
  let cli: ClusterCli;
  let port: number;
  let ws: string;
  let kubeconfig: string;
  let image: string;
  const local = () => s.localArgs();

  before(() => {
    ({ cli, port, ws, kubeconfig, image } = s);
  });

  it('the doctor passes', async () => {
    const res = await cli.run(['doctor', '--json', '--port', String(port), '--kind', kindBinary()]);
    const findings = (
      JSON.parse(res.stdout) as { findings: { id: string; status: string; detail: string }[] }
    ).findings;
    const bad = findings.filter((f) => f.status === 'error');
    assert.deepEqual(bad, [], JSON.stringify(findings, null, 2));
  });

  it('Create kind Cluster: the workspace mounted, the API server and the router port on 127.0.0.1', async function () {
    this.timeout(600_000);
    const res = await cli.run([
      'cluster',
      'create',
      '--workspace',
      ws,
      '--port',
      String(port),
      '--image',
      image,
      '--kind',
      kindBinary(),
      '--json',
    ]);
    const created = JSON.parse(res.stdout) as { context: string; image: string };
    assert.equal(created.context, LOCAL);
    const kc = parse(await readFile(kubeconfig, 'utf8')) as {
      clusters: { name: string; cluster: { server: string } }[];
    };
    const server = kc.clusters.find((c) => c.name === LOCAL)?.cluster.server ?? '';
    assert.match(server, /^https:\/\/127\.0\.0\.1:\d+$/, 'the API server is published on 127.0.0.1 only');
    const status = JSON.parse(
      (await cli.run(['cluster', 'status', '--json', '--kind', kindBinary()])).stdout,
    ) as {
      exists: boolean;
    };
    assert.equal(status.exists, true);
    loadImages(LOCAL_CLUSTER, stackImages());
  });

  it('up and deploy: the router and the model servers become Ready Pods', async function () {
    this.timeout(600_000);
    await cli.run(['up', ...local()]);
    await cli.run(['deploy', join(ws, 'experiments/propensity.yaml'), ...local()]);
    const pods = await waitForReadyPods(kubeconfig, LOCAL, 'model-canary', 4, 480_000);
    assert.ok(
      pods.some((p) => p.startsWith('model-canary-router')),
      pods.join(', '),
    );
  });

  it('V2 requests through the router on 127.0.0.1 reach the MLServer Pods', async function () {
    this.timeout(120_000);
    // The router sees a model server ready within its health-check period after the Pod is.
    let last: InferReply | undefined;
    const reply = await until(
      () =>
        `a 200 from the router (last: ${JSON.stringify(last)})\n${routerErrors(kubeconfig, LOCAL)}\n` +
        variantLogs(kubeconfig, LOCAL, 'model-canary', last?.variant || 'v2'),
      async () => {
        last = await inferThroughRouter(port);
        return last.status === 200 ? last : undefined;
      },
      90_000,
      1000,
    );
    assert.ok(['v1', 'v2'].includes(reply.variant), JSON.stringify(reply));
    assert.equal(reply.outputs > 0, true, 'the model server answered with outputs');
  });

  it('simulated traffic: the report through the API server has split, SRM, A/B, drift and shadow', async function () {
    this.timeout(600_000);
    await simulate(cli, local(), 3000, ['--drift', 'basket_value=shift:+60']);
    const report = await cli.report(LOCAL, port);
    const total = report.variants.reduce((n, v) => n + v.requests, 0);
    assert.ok(total >= 2900, `requests ${total}`);
    assert.ok(Math.abs(shareOf(report, 'v2') - 0.05) < 0.03, `v2 share ${shareOf(report, 'v2')}`);
    assert.ok(report.srm.pValue > 0.001, `SRM p ${report.srm.pValue}`);
    assert.ok(
      report.comparisons.some((c) => c.variant === 'v2'),
      'an A/B comparison of v2',
    );
    assert.ok(
      report.drift?.features.some((f) => f.name === 'basket_value' && f.drift),
      'the injected drift of basket_value',
    );
    assert.ok((report.shadow?.requests ?? 0) > 0, 'shadow traffic to v3');
    // The same report through the API server's service proxy (how remote contexts reach the router).
    const proxied = JSON.parse(
      kubectl(kubeconfig, LOCAL, [
        'get',
        '--raw',
        `/api/v1/namespaces/model-canary/services/model-canary-router:http/proxy${routerPaths.report('propensity')}`,
      ]),
    ) as Report;
    assert.equal(
      proxied.variants.reduce((n, v) => n + v.requests, 0),
      total,
      'the proxied report counts the same requests',
    );
  });

  it("gRPC on kind: status names the router's gRPC port on 127.0.0.1, and gRPC traffic lands in the report", async function () {
    this.timeout(300_000);
    const status = JSON.parse((await cli.run(['status', '--json', ...local()])).stdout) as {
      routerGrpc?: string;
    };
    assert.equal(status.routerGrpc, `127.0.0.1:${port + 1}`, JSON.stringify(status));
    const before = await cli.report(LOCAL, port);
    await simulate(cli, local(), 300, ['--protocol', 'grpc']);
    const after = await cli.report(LOCAL, port);
    const grpc = (r: Report): number => r.variants.reduce((n, v) => n + (v.grpcRequests ?? 0), 0);
    assert.ok(grpc(after) - grpc(before) >= 290, `gRPC requests ${grpc(before)} → ${grpc(after)}`);
  });

  it('the dashboard served from the cluster shows data in every chart (Chromium)', async function () {
    this.timeout(180_000);
    const res = await cli.run(['dashboard', 'propensity', '--json', ...local()]);
    const { url } = JSON.parse(res.stdout) as { url: string };
    assert.match(url, /^http:\/\/127\.0\.0\.1:/);
    const charts = await dashboardShowsData(url);
    assert.ok(charts.length >= 3, `charts: ${charts.map((c) => c.kind).join(', ')}`);
    for (const c of charts)
      assert.ok(c.painted > 0 && c.series.some((n) => n > 0), `${c.kind} shows no data`);
  });

  it('a weight change through the ConfigMap moves the observed split', async function () {
    this.timeout(600_000);
    const before = await cli.report(LOCAL, port);
    await cli.run(['split', 'propensity', 'v1=50', 'v2=50', ...local()]);
    const cm = JSON.parse(
      kubectl(kubeconfig, LOCAL, [
        'get',
        'configmap',
        '-n',
        'model-canary',
        '-o',
        'json',
        'model-canary-router-config',
      ]),
    ) as {
      data: Record<string, string>;
    };
    assert.match(Object.values(cm.data).join('\n'), /v2[\s\S]*50/, 'the ConfigMap carries the new weights');
    await simulate(cli, local(), 2000, []);
    const after = await cli.report(LOCAL, port);
    const newV2 =
      (after.variants.find((v) => v.name === 'v2')?.requests ?? 0) -
      (before.variants.find((v) => v.name === 'v2')?.requests ?? 0);
    const newAll =
      after.variants.reduce((n, v) => n + v.requests, 0) -
      before.variants.reduce((n, v) => n + v.requests, 0);
    assert.ok(Math.abs(newV2 / newAll - 0.5) < 0.08, `v2 got ${newV2} of ${newAll} new requests`);
  });

  it('an automatic rollout reaches 100%', async function () {
    this.timeout(900_000);
    await cli.run(['split', 'propensity', 'v1=95', 'v2=5', ...local()]);
    await cli.run([
      'rollout',
      'start',
      'propensity',
      '--candidate',
      'v2',
      '--min-samples',
      '100',
      '--min-step-seconds',
      '1',
      ...local(),
    ]);
    // Passes over the dataset's 4,000 distinct users while the report is polled: replaying the
    // same users in short runs would make the request-level sample-ratio check see them again and
    // again. (--min-samples is per arm: 100 of v2 at 5% is about 2,000 requests.)
    let done: Report | undefined;
    for (let pass = 0; pass < 3 && !done; pass++) {
      let finished = false;
      const traffic = simulate(cli, local(), 4000, []).finally(() => (finished = true));
      done = await until(
        'the rollout to end, or this pass of traffic',
        async () => {
          const r = await cli.report(LOCAL, port);
          const state = r.rollout?.state ?? '';
          if (['Succeeded', 'RolledBack', 'Failed', 'Paused'].includes(state)) return r;
          return finished ? null : undefined;
        },
        600_000,
        3000,
      ).then((r) => r ?? undefined);
      await traffic;
    }
    if (done && done.rollout?.state !== 'Succeeded') console.log(routerErrors(kubeconfig, LOCAL));
    assert.ok(done, 'the rollout did not end after three passes of traffic');
    assert.equal(done.rollout?.state, 'Succeeded', `rollout ${done.rollout?.state}: ${done.rollout?.reason}`);
    assert.equal(done.variants.find((v) => v.name === 'v2')?.weight, 100);
  });

  it('a deleted model-server Pod shows as errors of its variant, then recovers', async function () {
    this.timeout(600_000);
    const before = await cli.report(LOCAL, port);
    const errorsBefore = before.variants.find((v) => v.name === 'v2')?.errors ?? 0;
    const v2Pods = podsOf(kubeconfig, LOCAL, 'model-canary', 'v2');
    assert.ok(v2Pods.length > 0, 'a Pod serves propensity-v2');
    kubectl(kubeconfig, LOCAL, ['delete', 'pod', '-n', 'model-canary', '--wait=false', ...v2Pods]);
    await simulate(cli, local(), 400, [], true);
    const during = await cli.report(LOCAL, port);
    assert.ok(
      (during.variants.find((v) => v.name === 'v2')?.errors ?? 0) > errorsBefore,
      'errors of v2 while its Pod is gone',
    );
    await waitForReadyPods(kubeconfig, LOCAL, 'model-canary', 4, 300_000);
    const reply = await until(
      'v2 to answer again',
      async () => {
        const r = await inferThroughRouter(port, 'v2');
        return r.status === 200 ? r : undefined;
      },
      240_000,
    );
    assert.equal(reply.variant, 'v2');
  });
  it('two router replicas: one merged report through the Service, read from either, with both logs in it', async function () {
    this.timeout(900_000);
    const raw = (path: string) => JSON.parse(kubectl(kubeconfig, LOCAL, ['get', '--raw', path])) as unknown;
    const viaService = (path: string) =>
      raw(`/api/v1/namespaces/model-canary/services/model-canary-router:http/proxy${path}`);
    const requests = (r: Report) => r.variants.reduce((n, v) => n + v.requests, 0);
    await cli.run(['up', '--router-replicas', '2', ...local()]);
    const routers = await until(
      'two Ready router Pods',
      async () => {
        const ready = (await waitForReadyPods(kubeconfig, LOCAL, 'model-canary', 5, 300_000)).filter((p) =>
          p.startsWith('model-canary-router-'),
        );
        return ready.length === 2 ? ready : undefined;
      },
      300_000,
    );
    const leader = await until(
      'a leader',
      async () => {
        const l = viaService('/api/v1/leader') as { leader: string | null };
        return l.leader ?? undefined;
      },
      120_000,
    );
    assert.ok(routers.includes(leader), `${leader} leads, one of ${routers.join(', ')}`);
    const before = requests(await cli.report(LOCAL, port));
    await simulate(cli, local(), 600, []);
    // The leader pulls every replica's log a few times a second: the merged report catches up.
    const merged = await until(
      () => `the merged report to count the 600 new requests (before: ${before})`,
      async () => {
        const r = viaService(routerPaths.report('propensity')) as Report;
        return requests(r) >= before + 600 && r.replicas?.length === 2 ? r : undefined;
      },
      120_000,
      2000,
    );
    assert.ok(
      merged.replicas!.every((r) => r.reachable),
      JSON.stringify(merged.replicas),
    );
    // Each replica's own log: the Service spread the traffic, and together they are the merged report.
    const locals = routers.map(
      (pod) =>
        raw(
          `/api/v1/namespaces/model-canary/pods/${pod}:8090/proxy${routerPaths.report('propensity')}?local=1`,
        ) as Report,
    );
    assert.ok(
      locals.every((r) => requests(r) > 0),
      `each replica served some: ${locals.map(requests).join(', ')}`,
    );
    assert.equal(
      locals.reduce((n, r) => n + requests(r), 0),
      requests(merged),
      'the merged report counts each request of each log once',
    );
    // A redeploy: its new run reaches one replica through the Service and the other through the
    // ConfigMap (runs.json); the merged report of the new run counts both replicas' requests.
    await cli.run(['deploy', join(ws, 'experiments/propensity.yaml'), ...local()]);
    const ownPath = (pod: string, path: string) =>
      `/api/v1/namespaces/model-canary/pods/${pod}:8090/proxy${routerPaths.report('propensity').replace(/\/report$/, path)}`;
    const run = await until(
      'both replicas in the new run',
      async () => {
        const current = routers.map(
          (pod) => (raw(ownPath(pod, '/runs')) as { current: string | null }).current,
        );
        return current[0] && current[0] !== merged.run?.id && current.every((c) => c === current[0])
          ? current[0]
          : undefined;
      },
      60_000,
      500,
    );
    await simulate(cli, local(), 400, []);
    const redeployed = await until(
      'the merged report of the new run to count its 400 requests',
      async () => {
        const r = viaService(routerPaths.report('propensity')) as Report;
        return r.run?.id === run && requests(r) >= 400 ? r : undefined;
      },
      120_000,
      2000,
    );
    const own = routers.map((pod) => requests(raw(`${ownPath(pod, '/report')}?local=1`) as Report));
    assert.ok(
      own.every((n) => n > 0),
      `each replica served some of the new run: ${own.join(', ')}`,
    );
    assert.equal(
      own.reduce((n, x) => n + x, 0),
      requests(redeployed),
      "the new run's merged report counts both replicas' requests",
    );
    // Back to one replica for the files after this one (an `up` without the flag keeps two).
    await cli.run(['up', '--router-replicas', '1', ...local()]);
  });
});
