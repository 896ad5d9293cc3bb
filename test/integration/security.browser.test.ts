/**
 * The browser boundary (SECURITY.md): a DNS-rebinding page (a wrong Host), a cross-origin page
 * (an Origin, a "simple" text/plain POST) and a framing page can neither read nor change an
 * experiment; a refused request records nothing. Real router process, fake V2 upstreams.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { startRouter, routerDir, writeRouterConfig, type RunningRouter } from '../harness/router';
import { readEvents, simpleRequest } from '../harness/routerClient';
import { TOKEN } from '../harness/routerSuites';
import { probe, upload } from '../harness/securityProbe';
import { startUpstream, type Upstream } from '../harness/upstream';

const JSON_TYPE = { 'content-type': 'application/json' };
const LISTED = 'https://grafana.example.com';

describe('security: the browser boundary (real router process)', function () {
  let v1: Upstream;
  let v2: Upstream;
  let dir: string;
  let router: RunningRouter;
  const infer = '/v2/models/propensity/infer';
  const api = '/api/v1/experiments/propensity';
  const body = JSON.stringify(simpleRequest(50));

  before(async () => {
    [v1, v2] = await Promise.all([startUpstream(), startUpstream()]);
    dir = await routerDir();
    router = await startRouter(
      await writeRouterConfig(dir, {
        adminToken: TOKEN,
        eventLog: { fsyncIntervalMs: 20 },
        limits: { maxBodyBytes: 64 * 1024, maxConnections: 24 },
        allowedHosts: ['canary.example.com'],
        cors: { origins: [LISTED] },
        experiments: [
          {
            name: 'propensity',
            endpoint: 'propensity',
            variants: [
              { name: 'v1', url: v1.url, model: 'propensity-v1', weight: 50 },
              { name: 'v2', url: v2.url, model: 'propensity-v2', weight: 50 },
            ],
          },
        ],
      }),
    );
  });

  after(async () => {
    await router?.stop();
    await Promise.all([v1, v2].map((u) => u?.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Upstream calls and logged events once earlier writes have landed; compared after a refusal. */
  const recorded = async (): Promise<{ calls: number; events: number }> => {
    await new Promise((r) => setTimeout(r, 150));
    return {
      calls: v1.calls.length + v2.calls.length,
      events: readEvents(join(dir, 'data')).length,
    };
  };

  it('answers loopback names, IP addresses and the configured names, and refuses a rebinding Host', async () => {
    for (const host of [
      `127.0.0.1:${router.port}`,
      `localhost:${router.port}`,
      'canary.example.com',
      '[::1]:80',
    ]) {
      const res = await probe(router.port, 'GET', `${api}/report`, { host });
      assert.equal(res.status, 200, `${host}: ${res.text}`);
    }
    const before = await recorded();
    for (const host of [`evil.example:${router.port}`, 'canary.example.com.evil.example', 'localhost.evil']) {
      const read = await probe(router.port, 'GET', `${api}/report`, { host });
      assert.equal(read.status, 403, host);
      assert.match(read.text, /is not a name of this router — add it to allowedHosts/);
      const write = await probe(router.port, 'POST', infer, { host, ...JSON_TYPE }, body);
      assert.equal(write.status, 403, host);
    }
    assert.deepEqual(await recorded(), before, 'a refused Host reaches no upstream and records nothing');
  });

  it('refuses the "simple" cross-origin POSTs a page can send without a preflight (415)', async () => {
    const before = await recorded();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await probe(router.port, 'POST', infer, { 'content-type': type }, body);
      assert.equal(res.status, 415, `${type}: ${res.text}`);
      assert.match(res.text, /needs Content-Type: application\/json/);
      const fb = await probe(
        router.port,
        'POST',
        `${api}/feedback`,
        { 'content-type': type },
        JSON.stringify({ requestId: 'x', metric: 'conversion', value: 1 }),
      );
      assert.equal(fb.status, 415, `feedback ${type}`);
    }
    const put = await probe(
      router.port,
      'PUT',
      `${api}/weights`,
      { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` },
      JSON.stringify({ weights: { v1: 0, v2: 100 } }),
    );
    assert.equal(put.status, 415);
    // A body without a Content-Type passes only from a client that is not a browser page.
    const beacon = await probe(
      router.port,
      'POST',
      infer,
      { origin: `http://127.0.0.1:${router.port}` },
      body,
    );
    assert.equal(beacon.status, 415, 'no Content-Type with an Origin');
    assert.deepEqual(await recorded(), before);
    const weights = await probe(router.port, 'GET', `${api}/weights`, {});
    assert.deepEqual(JSON.parse(weights.text).weights, { v1: 50, v2: 50 });
  });

  it('keeps the clients working: JSON, tritonclient JSON without a Content-Type, and the binary extension', async () => {
    const json = await probe(router.port, 'POST', infer, JSON_TYPE, body);
    assert.equal(json.status, 200, json.text);
    const bare = await probe(router.port, 'POST', infer, {}, body);
    assert.equal(bare.status, 200, `no Content-Type and no Origin (tritonclient's JSON mode): ${bare.text}`);
    const head = Buffer.from(body);
    const binary = await probe(
      router.port,
      'POST',
      infer,
      { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) },
      head,
    );
    assert.equal(binary.status, 200, `the binary tensor extension: ${binary.text}`);
  });

  it('keeps CORS closed except for the configured origins', async () => {
    const before = await recorded();
    const preflight = (origin: string) =>
      probe(router.port, 'OPTIONS', `${api}/feedback`, {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });
    const refused = await preflight('https://evil.example');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
    const evilPost = await probe(
      router.port,
      'POST',
      infer,
      { origin: 'https://evil.example', ...JSON_TYPE },
      body,
    );
    assert.equal(evilPost.status, 403);
    assert.match(evilPost.text, /add the origin to cors\.origins/);
    const evilRead = await probe(router.port, 'GET', `${api}/report`, { origin: 'null' });
    assert.equal(evilRead.status, 403, 'a sandboxed frame (Origin: null) reads nothing');
    assert.deepEqual(await recorded(), before);

    const allowed = await preflight(LISTED);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers['access-control-allow-origin'], LISTED);
    assert.match(String(allowed.headers['access-control-allow-headers']), /content-type/);
    const read = await probe(router.port, 'GET', `${api}/report`, { origin: LISTED });
    assert.equal(read.status, 200);
    assert.equal(read.headers['access-control-allow-origin'], LISTED);
    // The dashboard's own calls are same-origin: no CORS header needed, and no refusal.
    const own = await probe(router.port, 'GET', `${api}/report`, {
      origin: `http://127.0.0.1:${router.port}`,
    });
    assert.equal(own.status, 200);
    assert.equal(own.headers['access-control-allow-origin'], undefined);
  });

  it('serves the dashboard with its CSP as a header, frame-ancestors none and X-Frame-Options DENY', async () => {
    const page = await probe(router.port, 'GET', '/dashboard/', {});
    assert.equal(page.status, 200);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    // The header's nonce is the page's.
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    assert.ok(page.text.includes(`nonce="${nonce}"`));
  });

  it('caps open connections: beyond limits.maxConnections new ones are closed, and service resumes after', async () => {
    // Raw sockets, each sending a request and waiting: either an answer or the server's close.
    const attempt = (): Promise<{ socket: Socket; outcome: Promise<'answered' | 'closed'> }> =>
      new Promise((resolve, reject) => {
        const socket = connect(router.port, '127.0.0.1', () => {
          const outcome = new Promise<'answered' | 'closed'>((done) => {
            socket.once('data', () => done('answered'));
            socket.once('close', () => done('closed'));
          });
          socket.write('GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
          resolve({ socket, outcome });
        });
        socket.on('error', () => undefined);
        socket.once('error', reject);
      });
    const tries = await Promise.all(Array.from({ length: 40 }, attempt));
    const outcomes = await Promise.all(tries.map((t) => t.outcome));
    const answered = outcomes.filter((o) => o === 'answered').length;
    for (const t of tries) t.socket.destroy();
    assert.ok(answered <= 24, `${answered} of 40 connections answered with a cap of 24`);
    assert.ok(outcomes.includes('closed'), 'connections beyond the cap are closed');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await probe(router.port, 'GET', '/v2/health/live', { connection: 'close' })).status, 200);
  });

  it('reads and discards an oversized body before answering 413, so the client gets the answer', async () => {
    const before = await recorded();
    const big = await upload(router.port, infer, 4 * 1024 * 1024);
    assert.equal(big.error, undefined, `the client saw ${big.error} instead of the answer`);
    assert.equal(big.status, 413);
    assert.match(big.text ?? '', /larger than the router's limit of 65536 bytes/);
    assert.deepEqual(await recorded(), before);
  });
});
