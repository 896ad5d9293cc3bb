// The router in a Pod reads the experiment files through the API server: the experiments ConfigMap
// is also mounted, but a mounted ConfigMap changes only at the kubelet's next sync of the Pod, a
// minute or more after a deploy. A real kube-apiserver, the real router process, and no folder at the
// Pod's mount path: what the router knows of the experiment can only have come from the API server.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { applyObjects } from '../../src/kube';
import {
  buildStack,
  experimentFiles,
  experimentsConfigMap,
  routerConfigMap,
  stackNames,
  type ExperimentInput,
  type StackOptions,
} from '../../src/manifests';
import type { Report } from '../../src/shared/report';
import type { KubeApiServer } from '../harness/kubeApiServer';
import { freePort, routerKubeArgs } from '../harness/kubeRouterStandIn';
import { startRouter, type RunningRouter } from '../harness/router';
import { CONTEXT, startServingStackApi, type ServingStackApi } from '../harness/servingStackApi';

describe('the router reads its experiment files through the API server (real kube-apiserver)', function () {
  const ns = 'mc-files';
  const names = stackNames();
  let api: ServingStackApi | undefined;
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;
  let input: ExperimentInput;
  let stack: StackOptions;
  let config: { experiments: { experimentFile: string }[] } & Record<string, unknown>;
  let router: RunningRouter | undefined;

  before(async function () {
    api = await startServingStackApi();
    ({ server, kc, tmp, input } = api);
    stack = {
      namespace: ns,
      platform: 'remote',
      modelSource: { kind: 'http', baseUrl: 'https://models.example.com' },
      router: { bundle: api.bundle },
    };
    const objects = buildStack([input], stack) as KubernetesObject[];
    const at = objects.findIndex((o) => o.metadata?.name === names.routerConfig);
    config = parse((objects[at] as V1ConfigMap).data!['router.yaml']!);
    // The Pod's port and volumes, made this machine's; the experiment file keeps the Pod's path.
    config.listen = `127.0.0.1:${await freePort()}`;
    config.dataDir = path.join(tmp, 'router-data');
    config.adminTokenFile = path.join(tmp, 'admin-token');
    await fs.promises.writeFile(config.adminTokenFile as string, randomBytes(24).toString('hex'), {
      mode: 0o600,
    });
    // The ingest token the same Secret volume holds.
    config.ingestTokenFile = path.join(tmp, 'ingest-token');
    await fs.promises.writeFile(config.ingestTokenFile as string, randomBytes(24).toString('hex'), {
      mode: 0o600,
    });
    assert.match(
      config.experiments[0]!.experimentFile,
      /^\/etc\/model-canary\/experiments\/propensity\.yaml$/,
    );
    assert.ok(
      !fs.existsSync('/etc/model-canary/experiments'),
      'this test needs the Pod path to be absent here',
    );
    objects[at] = routerConfigMap(config as never, stack) as KubernetesObject;
    await applyObjects(kc, CONTEXT, objects);
  });

  after(async function () {
    await router?.stop();
    await api?.stop();
  });

  const routerArgs = async (withFiles: boolean): Promise<string[]> => [
    '--kube-configmap',
    `${ns}/${names.routerConfig}`,
    ...(withFiles
      ? [
          '--kube-experiments-configmap',
          `${ns}/${names.experiments}`,
          '--kube-experiments-dir',
          '/etc/model-canary/experiments',
        ]
      : []),
    ...(await routerKubeArgs(server, tmp)),
  ];
  const report = async (): Promise<Report> => {
    const res = await fetch(`${router!.url}/api/v1/experiments/propensity/report`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Report;
  };
  const latencyLimit = async (): Promise<number | undefined> =>
    (await report()).guardrails.find((g) => g.name === 'latencyP95Ms')?.limit;

  it('without --kube-experiments-configmap the router looks on the disk, and says which file it missed', async function () {
    await assert.rejects(
      startRouter(path.join(tmp, 'unused.yaml'), { cwd: tmp, args: await routerArgs(false) }),
      /experimentFile[\s\S]*\/etc\/model-canary\/experiments\/propensity\.yaml/,
    );
  });

  it('with it, the experiment file and its drift reference come from the ConfigMap', async function () {
    router = await startRouter(path.join(tmp, 'unused.yaml'), { cwd: tmp, args: await routerArgs(true) });
    const r = await report();
    assert.equal(await latencyLimit(), 50, router.output());
    // The drift reference, a second key of the ConfigMap, was read (an unreadable one stops the router).
    assert.match(r.drift?.reference ?? '', /propensity\.reference\.csv$/);
  });

  it('a changed experiment file applies at the next reload of the config, with no kubelet sync', async function () {
    const exp = input.experiment;
    const metrics = exp.spec.metrics;
    const edited = {
      ...input,
      experiment: {
        ...exp,
        spec: {
          ...exp.spec,
          metrics: { ...metrics, guardrails: { ...metrics.guardrails, latencyP95Ms: { max: 500 } } },
        },
      },
    };
    await applyObjects(kc, CONTEXT, [
      experimentsConfigMap(experimentFiles(edited), stack) as KubernetesObject,
    ]);
    // What a deploy does next: the router config again (here with the runtime's reload marker).
    const reloaded = routerConfigMap(config as never, stack) as V1ConfigMap;
    reloaded.data!['router.yaml'] += `# reload requested ${new Date().toISOString()}\n`;
    await applyObjects(kc, CONTEXT, [reloaded as KubernetesObject]);
    const deadline = Date.now() + 10_000;
    let limit = await latencyLimit();
    while (limit !== 500 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      limit = await latencyLimit();
    }
    assert.equal(limit, 500, router!.output());
  });
});
