import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { ErrorCode } from '../../src/router/h2/frames';
import { createH2Server } from '../../src/router/h2/server';
import type { H2Stream } from '../../src/router/h2/stream';
import {
  EchoServer,
  bytesOf,
  H2ClientConnection,
  NodeEchoServer,
  RawPeer,
  Recorder,
  closedPort,
  frameBytes,
  headersFrame,
  listen,
  nodeConnect,
  nodeRequest,
  parseFrames,
  prng,
  request,
  requestHead,
  u32,
} from './h2.peers';

const ENHANCE_YOUR_CALM = 0xb;
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

const REQUEST = requestHead('/echo');

/** The GOAWAY frames among `bytes`, as [last stream, code]. */
function goaways(bytes: Buffer): [number, number][] {
  return parseFrames(bytes)
    .frames.filter((f) => f.type === GOAWAY)
    .map((f) => [f.payload.readUInt32BE(0), f.payload.readUInt32BE(4)]);
}

describe('HTTP/2 connection (router/h2): broken peers', () => {
  let echo: EchoServer;
  let port: number;
  before(async () => {
    echo = new EchoServer({ maxConcurrentStreams: 100 });
    port = await listen(echo.server);
  });
  after(() => echo.close());

  /** A node:http2 request to the echo server, on a connection of its own. */
  async function stillServes(): Promise<void> {
    const session = nodeConnect(port);
    try {
      const got = await nodeRequest(session, { ':path': '/echo' }, Buffer.from('still serving')).done;
      assert.equal(got.body.toString(), 'still serving');
      assert.equal(got.trailers?.['x-trailer'], 'done');
    } finally {
      session.destroy();
    }
  }

  it('resets the stream whose DATA takes the open streams past maxBufferedBytes, and serves on', async () => {
    const small = new EchoServer({ maxConcurrentStreams: 100, maxBufferedBytes: 100_000 });
    const session = nodeConnect(await listen(small.server));
    try {
      // Two held requests of 60 kB: together over the bound, so one of them is reset.
      const held = [1, 2].map((i) => nodeRequest(session, { ':path': '/hold' }, bytesOf(60_000, i)));
      const settled = await Promise.race(held.map((h) => h.done));
      assert.equal(settled.rstCode, ENHANCE_YOUR_CALM);
      for (const s of small.served) s.release();
      const answers = await Promise.all(held.map((h) => h.done));
      assert.deepEqual(answers.map((a) => a.rstCode).sort(), [0, ENHANCE_YOUR_CALM]);
      const kept = answers.findIndex((a) => a.rstCode === 0);
      assert.ok(answers[kept]!.body.equals(bytesOf(60_000, kept + 1)));
      // The reset stream's bytes and the answered one's are released: 90 kB fits again.
      const after = await nodeRequest(session, { ':path': '/echo' }, bytesOf(90_000, 3)).done;
      assert.ok(after.body.equals(bytesOf(90_000, 3)));
    } finally {
      session.destroy();
      await small.close();
    }
  });

  it('closes a connection that is not HTTP/2 (an HTTP/1.1 request) after GOAWAY PROTOCOL_ERROR', async () => {
    const peer = new RawPeer(port);
    peer.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const got = await peer.closed;
    const { frames, rest } = parseFrames(got);
    assert.equal(rest, 0);
    assert.equal(frames[0]?.type, SETTINGS);
    assert.deepEqual(goaways(got), [[0, ErrorCode.PROTOCOL_ERROR]]);
    const debug = frames
      .find((f) => f.type === GOAWAY)!
      .payload.subarray(8)
      .toString();
    assert.match(debug, /not an HTTP\/2 client preface/);
    await stillServes();
  });

  const violations: [string, () => Buffer, ErrorCode][] = [
    ['DATA on stream 0', () => frameBytes(DATA, 0, 0, Buffer.from('abc')), ErrorCode.PROTOCOL_ERROR],
    [
      'a frame of 16,385 bytes',
      () => frameBytes(DATA, 0, 1, Buffer.alloc(16_385)),
      ErrorCode.FRAME_SIZE_ERROR,
    ],
    [
      'a CONTINUATION without HEADERS',
      () => frameBytes(CONTINUATION, END_HEADERS, 1, Buffer.from([0x82])),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'HEADERS with a malformed HPACK block (index 0)',
      () => frameBytes(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.from([0x80])),
      ErrorCode.COMPRESSION_ERROR,
    ],
    [
      'HEADERS with an HPACK index past the table',
      () => frameBytes(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.from([0xbf])),
      ErrorCode.COMPRESSION_ERROR,
    ],
    ['a PUSH_PROMISE', () => frameBytes(PUSH_PROMISE, END_HEADERS, 1, u32(2)), ErrorCode.PROTOCOL_ERROR],
    [
      'a WINDOW_UPDATE past 2^31-1 on the connection',
      () => frameBytes(WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1)),
      ErrorCode.FLOW_CONTROL_ERROR,
    ],
    ['a PING of 7 bytes', () => frameBytes(PING, 0, 0, Buffer.alloc(7)), ErrorCode.FRAME_SIZE_ERROR],
    [
      'a flood of empty CONTINUATION frames',
      () =>
        Buffer.concat([
          frameBytes(HEADERS, 0, 1, Buffer.from([0x83])),
          ...Array.from({ length: 1_000 }, () => frameBytes(CONTINUATION, 0, 1, Buffer.alloc(0))),
        ]),
      ErrorCode.ENHANCE_YOUR_CALM,
    ],
    [
      'a frame between HEADERS and its CONTINUATION',
      () =>
        Buffer.concat([
          frameBytes(HEADERS, 0, 1, Buffer.from([0x83])),
          frameBytes(PING, 0, 0, Buffer.alloc(8)),
        ]),
      ErrorCode.PROTOCOL_ERROR,
    ],
  ];

  for (const [what, bytes, code] of violations)
    it(`answers ${what} with GOAWAY ${code}, closes, and keeps accepting connections`, async () => {
      const peer = new RawPeer(port);
      peer.hello(bytes());
      const got = await peer.closed;
      const codes = goaways(got);
      assert.equal(codes.length, 1, `one GOAWAY in ${got.length} bytes`);
      assert.equal(codes[0]![1], code);
      await stillServes();
    });

  it('resets malformed requests PROTOCOL_ERROR (RFC 9113 8.2-8.3) and serves the next one', async () => {
    const peer = new RawPeer(port);
    const bad: string[][] = [
      [...REQUEST, 'X-Upper', 'a'],
      [...REQUEST, 'connection', 'keep-alive'],
      [...REQUEST, 'te', 'gzip'],
      [':method', 'POST', ':scheme', 'http'],
      ['content-type', 'application/grpc', ...REQUEST],
      [...REQUEST, ':status', '200'],
    ];
    peer.hello(...bad.map((fields, i) => headersFrame(2 * i + 1, fields, true)));
    for (let i = 0; i < bad.length; i++) {
      const rst = await peer.until((f) => f.type === RST_STREAM && f.id === 2 * i + 1);
      assert.equal(rst.payload.readUInt32BE(0), ErrorCode.PROTOCOL_ERROR, JSON.stringify(bad[i]));
    }
    const id = 2 * bad.length + 1;
    peer.socket.write(
      Buffer.concat([headersFrame(id, REQUEST, false), frameBytes(DATA, END_STREAM, id, Buffer.from('ok'))]),
    );
    await peer.until((f) => f.type === HEADERS && f.id === id && (f.flags & END_STREAM) !== 0);
    assert.deepEqual(goaways(peer.received), []);
    peer.socket.destroy();
  });

  it('answers a PING with a PING ACK of the same 8 bytes, and ignores an unknown frame type', async () => {
    const peer = new RawPeer(port);
    const opaque = Buffer.from('8 bytes!');
    peer.hello(frameBytes(0xfa, 0xff, 0, Buffer.from('ignore me')), frameBytes(PING, 0, 0, opaque));
    const pong = await peer.until((f) => f.type === PING);
    assert.equal(pong.flags, ACK);
    assert.equal(pong.id, 0);
    assert.ok(pong.payload.equals(opaque));
    // The connection is still good: a request on it gets its echo.
    peer.socket.write(
      Buffer.concat([headersFrame(1, REQUEST, false), frameBytes(DATA, END_STREAM, 1, Buffer.from('hi'))]),
    );
    const trailers = await peer.until((f) => f.type === HEADERS && (f.flags & END_STREAM) !== 0);
    assert.equal(trailers.id, 1);
    const data = parseFrames(peer.received).frames.filter((f) => f.type === DATA && f.id === 1);
    assert.equal(Buffer.concat(data.map((f) => f.payload)).toString(), 'hi');
    assert.deepEqual(goaways(peer.received), []);
    peer.socket.destroy();
  });

  it('survives 300 connections of random and mutated frames, then still serves', async function () {
    this.timeout(60_000);
    const thrown: unknown[] = [];
    const guard = (err: unknown): void => void thrown.push(err);
    process.on('uncaughtException', guard);
    try {
      const random = prng(20_240_601);
      const int = (n: number): number => Math.floor(random() * n);
      const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
      const oneFrame = (nextId: () => number): Buffer => {
        switch (int(6)) {
          case 0:
            return headersFrame(nextId(), REQUEST, random() < 0.5);
          case 1:
            return frameBytes(DATA, int(2) | (int(2) << 3), 1 + 2 * int(4), bytes(int(40)));
          case 2:
            return frameBytes(int(12), int(256), int(8), bytes(int(24)));
          case 3: {
            const f = headersFrame(nextId(), REQUEST, random() < 0.5);
            f[9 + int(f.length - 9)] = int(256);
            return f;
          }
          case 4: {
            const f = frameBytes(
              [WINDOW_UPDATE, RST_STREAM, PING, SETTINGS][int(4)]!,
              int(2),
              int(4),
              bytes(4 * int(3)),
            );
            return f;
          }
          default: {
            const f = frameBytes(int(10), int(256), int(6), bytes(int(12)));
            f[int(f.length)] = int(256);
            return f;
          }
        }
      };
      let refused = 0;
      const servedBefore = echo.served.length;
      const connection = async (): Promise<void> => {
        let id = -1;
        const nextId = (): number => (id += 2);
        const frames = Array.from({ length: 1 + int(8) }, () => oneFrame(nextId));
        const peer = new RawPeer(port);
        peer.hello(...frames);
        peer.socket.end();
        if (goaways(await peer.closed).length > 0) refused++;
      };
      for (let round = 0; round < 30; round++) await Promise.all(Array.from({ length: 10 }, connection));
      await stillServes();
      assert.deepEqual(thrown, []);
      // Both paths were taken: connections failed with GOAWAY, and requests reached the handler.
      assert.ok(refused > 30 && refused < 300, `${refused} connections got GOAWAY`);
      assert.ok(
        echo.served.length - servedBefore > 30,
        `${echo.served.length - servedBefore} requests served`,
      );
    } finally {
      process.off('uncaughtException', guard);
    }
  });

  it('ends a stream with an empty DATA while its window is below zero', async () => {
    // The client lowers SETTINGS_INITIAL_WINDOW_SIZE to 0 after 100 bytes came on a stream: its
    // window is then -100 (RFC 9113, 6.9.2), and the stream's end is an empty DATA with END_STREAM.
    let answer: H2Stream | undefined;
    const { server, connections } = createH2Server(
      (stream) => {
        answer = stream;
        stream.handler = new Recorder((s) => {
          s.sendHeaders([':status', '200'], false);
          s.write(Buffer.alloc(100, 1), false);
        });
      },
      { maxConcurrentStreams: 10 },
    );
    const rawPort = await listen(server);
    const peer = new RawPeer(rawPort);
    try {
      peer.hello(headersFrame(1, REQUEST, true));
      await peer.until((f) => f.type === DATA && f.id === 1);
      const acks = (): number =>
        parseFrames(peer.received).frames.filter((f) => f.type === SETTINGS && f.flags & ACK).length;
      const before = acks();
      peer.socket.write(frameBytes(SETTINGS, 0, 0, Buffer.from([0, 4, 0, 0, 0, 0])));
      await peer.until(() => acks() > before);
      answer!.write(Buffer.alloc(0), true);
      // A PING after the WINDOW_UPDATE: its ACK comes after whatever the update let go.
      const pong = frameBytes(PING, ACK, 0, Buffer.from('after wu'));
      peer.socket.write(
        Buffer.concat([
          frameBytes(WINDOW_UPDATE, 0, 1, u32(200)),
          frameBytes(PING, 0, 0, Buffer.from('after wu')),
        ]),
      );
      await peer.untilBytes(pong);
      const { frames, rest } = parseFrames(peer.received);
      const bad = frames.find((f) => f.payload.length > 16_384);
      assert.equal(bad, undefined, 'a frame longer than SETTINGS_MAX_FRAME_SIZE');
      assert.equal(rest, 0, 'a frame header whose length runs past everything received');
      const last = frames.filter((f) => f.type === DATA && f.id === 1).at(-1);
      assert.equal(last?.flags, END_STREAM);
      assert.equal(last?.payload.length, 0);
      assert.deepEqual(goaways(peer.received), []);
    } finally {
      peer.socket.destroy();
      for (const c of connections) c.destroy(new Error('the test is over'));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('our client when the server is gone', () => {
    it('closes the request with an error naming ECONNREFUSED on a closed port', async () => {
      const client = H2ClientConnection.open('127.0.0.1', await closedPort());
      const got = await request(client, REQUEST, Buffer.from('nobody'));
      assert.notEqual(got.code, 0);
      assert.match(String(got.error?.message), /ECONNREFUSED/);
      assert.equal(client.usable, false);
    });

    it('closes the request with an error when the server socket dies mid-answer', async () => {
      const node = new NodeEchoServer();
      const sockets: Socket[] = [];
      node.server.on('connection', (s: Socket) => sockets.push(s));
      const nodePort = await listen(node.server);
      node.intercept = (stream) => {
        stream.respond({ ':status': 200 });
        stream.write(Buffer.alloc(50_000, 2), () => {
          for (const s of sockets) s.destroy();
        });
        return true;
      };
      const client = H2ClientConnection.open('127.0.0.1', nodePort);
      try {
        const got = await request(client, REQUEST, Buffer.from('x'));
        assert.notEqual(got.code, 0);
        assert.ok(got.error instanceof Error);
        assert.ok(!got.ended);
        assert.equal(client.usable, false);
      } finally {
        client.destroy(new Error('the test is over'));
        await node.close();
      }
    });
  });
});
