import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTER_CONFIG_KEY, type KubeObject } from '../../src/manifests';
import { DASHBOARD_ASSET_TYPES } from '../../src/shared/routerFiles';
import { dockerImageSuite, podSpecOf, runAsPod, waitReady } from '../harness/containers';
import type { RunningContainer } from '../harness/containers';
import { objectOf, sampleKindStack } from '../harness/sampleStack';
import { REPO_ROOT } from '../harness/tools';

// The router image that tools/images/build.sh builds (model-canary/router:<version>, also tagged as
// the manifests' Node image), run by Docker the way the manifests' router Pod runs it: the same
// `node /opt/model-canary/router.js`, user 1000, no capabilities, read-only root filesystem, and
// the Pod's volumes from temp folders. Its config comes from a mounted file instead of the API
// server's ConfigMap. Published on 127.0.0.1 only.
describe('the router image serves the dashboard with its assets (docker run)', function () {
  const names = dockerImageSuite('router', 'node');
  let tmp: string | undefined;
  let router: RunningContainer | undefined;

  after(async () => {
    await router?.remove();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const file = (objects: KubeObject[], name: string) =>
    objectOf(objects, 'ConfigMap', name).data as Record<string, string>;

  it('runs the router Pod’s command and answers the readiness probe, the page, webview.js and the stylesheet', async () => {
    const objects = await sampleKindStack({ image: names.router });
    const deployment = objectOf(objects, 'StatefulSet', 'model-canary-router');
    const pod = podSpecOf(deployment);
    const container = pod.containers[0]!;
    assert.equal(container.image, names.router);
    assert.equal(pod.initContainers, undefined, 'the router image needs no unpacking');

    tmp = await mkdtemp(join(tmpdir(), 'mc-router-image-'));
    const dirs = Object.fromEntries(
      ['data', 'experiments', 'admin', 'alerts', 'config'].map((d) => [d, join(tmp!, d)]),
    ) as Record<'data' | 'experiments' | 'admin' | 'alerts' | 'config', string>;
    for (const d of Object.values(dirs)) await mkdir(d, { mode: 0o755 });
    await chmod(dirs.data, 0o777); // the Pod's fsGroup makes its volume writable by user 1000
    for (const [key, text] of Object.entries(file(objects, 'model-canary-experiments')))
      await writeFile(join(dirs.experiments, key), text);
    await writeFile(join(dirs.admin, 'token'), randomBytes(24).toString('hex'));
    await writeFile(join(dirs.admin, 'ingest-token'), randomBytes(24).toString('hex'));
    await writeFile(
      join(dirs.config, 'router.yaml'),
      file(objects, 'model-canary-router-config')[ROUTER_CONFIG_KEY]!,
    );

    const port = 8090;
    router = await runAsPod(pod, container, {
      port,
      // alerts: the optional Secret that nobody created, an empty folder.
      volumes: { data: dirs.data, experiments: dirs.experiments, admin: dirs.admin, alerts: dirs.alerts },
      extraMounts: [`${dirs.config}:/etc/model-canary/config:ro`],
      // The Pod's own command, reading its config from the file instead of the API server.
      command: [...container.command!.slice(0, 2), '--config', '/etc/model-canary/config/router.yaml'],
      args: [],
    });
    await waitReady(router, '/v2/health/ready', 60_000);

    const page = await fetch(`${router.url}/dashboard/`);
    assert.equal(page.status, 200, await page.clone().text());
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await page.text();
    assert.match(html, /<script nonce="[^"]+" src="webview\.js"><\/script>/);
    assert.match(html, /href="dashboard\.css"/);

    for (const [asset, type] of Object.entries(DASHBOARD_ASSET_TYPES)) {
      const res = await fetch(`${router.url}/dashboard/${asset}`);
      const body = await res.text();
      assert.equal(res.status, 200, `${asset}: ${body.slice(0, 300)}`);
      assert.equal(res.headers.get('content-type'), type, asset);
      assert.ok(
        body === (await readFile(join(REPO_ROOT, 'dist', asset), 'utf8')),
        `${asset} in ${names.router} is not dist/${asset}: the image is older than the bundle — run \`bash tools/images/build.sh\``,
      );
    }
    const missing = await fetch(`${router.url}/dashboard/router.js`);
    assert.equal(missing.status, 404, 'the bundle itself is not served as an asset');
  });
});
