/**
 * Our HTTP/2 client against a server whose response heads break RFC 9113 (8.1, 8.2, 8.3.2): a raw
 * TCP server answers each request with the header blocks a case scripts. The client must reset
 * that stream PROTOCOL_ERROR, tell the stream's reader why, keep the connection for the next
 * request, and pass an interim (1xx) response over without handing it to the reader.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ErrorCode } from '../../src/router/h2/frames';
import { GrpcUpstreams } from '../../src/router/grpc/upstream';
import { UpstreamError } from '../../src/router/proxy';
import { H2ClientConnection, frameBytes, headersFrame, parseFrames, request, requestHead } from './h2.peers';

const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const DATA = 0x0;
const END_STREAM = 0x1;
const GRPC_OK = ['grpc-status', '0'];

/** What the server sends for one request: header blocks (fields, END_STREAM?) and data. */
type Script = ({ fields: string[]; end: boolean } | { data: Buffer; end: boolean })[];

/**
 * A raw server: SETTINGS first, then for the n-th HEADERS from the client `script(n)`'s frames on
 * that stream. `resets` collects the RST_STREAM frames the client sent, as [stream, code].
 */
class ScriptedServer {
  readonly server: Server;
  readonly resets: [number, number][] = [];
  private readonly sockets = new Set<Socket>();
  private requests = 0;

  constructor(script: (n: number) => Script) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write(frameBytes(SETTINGS, 0, 0));
      let seen = Buffer.alloc(0);
      let preface = true;
      socket.on('data', (chunk: Buffer) => {
        seen = Buffer.concat([seen, chunk]);
        if (preface) {
          if (seen.length < 24) return;
          seen = seen.subarray(24);
          preface = false;
        }
        const { frames, rest } = parseFrames(seen);
        seen = seen.subarray(seen.length - rest);
        for (const f of frames) {
          if (f.type === RST_STREAM) this.resets.push([f.id, f.payload.readUInt32BE(0)]);
          if (f.type !== HEADERS) continue;
          const out = script(++this.requests).map((part) =>
            'fields' in part
              ? headersFrame(f.id, part.fields, part.end)
              : frameBytes(DATA, part.end ? END_STREAM : 0, f.id, part.data),
          );
          socket.write(Buffer.concat(out));
        }
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const head = (...extra: string[]): { fields: string[]; end: boolean } => ({
  fields: [':status', '200', 'content-type', 'application/grpc', ...extra],
  end: false,
});
const body = { data: Buffer.from([0, 0, 0, 0, 0]), end: false };
const trailers = (fields: string[] = GRPC_OK) => ({ fields, end: true });
const GOOD: Script = [head(), body, trailers()];

/** Each malformed answer and the reason the reader must be told. */
const MALFORMED: [string, Script, RegExp][] = [
  ['no :status', [{ fields: ['content-type', 'application/grpc'], end: false }], /no :status/],
  ['an uppercase name', [head('Grpc-Encoding', 'identity'), body, trailers()], /not lowercase/],
  [
    'a request pseudo-header',
    [{ fields: [':status', '200', ':path', '/'], end: false }],
    /:path is not a response's/,
  ],
  [
    'a pseudo-header after a regular one',
    [{ fields: ['content-type', 'x', ':status', '200'], end: false }],
    /after a regular header/,
  ],
  [
    'a connection-specific header',
    [head('connection', 'close'), body, trailers()],
    /connection-specific header connection/,
  ],
  ['te other than trailers', [head('te', 'gzip'), body, trailers()], /te other than/],
  [':status twice', [{ fields: [':status', '200', ':status', '200'], end: false }], /:status twice/],
  ['a :status that is no status code', [{ fields: [':status', '2000'], end: false }], /is not a status code/],
  [
    'a pseudo-header in the trailers',
    [head(), body, trailers([':status', '200', ...GRPC_OK])],
    /in trailers/,
  ],
  [
    'trailers that do not end the stream',
    [head(), body, { fields: GRPC_OK, end: false }],
    /without END_STREAM/,
  ],
  ['an interim response that ends the stream', [{ fields: [':status', '100'], end: true }], /interim/],
];

describe('HTTP/2 client (router/h2): malformed response heads (RFC 9113 8.3.2)', () => {
  let server: ScriptedServer;
  let client: H2ClientConnection;
  let port: number;
  const REQUEST = requestHead('/echo');

  afterEach(async () => {
    client?.destroy(new Error('the test is over'));
    await server?.close();
  });

  it('resets each malformed answer PROTOCOL_ERROR, tells the reader why, and serves the next request', async () => {
    // Odd requests get a malformed answer, even ones a good one, on the same connection.
    server = new ScriptedServer((n) => (n % 2 === 1 ? MALFORMED[(n - 1) / 2]![1] : GOOD));
    port = await server.listen();
    client = H2ClientConnection.open('127.0.0.1', port);
    for (const [what, , reason] of MALFORMED) {
      const bad = await request(client, REQUEST, Buffer.from('x'));
      assert.equal(bad.code, ErrorCode.PROTOCOL_ERROR, what);
      assert.match(String(bad.error?.message), reason, what);
      assert.match(String(bad.error?.message), /a malformed response/, what);
      assert.ok(!bad.ended, what);
      const good = await request(client, REQUEST, Buffer.from('y'));
      assert.equal(good.code, 0, `the request after ${what}: ${good.error?.message}`);
      assert.ok(good.ended);
      assert.equal(good.blocks.at(-1)?.[1], '0');
    }
    assert.equal(client.usable, true);
    // The server was told about every malformed answer: RST_STREAM PROTOCOL_ERROR on its stream.
    const odd = MALFORMED.map((_, i) => 4 * i + 1);
    await waitFor(() => server.resets.length >= odd.length);
    assert.deepEqual(
      server.resets.filter(([, code]) => code === ErrorCode.PROTOCOL_ERROR).map(([id]) => id),
      odd,
    );
  });

  it('passes over an interim (1xx) response: the reader gets the final headers, the data and the trailers', async () => {
    server = new ScriptedServer(() => [{ fields: [':status', '100'], end: false }, ...GOOD]);
    port = await server.listen();
    client = H2ClientConnection.open('127.0.0.1', port);
    const got = await request(client, REQUEST, Buffer.from('x'));
    assert.equal(got.code, 0);
    assert.ok(got.ended);
    assert.deepEqual(
      got.blocks.map((b) => b[1]),
      ['200', '0'],
    );
    assert.equal(got.body.length, 5);
  });

  it('fails a gRPC upstream call whose answer is malformed as unreachable (502), naming the reason', async () => {
    server = new ScriptedServer(() => [head('connection', 'close'), body, trailers()]);
    port = await server.listen();
    const upstreams = new GrpcUpstreams(5_000);
    try {
      await assert.rejects(
        upstreams.infer(`127.0.0.1:${port}`, 'm', Buffer.alloc(0), 'id-1', undefined, {}),
        (e: unknown) => {
          assert.ok(e instanceof UpstreamError);
          assert.equal(e.status, 502);
          assert.match(e.message, /a malformed response: connection-specific header connection/);
          return true;
        },
      );
    } finally {
      upstreams.close();
    }
  });
});

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done(), 'waited 2 s');
}
