/**
 * The router's raw HTTP/1.1 upstream client (src/router/h1Pool.ts) against a real TCP server on
 * loopback that writes its answers byte by byte as each case needs: split heads and bodies,
 * chunked and close-delimited bodies, 1xx answers, keep-alive reuse and its end, queueing,
 * timeouts, oversize and cut-off answers.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { H1Pool, type H1Answer, type H1Options } from '../../src/router/h1Pool';
import { requestBytes } from '../../src/router/proxy';

type Responder = (socket: Socket, request: string) => void;

interface Stub {
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  /** What each request's head and body looked like, as received. */
  requests: string[];
  close: () => Promise<void>;
}

/** A TCP server answering each complete request (head + content-length body) with `respond`. */
async function stub(respond: Responder): Promise<Stub> {
  let connections = 0;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = buffered.slice(0, end + 4 + length);
        buffered = buffered.slice(end + 4 + length);
        requests.push(request);
        respond(socket, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => connections,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const OPTIONS: H1Options = {
  connections: 4,
  connectMs: 1_000,
  upstreamMs: 300,
  keepAliveMs: 2_000,
  maxResponseBytes: 1_000,
};

function call(pool: H1Pool, body = '{"inputs":[]}'): Promise<H1Answer> {
  const bytes = requestBytes(
    'POST',
    '/v2/models/m/infer',
    'upstream',
    { 'x-request-id': 'r1' },
    Buffer.from(body),
  );
  return new Promise((resolve, reject) =>
    pool.request(bytes, (err, answer) => (err ? reject(err) : resolve(answer!))),
  );
}

/** Writes `text` in pieces of `size` bytes, one per event-loop turn, so the client reads each apart. */
async function trickle(socket: Socket, text: string, size: number): Promise<void> {
  for (let i = 0; i < text.length; i += size) {
    socket.write(text.slice(i, i + size));
    await new Promise((r) => setTimeout(r, 1));
  }
}

const ok = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('h1Pool: the router’s HTTP/1.1 upstream client on a real loopback server', () => {
  const open: { pool: H1Pool; server: Stub }[] = [];
  async function setup(respond: Responder, options: Partial<H1Options> = {}) {
    const server = await stub(respond);
    const pool = new H1Pool('127.0.0.1', server.port, { ...OPTIONS, ...options });
    open.push({ pool, server });
    return { pool, server };
  }
  afterEach(async () => {
    for (const { pool, server } of open.splice(0)) {
      await pool.close();
      await server.close();
    }
  });

  it('sends one well-formed request and reuses the connection for the next', async () => {
    const { pool, server } = await setup((s, req) => s.write(ok(`{"echo":${req.length}}`)));
    const a = await call(pool, '{"inputs":[1]}');
    const b = await call(pool, '{"inputs":[22]}');
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/json');
    assert.equal(server.connections(), 1, 'the second call went over the kept-alive connection');
    assert.equal(
      server.requests[1],
      'POST /v2/models/m/infer HTTP/1.1\r\nhost: upstream\r\nx-request-id: r1\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"inputs":[22]}',
    );
    assert.deepEqual(JSON.parse(b.body.toString()), { echo: server.requests[1]!.length });
  });

  it('reads a head and body that arrive a few bytes at a time', async () => {
    const body = JSON.stringify({
      outputs: [{ name: 'predict', data: Array.from({ length: 40 }, (_, i) => i) }],
    });
    const { pool } = await setup((s) => void trickle(s, ok(body, 'x-extra: 1\r\n'), 7));
    const answer = await call(pool);
    assert.equal(answer.body.toString(), body);
  });

  it('decodes a chunked body (with a chunk extension and trailers) and skips a 100 Continue', async () => {
    const { pool, server } = await setup(
      (s) =>
        void trickle(
          s,
          'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\n{"a":\r\n3\r\n12}\r\n0\r\nx-trailer: t\r\n\r\n',
          4,
        ),
    );
    const answer = await call(pool);
    assert.equal(answer.status, 201);
    assert.equal(answer.body.toString(), '{"a":12}');
    await call(pool);
    assert.equal(server.connections(), 1, 'a chunked answer leaves the connection reusable');
  });

  it('reads a body delimited by the close, and opens a new connection after connection: close', async () => {
    let n = 0;
    const { pool, server } = await setup((s) => {
      n++;
      if (n === 1) s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
      else if (n === 2) s.write(ok('"closing"', 'connection: close\r\n'));
      else s.write(ok('"third"'));
    });
    assert.equal((await call(pool)).body.toString(), 'until the end');
    assert.equal((await call(pool)).body.toString(), '"closing"');
    assert.equal((await call(pool)).body.toString(), '"third"');
    assert.equal(server.connections(), 3);
  });

  it('queues calls beyond its connections and answers each in order', async () => {
    const { pool, server } = await setup(
      (s, req) => setTimeout(() => s.write(ok(`"${req.slice(-4, -2)}"`)), 5),
      {
        connections: 2,
      },
    );
    const bodies = ['{"x":"a1"}', '{"x":"b2"}', '{"x":"c3"}', '{"x":"d4"}', '{"x":"e5"}'];
    const answers = await Promise.all(bodies.map((b) => call(pool, b)));
    assert.deepEqual(
      answers.map((a) => a.body.toString()),
      ['"a1"', '"b2"', '"c3"', '"d4"', '"e5"'],
    );
    assert.equal(server.connections(), 2);
  });

  it('fails with codes proxy.ts maps: a silent upstream, a refused connection, a cut-off or oversize answer', async () => {
    const silent = await setup(() => undefined);
    await assert.rejects(call(silent.pool), { code: 'HEADERS_TIMEOUT' });
    const slowBody = await setup((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12'));
    await assert.rejects(call(slowBody.pool), { code: 'BODY_TIMEOUT' });
    const cut = await setup((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n12'));
    await assert.rejects(call(cut.pool), { code: 'UPSTREAM_CLOSED' });
    const big = await setup((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n'));
    await assert.rejects(call(big.pool), /larger than 1000 bytes/);
    const garbage = await setup((s) => s.write('SSH-2.0-OpenSSH\r\n\r\n'));
    await assert.rejects(call(garbage.pool), { code: 'UPSTREAM_PROTOCOL' });
    const closed = await stub(() => undefined);
    const port = closed.port;
    await closed.close();
    const refused = new H1Pool('127.0.0.1', port, OPTIONS);
    await assert.rejects(call(refused), { code: 'ECONNREFUSED' });
    await refused.close();
  });

  it('opens a new connection when the upstream closed the idle one', async () => {
    const { pool, server } = await setup((s) => {
      s.write(ok('"once"'));
      setTimeout(() => s.end(), 5);
    });
    await call(pool);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await call(pool)).body.toString(), '"once"');
    assert.equal(server.connections(), 2);
  });

  it('does not reuse a connection idle for longer than keepAliveMs', async () => {
    const { pool, server } = await setup((s) => s.write(ok('"fresh"')), { keepAliveMs: 30 });
    await call(pool);
    await call(pool);
    assert.equal(server.connections(), 1, 'reused within keepAliveMs');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await call(pool)).body.toString(), '"fresh"');
    assert.equal(server.connections(), 2);
  });

  it('an aborted call closes its connection and the next call gets a fresh one', async () => {
    let n = 0;
    const { pool, server } = await setup((s) => {
      if (++n > 1) s.write(ok('"late"'));
    });
    const bytes = requestBytes('POST', '/p', 'h', {}, Buffer.from('{}'));
    let outcome: unknown = 'none';
    const exchange = pool.request(bytes, (err) => (outcome = err));
    await new Promise((r) => setTimeout(r, 20));
    exchange.abort();
    assert.equal((await call(pool)).body.toString(), '"late"');
    assert.equal(outcome, 'none', 'an aborted call reports nothing more');
    assert.equal(server.connections(), 2);
  });

  it('refuses headers that would break the request head', () => {
    assert.throws(
      () => requestBytes('GET', '/p', 'h', { 'x-id': 'a\r\nx-evil: 1' }, undefined),
      /cannot be sent/,
    );
  });
});
