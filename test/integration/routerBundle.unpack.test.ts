import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { ROUTER_CONFIG_KEY, type KubeObject } from '../../src/manifests';
import { readRouterBundle } from '../../src/runtime/routerBundle';
import { DASHBOARD_ASSET_TYPES, ROUTER_APP_FILES } from '../../src/shared/routerFiles';
import { stackImageNames } from '../../tools/images/names';
import {
  docker,
  dockerRunArgs,
  podSpecOf,
  requireDockerImages,
  runAsPod,
  waitReady,
  type PodSpec,
  type RunningContainer,
} from '../harness/containers';
import { ROUTER_BUNDLE, ensureRouterBuilt, startRouter, type RunningRouter } from '../harness/router';
import { objectOf, sampleKindStack } from '../harness/sampleStack';

const execNode = promisify(execFile);

// The default path of the manifests, without a router image: the bundle ConfigMap (router.js and
// the dashboard's assets, gzipped) written out as the kubelet writes a ConfigMap volume, the init
// container's own script unpacking it into the `app` folder, and the router container's command
// run from there. First with this machine's node and temp folders; then, where Docker answers,
// as containers of the manifests' Node image sharing the `app` folder like the Pod's emptyDir.
describe('the router bundle ConfigMap unpacked by the init container serves the dashboard', function () {
  let tmp: string;
  let objects: KubeObject[];
  let pod: PodSpec;
  const running: { stop(): Promise<unknown> }[] = [];

  const dirOf = (name: string) => join(tmp, name);
  const mountOf = (container: PodSpec['containers'][number], volume: string) =>
    container.volumeMounts!.find((m) => m.name === volume)!.mountPath;

  before(async function () {
    ensureRouterBuilt();
    tmp = await mkdtemp(join(tmpdir(), 'mc-unpack-'));
    for (const d of ['bundle', 'app', 'data', 'experiments', 'admin', 'alerts', 'config'])
      await mkdir(dirOf(d), { mode: 0o755 });
    await chmod(dirOf('app'), 0o777); // an emptyDir of a Pod with fsGroup: writable by user 1000
    await chmod(dirOf('data'), 0o777);
    objects = await sampleKindStack({ bundle: await readRouterBundle(ROUTER_BUNDLE) });
    pod = podSpecOf(objectOf(objects, 'StatefulSet', 'model-canary-router'));
    // The ConfigMap volume: one file per binaryData key (and the kubelet's own `..data` entry,
    // which the script must not read).
    const cm = objectOf(objects, 'ConfigMap', 'model-canary-router-bundle');
    for (const [key, b64] of Object.entries(cm.binaryData as Record<string, string>))
      await writeFile(join(dirOf('bundle'), key), Buffer.from(b64, 'base64'));
    await mkdir(join(dirOf('bundle'), '..data'));
    const experiments = objectOf(objects, 'ConfigMap', 'model-canary-experiments').data as Record<
      string,
      string
    >;
    for (const [key, text] of Object.entries(experiments))
      await writeFile(join(dirOf('experiments'), key), text);
    await writeFile(join(dirOf('admin'), 'token'), randomBytes(24).toString('hex'));
    await writeFile(join(dirOf('admin'), 'ingest-token'), randomBytes(24).toString('hex'));
  });

  after(async () => {
    for (const r of running) await r.stop().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  });

  async function expectDashboard(url: string): Promise<void> {
    const page = await fetch(`${url}/dashboard/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /src="webview\.js"/);
    for (const [asset, type] of Object.entries(DASHBOARD_ASSET_TYPES)) {
      const res = await fetch(`${url}/dashboard/${asset}`);
      const body = await res.text();
      assert.equal(res.status, 200, `${asset}: ${body.slice(0, 300)}`);
      assert.equal(res.headers.get('content-type'), type, asset);
      assert.equal(body, await readFile(join(ROUTER_BUNDLE, '..', asset), 'utf8'), asset);
    }
  }

  it('the init container’s script, run with node, writes every app file into the app folder', async () => {
    const init = pod.initContainers![0]!;
    assert.deepEqual(
      init.args,
      [mountOf(init, 'bundle'), mountOf(init, 'app')],
      'its args are its two mounts',
    );
    assert.equal(init.command![0], 'node');
    await execNode(process.execPath, [...init.command!.slice(1), dirOf('bundle'), dirOf('app')]);
    assert.deepEqual((await readdir(dirOf('app'))).sort(), [...ROUTER_APP_FILES].sort());
    for (const f of ROUTER_APP_FILES)
      assert.equal(
        await readFile(join(dirOf('app'), f), 'utf8'),
        await readFile(join(ROUTER_BUNDLE, '..', f), 'utf8'),
      );
  });

  it('the router run from the unpacked folder serves /dashboard/, webview.js and the stylesheet', async () => {
    const container = pod.containers[0]!;
    const appMount = mountOf(container, 'app');
    assert.equal(container.command![1], `${appMount}/router.js`);
    // The Pod's config, with this machine's folders and a free loopback port.
    const config = parse(
      (objectOf(objects, 'ConfigMap', 'model-canary-router-config').data as Record<string, string>)[
        ROUTER_CONFIG_KEY
      ]!,
    ) as {
      listen: string;
      dataDir: string;
      adminTokenFile: string;
      ingestTokenFile: string;
      experiments: { experimentFile: string }[];
    };
    config.listen = '127.0.0.1:0';
    config.dataDir = dirOf('data');
    config.adminTokenFile = join(dirOf('admin'), 'token');
    config.ingestTokenFile = join(dirOf('admin'), 'ingest-token');
    for (const e of config.experiments)
      e.experimentFile = join(dirOf('experiments'), e.experimentFile.split('/').pop()!);
    const configFile = join(dirOf('config'), 'router.yaml');
    await writeFile(configFile, stringify(config));
    const router: RunningRouter = await startRouter(configFile, { script: join(dirOf('app'), 'router.js') });
    running.push(router);
    await expectDashboard(router.url);
  });

  it('in Docker, the Node image runs the init container and then the router on the shared app folder', async function () {
    const node = stackImageNames().node;
    await requireDockerImages(this, node);
    const init = pod.initContainers![0]!;
    assert.equal(init.image, node);
    // A fresh emptyDir for the container run.
    const app = dirOf('app-docker');
    await mkdir(app);
    await chmod(app, 0o777);
    const unpacked = await docker(
      dockerRunArgs(pod, init, { detach: false, volumes: { bundle: dirOf('bundle'), app } }),
    ).catch((e: Error) => e.message);
    assert.deepEqual((await readdir(app)).sort(), [...ROUTER_APP_FILES].sort(), unpacked);

    const container = pod.containers[0]!;
    await writeFile(
      join(dirOf('config'), 'pod-router.yaml'),
      (objectOf(objects, 'ConfigMap', 'model-canary-router-config').data as Record<string, string>)[
        ROUTER_CONFIG_KEY
      ]!,
    );
    const router: RunningContainer = await runAsPod(pod, container, {
      port: 8090,
      volumes: {
        app,
        data: dirOf('data'),
        experiments: dirOf('experiments'),
        admin: dirOf('admin'),
        alerts: dirOf('alerts'), // the optional Secret that nobody created: an empty folder
      },
      extraMounts: [`${dirOf('config')}:/etc/model-canary/config:ro`],
      command: [...container.command!.slice(0, 2), '--config', '/etc/model-canary/config/pod-router.yaml'],
      args: [],
    });
    running.push({ stop: () => router.remove() });
    await waitReady(router, '/v2/health/ready', 60_000);
    await expectDashboard(router.url);
  });
});
