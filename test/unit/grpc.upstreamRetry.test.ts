import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { GrpcUpstreams } from '../../src/router/grpc/upstream';
import { frame } from '../../src/router/grpc/wire';
import { PROTO_FILE } from '../harness/grpcClient';

const { NGHTTP2_REFUSED_STREAM } = http2.constants;
// protobufjs encodes the messages (the router's bundle carries the .proto as text; tsx cannot load it).
const root = protobuf.parse(readFileSync(PROTO_FILE, 'utf8'), { keepCase: true }).root;
const encodeMessage = (name: string, value: object): Uint8Array => {
  const type = root.lookupType(`inference.${name}`);
  return type.encode(type.fromObject(value)).finish();
};

/** A ModelInfer request for `m`, as a client sends it (unframed). */
const REQUEST = encodeMessage('ModelInferRequest', {
  model_name: 'm',
  inputs: [{ name: 'age', datatype: 'INT64', shape: [1], contents: { int64_contents: [41] } }],
});
const ANSWER = frame(
  encodeMessage('ModelInferResponse', {
    model_name: 'm',
    outputs: [{ name: 'predict', datatype: 'INT64', shape: [1], contents: { int64_contents: [7] } }],
  }),
);

/**
 * A node:http2 model server: `refuse(n)` says what to do with the n-th ModelInfer (counted from 1
 * across connections): 'rst' resets it with REFUSED_STREAM, 'headers-then-rst' sends the response
 * headers first, 'answer' answers.
 */
async function modelServer(refuse: (n: number) => 'rst' | 'headers-then-rst' | 'answer') {
  let calls = 0;
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('error', () => undefined); // node:http2's own report of the reset below
    stream.on('end', () => {
      const what = refuse(++calls);
      if (what === 'rst') return stream.close(NGHTTP2_REFUSED_STREAM);
      if (what === 'headers-then-rst') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        return setTimeout(() => stream.close(NGHTTP2_REFUSED_STREAM), 20);
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(ANSWER);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    connections: () => sessions.size,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * In front of `upstream`: the first connection gets the server's SETTINGS, then, at the first
 * HEADERS, GOAWAY naming no stream as processed (last stream id 0), as a server shutting down
 * does; node:http2 cannot send that (it fills in the last stream it processed). Later
 * connections are piped to `upstream`.
 */
async function goawayFirst(upstream: string) {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    if (++connections > 1) {
      const [host, port] = upstream.split(':');
      const to = connect(Number(port), host!);
      to.on('error', () => socket.destroy());
      sockets.add(to);
      socket.pipe(to).pipe(socket);
      return;
    }
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // SETTINGS, empty
    let seen = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      for (let at = 24; at + 9 <= seen.length; at += 9 + seen.readUIntBE(at, 3))
        if (seen[at + 3] === 1) {
          // GOAWAY: last stream 0, NO_ERROR.
          socket.end(Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
          return;
        }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('gRPC upstream calls: a stream the model server refused', () => {
  let pool: GrpcUpstreams;
  beforeEach(() => (pool = new GrpcUpstreams(5_000)));
  afterEach(() => pool.close());

  it('is sent once more when the server resets it with REFUSED_STREAM, and answered', async () => {
    const server = await modelServer((n) => (n === 1 ? 'rst' : 'answer'));
    try {
      const r = await pool.infer(server.address, 'm', REQUEST, 'id-1', undefined, {});
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body.toString()).outputs[0].data, [7]);
      assert.equal(server.calls(), 2);
    } finally {
      await server.close();
    }
  });

  it('goes on a new connection when the server went away without processing it (GOAWAY)', async () => {
    const server = await modelServer(() => 'answer');
    const front = await goawayFirst(server.address);
    try {
      const r = await pool.infer(front.address, 'm', REQUEST, 'id-2', undefined, {});
      assert.equal(r.status, 200);
      assert.equal(front.connections(), 2);
      assert.equal(server.calls(), 1);
      // The next call uses the new connection.
      const again = await pool.infer(front.address, 'm', REQUEST, 'id-3', undefined, {});
      assert.equal(again.status, 200);
      assert.equal(front.connections(), 2);
      assert.equal(server.calls(), 2);
    } finally {
      front.close();
      await server.close();
    }
  });

  it('fails as unreachable (502) when the server refuses it twice, without a third try', async () => {
    const server = await modelServer(() => 'rst');
    try {
      await assert.rejects(pool.infer(server.address, 'm', REQUEST, 'id-4', undefined, {}), (e: Error) => {
        assert.equal((e as { status?: number }).status, 502);
        assert.match(e.message, /failed/);
        return true;
      });
      assert.equal(server.calls(), 2);
    } finally {
      await server.close();
    }
  });

  it('is not sent again once the server began answering it (502: the server may have run the model)', async () => {
    const server = await modelServer(() => 'headers-then-rst');
    try {
      await assert.rejects(pool.infer(server.address, 'm', REQUEST, 'id-5', undefined, {}), (e: Error) => {
        assert.equal((e as { status?: number }).status, 502);
        return true;
      });
      assert.equal(server.calls(), 1);
    } finally {
      await server.close();
    }
  });
});
