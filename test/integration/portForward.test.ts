/**
 * Port-forward to a Pod through a real kube-apiserver (1.37, `pods/portforward`) and the kubelet's
 * real streaming code (tools/kubelet-standin: k8s.io/cri-streaming's ServePortForward). The Pod's
 * process is an HTTP server on loopback; the stand-in node dials it for the Pod's port 8080.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, statusMessage } from '../../src/kube';
import { forwardedRequest, openPortForward, PortForwardError } from '../../src/kube/portForward';
import { startKubeApiServer, type KubeApiServer } from '../harness/kubeApiServer';
import { startKubeletStandIn, type KubeletStandIn } from '../harness/kubeletStandIn';

const CONTEXT = 'cluster';
const NS = 'mc-pf';
const POD_PORT = 8080;
const DEAD_PORT = 8081; // mapped to a loopback port nothing listens on

/** Deterministic bytes, so a corrupted or reordered chunk changes the hash. */
function blob(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; i++)
    off += crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}
const sha256 = (b: Buffer | string): string => crypto.createHash('sha256').update(b).digest('hex');
const BLOB = blob(400 * 1024 + 7, 'download');

/** The Pod's process: /hello, /blob (400 KB), /echo (hash and size of the body), /slow (holds the connection). */
function startPodProcess(): Promise<{ server: http.Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://pod');
    if (url.pathname === '/hello') {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`hello ${url.searchParams.get('id') ?? ''}`.trim());
    } else if (url.pathname === '/blob') {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(BLOB);
    } else if (url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            method: req.method,
            bytes: body.length,
            sha256: sha256(body),
            via: req.headers['x-via'],
          }),
        );
      });
    } else if (url.pathname === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started\n'); // and never ends: the forward's close must end it
    } else {
      res.writeHead(404).end('no such path');
    }
  });
  server.on('connection', () => connections++);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as net.AddressInfo).port, connections: () => connections }),
    ),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

interface Got {
  status: number;
  body: Buffer;
  contentType: string;
}

function get(
  port: number,
  p: string,
  init: { method?: string; body?: Buffer; agent?: http.Agent } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: p, method: init.method ?? 'GET', agent: init.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            contentType: String(res.headers['content-type']),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${p} timed out`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Resolves with the error code of a TCP connect to the port (undefined when it connects). */
function connectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

async function rejectsWith(p: Promise<unknown>, reason: string, message: RegExp): Promise<PortForwardError> {
  const err = await p.then(
    () => assert.fail(`expected a ${reason} PortForwardError`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PortForwardError, `not a PortForwardError: ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  assert.match(err.message, message);
  return err;
}

describe('port-forward to a Pod through kube-apiserver and the kubelet streaming code', function () {
  let server: KubeApiServer;
  let kc: KubeConfig;
  let tmp: string;
  let pod: Awaited<ReturnType<typeof startPodProcess>>;
  let node: KubeletStandIn;
  let send: (method: string, p: string, body?: object) => Promise<unknown>;

  before(async function () {
    this.timeout(180_000);
    tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'model-canary-pf-'));
    pod = await startPodProcess();
    server = await startKubeApiServer();
    kc = new KubeConfig();
    kc.loadFromString(server.kubeconfigFor(CONTEXT));
    send = async (method, p, body) => {
      const res = await kubeRequest(kc, CONTEXT, p, {
        method,
        ...(body ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
      });
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${statusMessage(res)}`);
      return JSON.parse(res.text) as unknown;
    };
    await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    node = await startKubeletStandIn(kc, CONTEXT, {
      dir: tmp,
      targets: { [POD_PORT]: `127.0.0.1:${pod.port}`, [DEAD_PORT]: `127.0.0.1:${await freePort()}` },
    });
    await node.createRunningPod(NS, 'web', POD_PORT);
  });

  after(async function () {
    this.timeout(60_000);
    await node?.stop();
    await server?.stop();
    await new Promise((resolve) => pod?.server.close(resolve));
    if (tmp) await fs.promises.rm(tmp, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && node) {
      console.log(`--- kubelet-standin log ---\n${fs.readFileSync(node.logFile, 'utf8').slice(-3000)}`);
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

  it('names a missing Pod and how to look for it', async function () {
    await rejectsWith(
      openPortForward(kc, CONTEXT, NS, 'no-such-pod', POD_PORT),
      'not-found',
      /Pod mc-pf\/no-such-pod not found in context cluster .*kubectl --context cluster -n mc-pf get pods/,
    );
    await rejectsWith(
      forwardedRequest(kc, CONTEXT, NS, 'no-such-pod', POD_PORT, '/hello'),
      'not-found',
      /no-such-pod not found/,
    );
  });

  it('refuses a Pod without a node, and one that is not Running, saying so', async function () {
    const container = { name: 'main', image: 'registry.invalid/x:1' };
    await send('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'unscheduled' },
      spec: { containers: [container] },
    });
    await rejectsWith(
      openPortForward(kc, CONTEXT, NS, 'unscheduled', POD_PORT),
      'not-scheduled',
      /Pod mc-pf\/unscheduled is not scheduled to a node yet \(phase Pending\).*describe pod unscheduled/,
    );
    await send('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pending' },
      spec: { nodeName: node.nodeName, containers: [container] },
    });
    await rejectsWith(
      openPortForward(kc, CONTEXT, NS, 'pending', POD_PORT),
      'not-running',
      /Pod mc-pf\/pending is Pending, not Running/,
    );
  });

  it('reports the kubelet error when nothing listens on the Pod port', async function () {
    const errors: PortForwardError[] = [];
    const fwd = await openPortForward(kc, CONTEXT, NS, 'web', DEAD_PORT, { onError: (e) => errors.push(e) });
    try {
      await assert.rejects(get(fwd.port, '/hello'), /ECONNRESET|socket hang up/);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.reason, 'refused');
      assert.match(
        errors[0]?.message ?? '',
        /failed on the node: error forwarding port 8081 to pod web.*connection refused.*listening on port 8081.*kubectl --context cluster -n mc-pf port-forward pod\/web 8081/,
      );
      assert.equal(fwd.lastError, errors[0]);
      // The forward itself stays usable for the next connection.
    } finally {
      await fwd.close();
    }
    await rejectsWith(
      forwardedRequest(kc, CONTEXT, NS, 'web', DEAD_PORT, '/hello'),
      'refused',
      /connection refused/,
    );
  });

  it("explains a refused upgrade with the API server's reason (Pod deleted after the forward opened)", async function () {
    await node.createRunningPod(NS, 'short-lived', POD_PORT);
    const fwd = await openPortForward(kc, CONTEXT, NS, 'short-lived', POD_PORT);
    try {
      assert.equal((await get(fwd.port, '/hello?id=before')).body.toString(), 'hello before');
      await send('DELETE', `/api/v1/namespaces/${NS}/pods/short-lived?gracePeriodSeconds=0`);
      await assert.rejects(get(fwd.port, '/hello'));
      assert.equal(fwd.lastError?.reason, 'not-found');
      assert.match(fwd.lastError?.message ?? '', /pods "short-lived" not found/);
    } finally {
      await fwd.close();
    }
  });

  it("says when the API server cannot reach the Pod's kubelet", async function () {
    const deadKubelet = await freePort();
    await send('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone-node' } });
    const status = await kubeRequest(kc, CONTEXT, '/api/v1/nodes/gone-node/status', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({
        status: {
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: deadKubelet } },
        },
      }),
    });
    assert.equal(status.status, 200, status.text);
    await send('POST', `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan' },
      spec: { nodeName: 'gone-node', containers: [{ name: 'main', image: 'registry.invalid/x:1' }] },
    });
    const running = await kubeRequest(kc, CONTEXT, `/api/v1/namespaces/${NS}/pods/orphan/status`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ status: { phase: 'Running' } }),
    });
    assert.equal(running.status, 200, running.text);
    await rejectsWith(
      forwardedRequest(kc, CONTEXT, NS, 'orphan', POD_PORT, '/hello'),
      'unreachable',
      /could not open a stream to the kubelet of node gone-node \(HTTP 500 to the port-forward upgrade\).*kubectl --context cluster get node gone-node$/,
    );
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

  describe('RBAC', function () {
    /** A ServiceAccount with exactly `rules`, as a kubeconfig context of its own. */
    async function limitedUser(name: string, rules: object[]): Promise<KubeConfig> {
      await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name } });
      await send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
        metadata: { name },
        rules,
      });
      await send('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace: NS }],
      });
      const review = (await send('POST', `/api/v1/namespaces/${NS}/serviceaccounts/${name}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      })) as { status: { token: string } };
      const limited = new KubeConfig();
      limited.loadFromOptions({
        clusters: kc.getClusters(),
        users: [{ name, token: review.status.token }],
        contexts: [{ name: CONTEXT, cluster: kc.getClusters()[0]!.name, user: name }],
        currentContext: CONTEXT,
      });
      return limited;
    }

    it('works with get on pods and get + create on pods/portforward', async function () {
      const ok = await limitedUser('pf-ok', [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
      ]);
      const res = await forwardedRequest(ok, CONTEXT, NS, 'web', POD_PORT, '/hello?id=rbac');
      assert.equal(res.text, 'hello rbac');
    });

    it('names the missing verb when only create on pods/portforward is granted', async function () {
      const createOnly = await limitedUser('pf-create-only', [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/portforward'], verbs: ['create'] },
      ]);
      await rejectsWith(
        openPortForward(createOnly, CONTEXT, NS, 'web', POD_PORT),
        'forbidden',
        /RBAC denies port-forward to Pod mc-pf\/web .*missing get on pods\/portforward in namespace mc-pf/,
      );
    });

    it('says which permission is missing when the Pod cannot even be read', async function () {
      const none = await limitedUser('pf-none', []);
      await rejectsWith(
        openPortForward(none, CONTEXT, NS, 'web', POD_PORT),
        'forbidden',
        /cannot get resource "pods".*needs get on pods in namespace mc-pf/,
      );
    });
  });
});
