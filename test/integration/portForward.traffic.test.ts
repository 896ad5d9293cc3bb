/**
 * Traffic through a port-forward to a Pod (test/harness/portForwardCluster.ts: a real kube-apiserver
 * and the kubelet's real streaming code): connections and bodies arrive intact, and a forward ends
 * when it is closed, aborted or timed out.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { forwardedRequest, openPortForward } from '../../src/kube/portForward';
import {
  BLOB,
  blob,
  connectError,
  CONTEXT,
  freePort,
  get,
  NS,
  POD_PORT,
  rejectsWith,
  sha256,
  startPortForwardCluster,
  type PodProcess,
  type PortForwardCluster,
} from '../harness/portForwardCluster';

describe('port-forward to a Pod through kube-apiserver and the kubelet streaming code', function () {
  let cluster: PortForwardCluster | undefined;
  let kc: KubeConfig;
  let pod: PodProcess;

  before(async function () {
    this.timeout(180_000);
    cluster = await startPortForwardCluster();
    ({ kc, pod } = cluster);
  });

  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && cluster) {
      console.log(`--- kubelet-standin log ---\n${cluster.nodeLog()}`);
    }
  });

  it('serves sequential, keep-alive and concurrent connections and a 400 KB body each way intact', async function () {
    const fwd = await openPortForward(kc, CONTEXT, NS, 'web', POD_PORT);
    try {
      assert.ok(fwd.port > 0 && fwd.port !== pod.port);
      const before = pod.connections();
      for (let i = 0; i < 3; i++) {
        const res = await get(fwd.port, `/hello?id=${i}`);
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), `hello ${i}`);
      }
      // Five requests on one kept-alive connection: one WebSocket carries them all.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const onOne = [];
      for (let i = 0; i < 5; i++)
        onOne.push((await get(fwd.port, `/hello?id=k${i}`, { agent })).body.toString());
      agent.destroy();
      assert.deepEqual(onOne, ['hello k0', 'hello k1', 'hello k2', 'hello k3', 'hello k4']);
      assert.equal(pod.connections() - before, 3 + 1, 'three one-shot connections plus one kept alive');

      const concurrent = await Promise.all(
        Array.from({ length: 12 }, (_, i) => get(fwd.port, `/hello?id=c${i}`)),
      );
      assert.deepEqual(
        concurrent.map((r) => r.body.toString()),
        Array.from({ length: 12 }, (_, i) => `hello c${i}`),
      );
      assert.equal(pod.connections() - before, 4 + 12);

      const down = await get(fwd.port, '/blob');
      assert.equal(down.body.length, BLOB.length);
      assert.equal(sha256(down.body), sha256(BLOB));

      const upload = blob(300 * 1024 + 3, 'upload');
      const up = await get(fwd.port, '/echo', { method: 'POST', body: upload });
      assert.deepEqual(JSON.parse(up.body.toString()), {
        method: 'POST',
        bytes: upload.length,
        sha256: sha256(upload),
      });
      assert.equal(fwd.lastError, undefined);
    } finally {
      await fwd.close();
    }
  });

  it('forwardedRequest does one request each time and close their forward', async function () {
    const res = await forwardedRequest(kc, CONTEXT, NS, 'web', POD_PORT, '/hello?id=g', {
      timeoutMs: 20_000,
    });
    assert.deepEqual(res, { status: 200, text: 'hello g', contentType: 'text/plain; charset=utf-8' });
    const missing = await forwardedRequest(kc, CONTEXT, NS, 'web', POD_PORT, '/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'no such path');

    const body = JSON.stringify({ inputs: Array.from({ length: 2000 }, (_, i) => i) });
    const posted = await forwardedRequest(kc, CONTEXT, NS, 'web', POD_PORT, '/echo', {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/json', 'x-via': 'forward' },
    });
    assert.equal(posted.status, 200);
    assert.deepEqual(JSON.parse(posted.text), {
      method: 'PUT',
      bytes: Buffer.byteLength(body),
      sha256: sha256(body),
      via: 'forward',
    });
  });

  it('close() ends open connections and frees the local port', async function () {
    const port = await freePort();
    const fwd = await openPortForward(kc, CONTEXT, NS, 'web', POD_PORT, { localPort: port });
    assert.equal(fwd.port, port);
    const ended = new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/slow', agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
            if (text.includes('started')) void fwd.close();
          });
          res.on('close', () => resolve(text));
          res.on('error', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.equal(await ended, 'started\n');
    await fwd.close(); // idempotent
    assert.equal(await connectError(port), 'ECONNREFUSED');
    // The same port can be taken again at once.
    const again = await openPortForward(kc, CONTEXT, NS, 'web', POD_PORT, { localPort: port });
    try {
      assert.equal((await get(port, '/hello?id=again')).body.toString(), 'hello again');
      await rejectsWith(
        openPortForward(kc, CONTEXT, NS, 'web', POD_PORT, { localPort: port }),
        'local-port',
        new RegExp(`Local port ${port} is already in use`),
      );
    } finally {
      await again.close();
    }
  });

  it('an aborted signal refuses to start, and stops a running forward', async function () {
    await assert.rejects(
      openPortForward(kc, CONTEXT, NS, 'web', POD_PORT, { signal: AbortSignal.abort() }),
      (e: Error) => e.name === 'AbortError',
    );
    const ctl = new AbortController();
    const fwd = await openPortForward(kc, CONTEXT, NS, 'web', POD_PORT, { signal: ctl.signal });
    assert.equal((await get(fwd.port, '/hello?id=a')).body.toString(), 'hello a');
    ctl.abort();
    await fwd.close(); // resolves once the listener is closed
    assert.equal(await connectError(fwd.port), 'ECONNREFUSED');

    const aborting = new AbortController();
    setTimeout(() => aborting.abort(), 300);
    const t0 = Date.now();
    await assert.rejects(
      forwardedRequest(kc, CONTEXT, NS, 'web', POD_PORT, '/slow', { signal: aborting.signal }),
      (e: Error) => e.name === 'AbortError',
    );
    assert.ok(Date.now() - t0 < 5000, 'the abort ended the request');
  });

  it('a request that outlives timeoutMs fails with a timeout naming it', async function () {
    await assert.rejects(
      forwardedRequest(kc, CONTEXT, NS, 'web', POD_PORT, '/slow', { timeoutMs: 1500 }),
      /GET \/slow on Pod mc-pf\/web:8080 \(through port-forward\) timed out after 1500 ms/,
    );
  });
});
