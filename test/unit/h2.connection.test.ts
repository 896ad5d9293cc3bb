import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { ErrorCode } from '../../src/router/h2/frames';
import {
  EchoServer,
  H2ClientConnection,
  NodeEchoServer,
  Recorder,
  bytesOf,
  fieldsOf,
  listen,
  nodeConnect,
  nodeRequest,
  request,
  requestHead,
} from './h2.peers';

const SIZES = [0, 10, 70_000, 3_000_000];
const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;

describe('HTTP/2 connection (router/h2) against node:http2', () => {
  describe('our server, node:http2 client', () => {
    let echo: EchoServer;
    let port: number;
    let session: http2.ClientHttp2Session;
    beforeEach(async () => {
      echo = new EchoServer({ maxConcurrentStreams: 1_000 });
      port = await listen(echo.server);
      session = nodeConnect(port);
    });
    afterEach(async () => {
      session.destroy();
      await echo.close();
    });

    for (const size of SIZES)
      it(`echoes a ${size}-byte body with headers, request trailers and response trailers`, async () => {
        const body = bytesOf(size, size);
        const { done } = nodeRequest(
          session,
          { ':path': '/echo', 'x-size': String(size), 'x-two': 'a b' },
          body,
          { 'x-req-trailer': 'late' },
        );
        const got = await done;
        assert.equal(got.error, undefined);
        assert.equal(got.rstCode, 0);
        assert.equal(got.headers[':status'], 200);
        assert.equal(got.headers['echo-size'], String(size));
        assert.equal(got.headers['echo-two'], 'a b');
        assert.equal(got.body.length, size);
        assert.ok(got.body.equals(body));
        assert.equal(got.trailers?.['grpc-status'], '0');
        assert.equal(got.trailers?.['x-trailer'], 'done');
        assert.equal(got.trailers?.['echo-t-x-req-trailer'], 'late');
        const served = echo.served[0]!;
        assert.equal(served.fields[':method'], 'POST');
        assert.equal(served.fields[':path'], '/echo');
        assert.ok(served.recorder.ended);
        assert.deepEqual(echo.closes, [{ id: 1, code: 0 }]);
      });

    it('completes 500 concurrent requests on one connection', async () => {
      const bodies = Array.from({ length: 500 }, (_, i) => bytesOf(i * 37, i));
      const answers = await Promise.all(
        bodies.map((body, i) => nodeRequest(session, { ':path': '/echo', 'x-i': String(i) }, body).done),
      );
      answers.forEach((got, i) => {
        assert.equal(got.rstCode, 0, `request ${i}`);
        assert.equal(got.headers['echo-i'], String(i));
        assert.ok(got.body.equals(bodies[i]!), `request ${i}'s body`);
        assert.equal(got.trailers?.['x-trailer'], 'done');
      });
      assert.equal(echo.listener.connections.size, 1);
      assert.equal(echo.served.length, 500);
      assert.equal(echo.open, 0);
    });
  });

  describe('our client, node:http2 server', () => {
    let node: NodeEchoServer;
    let port: number;
    let client: H2ClientConnection;
    beforeEach(async () => {
      node = new NodeEchoServer();
      port = await listen(node.server);
      client = H2ClientConnection.open('127.0.0.1', port);
    });
    afterEach(async () => {
      client.destroy(new Error('the test is over'));
      await node.close();
    });

    for (const size of SIZES)
      it(`sends a ${size}-byte body and reads the echo, its headers and trailers`, async () => {
        const body = bytesOf(size, size + 1);
        let seen: http2.IncomingHttpHeaders | undefined;
        node.server.once('stream', (_s, headers) => (seen = headers));
        const got = await request(
          client,
          requestHead('/echo', ['x-size', String(size), 'x-two', 'a b']),
          body,
        );
        assert.equal(got.error, undefined);
        assert.equal(got.code, 0);
        assert.ok(got.ended);
        assert.equal(seen?.[':path'], '/echo');
        assert.equal(seen?.['content-type'], 'application/grpc');
        assert.equal(got.blocks.length, 2);
        const head = fieldsOf(got.blocks[0]!);
        assert.equal(head[':status'], '200');
        assert.equal(head['echo-size'], String(size));
        assert.equal(head['echo-two'], 'a b');
        assert.deepEqual(fieldsOf(got.blocks[1]!), { 'grpc-status': '0', 'x-trailer': 'done' });
        assert.equal(got.body.length, size);
        assert.ok(got.body.equals(body));
      });

    it('completes 500 concurrent requests on one connection', async () => {
      const bodies = Array.from({ length: 500 }, (_, i) => bytesOf(i * 41, i + 9));
      const answers = await Promise.all(
        bodies.map((body, i) => request(client, requestHead('/echo', ['x-i', String(i)]), body)),
      );
      answers.forEach((got, i) => {
        assert.equal(got.code, 0, `request ${i}`);
        assert.equal(fieldsOf(got.blocks[0]!)['echo-i'], String(i));
        assert.ok(got.body.equals(bodies[i]!), `request ${i}'s body`);
      });
      assert.equal(node.sockets.size, 1);
      assert.ok(client.usable);
    });
  });

  describe('SETTINGS_MAX_CONCURRENT_STREAMS', () => {
    it("our client keeps to the server's limit of 2 (once its SETTINGS came)", async () => {
      const node = new NodeEchoServer({ maxConcurrentStreams: 2 });
      const port = await listen(node.server);
      const client = H2ClientConnection.open('127.0.0.1', port);
      try {
        // One call first: the server's SETTINGS are read before the 20 go out.
        assert.equal((await request(client, requestHead('/echo'), Buffer.from('warm'))).code, 0);
        const bodies = Array.from({ length: 20 }, (_, i) => bytesOf(1000 + i, i));
        const answers = await Promise.all(bodies.map((b) => request(client, requestHead('/echo'), b)));
        answers.forEach((got, i) => {
          assert.equal(got.code, 0, `request ${i}`);
          assert.ok(got.body.equals(bodies[i]!));
        });
        assert.equal(node.maxOpen, 2);
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });

    // A new connection's requests wait for the server's SETTINGS, which carry its limit.
    it("our client keeps to the server's limit of 2 when the requests go out at once on a new connection", async () => {
      const node = new NodeEchoServer({ maxConcurrentStreams: 2 });
      const port = await listen(node.server);
      const client = H2ClientConnection.open('127.0.0.1', port);
      try {
        const bodies = Array.from({ length: 20 }, (_, i) => bytesOf(1000 + i, i));
        const answers = await Promise.all(bodies.map((b) => request(client, requestHead('/echo'), b)));
        answers.forEach((got, i) => {
          assert.equal(got.code, 0, `request ${i} closed with code ${got.code}`);
          assert.ok(got.body.equals(bodies[i]!));
        });
        assert.ok(node.maxOpen <= 2, `${node.maxOpen} open at once`);
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });

    it('our server refuses streams beyond its limit with REFUSED_STREAM and keeps serving', async () => {
      const echo = new EchoServer({ maxConcurrentStreams: 2 });
      const port = await listen(echo.server);
      const session = nodeConnect(port);
      try {
        // Sent before the server's SETTINGS arrive, so the client does not hold the third back.
        const calls = [0, 1, 2].map((i) =>
          nodeRequest(session, { ':path': '/hold', 'x-i': String(i) }, Buffer.alloc(0)),
        );
        const third = await calls[2]!.done;
        assert.equal(third.rstCode, NGHTTP2_REFUSED_STREAM);
        assert.match(String(third.error?.message), /NGHTTP2_REFUSED_STREAM/);
        assert.equal(echo.served.length, 2);
        for (const s of echo.served) s.release();
        for (const c of calls.slice(0, 2)) assert.equal((await c.done).rstCode, 0);
        const after = await nodeRequest(session, { ':path': '/echo' }, Buffer.from('still here')).done;
        assert.equal(after.body.toString(), 'still here');
        assert.equal(echo.maxOpen, 2);
      } finally {
        session.destroy();
        await echo.close();
      }
    });
  });

  describe('flow control', () => {
    it("sends a 200 kB body through a server's 100-byte stream window", async () => {
      const node = new NodeEchoServer({ initialWindowSize: 100 });
      const port = await listen(node.server);
      const client = H2ClientConnection.open('127.0.0.1', port);
      try {
        const body = bytesOf(200_000, 3);
        const got = await request(client, requestHead('/echo'), body);
        assert.equal(got.code, 0);
        assert.ok(got.body.equals(body));
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });

    it('answers 200 kB to a client whose stream window is 1000 bytes (waiting for its WINDOW_UPDATEs)', async () => {
      const echo = new EchoServer({ maxConcurrentStreams: 10 });
      const port = await listen(echo.server);
      const session = nodeConnect(port, { initialWindowSize: 1000 });
      try {
        const got = await nodeRequest(
          session,
          { ':path': '/echo', 'x-answer-bytes': '200000' },
          Buffer.alloc(0),
        ).done;
        assert.equal(got.rstCode, 0);
        assert.ok(got.body.equals(bytesOf(200_000, 7)));
        assert.equal(got.trailers?.['x-trailer'], 'done');
      } finally {
        session.destroy();
        await echo.close();
      }
    });
  });

  describe('RST_STREAM and GOAWAY', () => {
    it("a node client's cancel reaches our server's handler as close(8)", async () => {
      const echo = new EchoServer({ maxConcurrentStreams: 10 });
      const port = await listen(echo.server);
      const session = nodeConnect(port);
      try {
        const taken = echo.next();
        const { req, done } = nodeRequest(session, { ':path': '/hold' }, Buffer.from('x'));
        const served = await taken;
        req.close(NGHTTP2_CANCEL);
        const heard = await served.recorder.done;
        assert.equal(heard.code, ErrorCode.CANCEL);
        assert.equal(served.recorder.closes, 1);
        assert.equal((await done).rstCode, NGHTTP2_CANCEL);
        assert.equal(echo.open, 0);
      } finally {
        session.destroy();
        await echo.close();
      }
    });

    it("our client's reset(8) reaches the node server as rstCode 8", async () => {
      const node = new NodeEchoServer();
      const port = await listen(node.server);
      const client = H2ClientConnection.open('127.0.0.1', port);
      try {
        const closed = new Promise<number | undefined>((resolve) => {
          node.intercept = (stream) => {
            stream.on('close', () => resolve(stream.rstCode));
            setImmediate(() => stream.resume());
            return true;
          };
        });
        const taken = new Promise<void>((resolve) => node.server.once('stream', () => resolve()));
        const r = new Recorder();
        const stream = client.request(requestHead('/hold'), Buffer.from('abc'), r);
        await taken;
        stream.reset(ErrorCode.CANCEL);
        assert.equal((await r.done).code, ErrorCode.CANCEL);
        assert.equal(await closed, NGHTTP2_CANCEL);
        // The connection goes on.
        node.intercept = undefined;
        assert.equal((await request(client, requestHead('/echo'), Buffer.from('ok'))).body.toString(), 'ok');
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });

    it("our server's goaway() lets the request in flight finish, then closes", async () => {
      const echo = new EchoServer({ maxConcurrentStreams: 10 });
      const port = await listen(echo.server);
      const session = nodeConnect(port);
      try {
        const goaway = new Promise<number>((resolve) =>
          session.once('goaway', (code: number) => resolve(code)),
        );
        const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
        const taken = echo.next();
        const { done } = nodeRequest(session, { ':path': '/hold' }, Buffer.from('in flight'));
        const served = await taken;
        for (const c of echo.listener.connections) c.goaway();
        assert.equal(await goaway, 0);
        served.release();
        const got = await done;
        assert.equal(got.rstCode, 0);
        assert.equal(got.body.toString(), 'in flight');
        assert.equal(got.trailers?.['x-trailer'], 'done');
        await sessionClosed;
        assert.equal(echo.listener.connections.size, 0);
      } finally {
        session.destroy();
        await echo.close();
      }
    });

    it("the node server's GOAWAY makes our client unusable; later requests fail with REFUSED_STREAM", async () => {
      const node = new NodeEchoServer();
      const port = await listen(node.server);
      const client = H2ClientConnection.open('127.0.0.1', port);
      try {
        node.intercept = (stream) => {
          stream.session?.close();
          return false; // GOAWAY goes first, then the echo.
        };
        const first = await request(client, requestHead('/echo'), Buffer.from('first'));
        assert.equal(first.code, 0);
        assert.equal(first.body.toString(), 'first');
        assert.equal(client.usable, false);
        const later = await request(client, requestHead('/echo'), Buffer.from('later'));
        assert.equal(later.code, ErrorCode.REFUSED_STREAM);
        assert.ok(later.error);
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });

    it("requests waiting for a slot when the node server's GOAWAY comes fail with REFUSED_STREAM", async () => {
      const node = new NodeEchoServer({ maxConcurrentStreams: 1 });
      const port = await listen(node.server);
      const client = H2ClientConnection.open('127.0.0.1', port);
      try {
        assert.equal((await request(client, requestHead('/echo'), Buffer.from('warm'))).code, 0);
        node.intercept = (stream) => {
          stream.session?.close();
          return false;
        };
        const calls = [0, 1, 2].map((i) => request(client, requestHead('/echo'), Buffer.from(`call ${i}`)));
        const [a, b, c] = await Promise.all(calls);
        assert.equal(a!.code, 0);
        assert.equal(b!.code, ErrorCode.REFUSED_STREAM);
        assert.equal(c!.code, ErrorCode.REFUSED_STREAM);
        assert.equal(client.usable, false);
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });
  });
});
