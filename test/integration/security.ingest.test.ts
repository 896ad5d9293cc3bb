/**
 * The ingest token (SECURITY.md): feedback and labels need their experiment's token when one is
 * set, and beyond loopback they need one by default; it is distinct from the admin token in both
 * directions; a refused post records nothing. Real router processes, a fake V2 upstream.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { Client, readEvents, simpleRequest } from '../harness/routerClient';
import { auth, TOKEN } from '../harness/routerSuites';
import { startUpstream, type Upstream } from '../harness/upstream';
import type { RouterApiError } from '../../src/shared/routerApi';
import { INGEST_TOKEN_HEADER, RouterClient, fetchTransport } from '../../src/shared/routerApi';

const SHARED = 'ingest-token-for-everyone-0001';
const OWN = 'ingest-token-of-labelled-0002';

describe('security: the ingest token for feedback and labels (real router process)', function () {
  let upstream: Upstream;
  const dirs: string[] = [];
  const routers: RunningRouter[] = [];

  const experiment = (name: string, extra: object = {}) => ({
    name,
    endpoint: name,
    variants: [{ name: 'v1', url: upstream.url, model: 'm1', weight: 1 }],
    ...extra,
  });

  async function start(config: object): Promise<{ router: RunningRouter; client: Client; data: string }> {
    const dir = await routerDir();
    dirs.push(dir);
    const router = await startRouter(
      await writeRouterConfig(dir, { eventLog: { fsyncIntervalMs: 20 }, ...config }),
    );
    routers.push(router);
    return { router, client: new Client(router.url, 2), data: join(dir, 'data') };
  }

  const feedbackCount = async (data: string) => {
    await new Promise((r) => setTimeout(r, 100));
    return readEvents(data).filter((e) => e.type === 'feedback' || e.type === 'label').length;
  };

  before(async () => {
    upstream = await startUpstream();
  });

  after(async () => {
    await Promise.all(routers.map((r) => r.stop()));
    await upstream?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('refuses feedback and labels without the right token, takes them with it, and keeps it apart from the admin token', async () => {
    const { client, data, router } = await start({
      adminToken: TOKEN,
      ingestToken: SHARED,
      experiments: [experiment('shop'), experiment('labelled', { ingestToken: OWN })],
    });
    assert.match(router.output(), /need the ingest token: header x-model-canary-ingest-token/);
    const id = String((await client.infer('shop', simpleRequest(50))).headers['x-request-id']);
    const lid = String((await client.infer('labelled', simpleRequest(50))).headers['x-request-id']);
    const fb = { requestId: id, metric: 'conversion', value: 1 };
    const attempts: Record<string, string>[] = [
      {},
      { [INGEST_TOKEN_HEADER]: 'wrong-token-wrong-token' },
      { [INGEST_TOKEN_HEADER]: OWN },
      auth,
    ];
    for (const headers of attempts) {
      const res = await client.send('POST', '/api/v1/experiments/shop/feedback', fb, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.match(res.text, /ingest token for shop/);
      const label = await client.send(
        'POST',
        '/api/v1/experiments/shop/labels',
        { requestId: id, label: 1 },
        headers,
      );
      assert.equal(label.status, 401);
    }
    assert.equal(await feedbackCount(data), 0, 'nothing recorded');
    // The experiment's own token replaces the shared one.
    const shared = await client.send(
      'POST',
      '/api/v1/experiments/labelled/labels',
      { requestId: lid, label: 1 },
      { [INGEST_TOKEN_HEADER]: SHARED },
    );
    assert.equal(shared.status, 401);
    const own = await client.send(
      'POST',
      '/api/v1/experiments/labelled/labels',
      { requestId: lid, label: 1 },
      { [INGEST_TOKEN_HEADER]: OWN },
    );
    assert.equal(own.status, 202, own.text);
    // The typed client passes it.
    const typed = new RouterClient(
      fetchTransport(router.url, fetch),
      async () => undefined,
      async () => SHARED,
    );
    assert.equal(await typed.feedback('shop', [fb]), 1);
    const untyped = new RouterClient(fetchTransport(router.url, fetch));
    await assert.rejects(untyped.feedback('shop', [fb]), (err: RouterApiError) => {
      assert.equal(err.status, 401);
      assert.match(err.message, /model-canary reads it from MODEL_CANARY_INGEST_TOKEN/);
      return true;
    });
    assert.equal(await feedbackCount(data), 2);
    // The ingest token is not an admin token.
    const put = await client.send(
      'PUT',
      '/api/v1/experiments/shop/weights',
      { weights: { v1: 2 } },
      { authorization: `Bearer ${SHARED}` },
    );
    assert.equal(put.status, 401);
  });

  it('needs a token by default when listening beyond loopback, and warns about plain HTTP at start', async () => {
    const { client, data, router } = await start({ listen: '0.0.0.0:0', experiments: [experiment('shop')] });
    assert.match(router.output(), /warning: listening on 0\.0\.0\.0:\d+ over plain HTTP/);
    assert.match(router.output(), /put TLS in front/);
    const id = String((await client.infer('shop', simpleRequest(50))).headers['x-request-id']);
    const res = await client.send('POST', '/api/v1/experiments/shop/feedback', {
      requestId: id,
      metric: 'conversion',
      value: 1,
    });
    assert.equal(res.status, 401);
    assert.match(res.text, /need an ingest token because this router listens beyond loopback/);
    assert.equal(await feedbackCount(data), 0);

    const opted = await start({
      listen: '0.0.0.0:0',
      requireIngestToken: false,
      experiments: [experiment('shop')],
    });
    assert.match(opted.router.output(), /feedback and labels need no token \(requireIngestToken: false\)/);
    const oid = String((await opted.client.infer('shop', simpleRequest(50))).headers['x-request-id']);
    const ok = await opted.client.send('POST', '/api/v1/experiments/shop/feedback', {
      requestId: oid,
      metric: 'conversion',
      value: 1,
    });
    assert.equal(ok.status, 202);
    await Promise.all([client.close(), opted.client.close()]);
  });
});
