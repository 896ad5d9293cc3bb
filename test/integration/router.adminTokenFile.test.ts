import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client } from '../harness/routerClient';
import { startUpstream, type Upstream } from '../harness/upstream';

describe('router: admin token from a file (real router process)', function () {
  let upstream: Upstream;
  let dir: string;
  let router: RunningRouter;
  let client: Client;
  const path = '/api/v1/experiments/solo/weights';
  const put = (token: string) =>
    client.send('PUT', path, { weights: { s1: 1 } }, { authorization: `Bearer ${token}` });

  before(async () => {
    upstream = await startUpstream();
    dir = await routerDir();
    await writeFile(join(dir, 'admin-token'), 'first-token-0123456789\n');
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminTokenFile: 'admin-token',
        experiments: [
          {
            name: 'solo',
            endpoint: 'solo',
            variants: [{ name: 's1', url: upstream.url, model: 'solo-model', weight: 1 }],
          },
        ],
      }),
    );
    client = new Client(router.url);
  });

  after(async () => {
    await client?.close();
    await router?.stop();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes a rotated token at once, and keeps the last good one when the file is emptied', async () => {
    assert.equal((await put('first-token-0123456789')).status, 200);
    // A Secret rotated in Kubernetes: the mounted file changes, the router is not restarted.
    await writeFile(join(dir, 'admin-token'), 'second-token-0123456789\n');
    assert.equal((await put('first-token-0123456789')).status, 401);
    assert.equal((await put('second-token-0123456789')).status, 200);
    await writeFile(join(dir, 'admin-token'), '');
    assert.equal(
      (await put('second-token-0123456789')).status,
      200,
      'a broken file keeps the last good token',
    );
  });
});
