/**
 * Peers for the HTTP/2 connection tests (h2.connection*.test.ts): our server as an echo server,
 * node:http2 as the other side in both roles, and a raw TCP socket that writes frames by hand.
 */
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { H2ClientConnection } from '../../src/router/h2/client';
import { PREFACE } from '../../src/router/h2/frames';
import { HpackEncoder } from '../../src/router/h2/hpack';
import { createH2Server, type H2Listener } from '../../src/router/h2/server';
import type { H2Stream, StreamHandler } from '../../src/router/h2/stream';

/** mulberry32: a small seeded PRNG, so a failing case reproduces. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` seeded pseudo-random bytes. */
export function bytesOf(n: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

export function listen(server: net.Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A flat header block (name, value, …) as an object (the last value of a repeated name). */
export function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** What a stream's handler heard, once `close` came. */
export interface Heard {
  blocks: string[][];
  body: Buffer;
  ended: boolean;
  code: number;
  error: Error | undefined;
}

/** A StreamHandler that records everything and resolves `done` on close. */
export class Recorder implements StreamHandler {
  readonly blocks: string[][] = [];
  readonly chunks: Buffer[] = [];
  ended = false;
  closes = 0;
  readonly done: Promise<Heard>;
  private resolve!: (heard: Heard) => void;
  constructor(private readonly onEnd?: (stream: H2Stream, r: Recorder) => void) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }
  headers(_stream: H2Stream, fields: string[]): void {
    this.blocks.push(fields);
  }
  data(_stream: H2Stream, chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
  }
  end(stream: H2Stream): void {
    this.ended = true;
    this.onEnd?.(stream, this);
  }
  close(_stream: H2Stream, code: number, error?: Error): void {
    this.closes++;
    this.resolve({ blocks: this.blocks, body: Buffer.concat(this.chunks), ended: this.ended, code, error });
  }
}

export function request(conn: H2ClientConnection, fields: readonly string[], body: Buffer): Promise<Heard> {
  const r = new Recorder();
  conn.request(fields, body, r);
  return r.done;
}

export function requestHead(path: string, extra: readonly string[] = []): string[] {
  return [
    ':method',
    'POST',
    ':scheme',
    'http',
    ':authority',
    'localhost',
    ':path',
    path,
    'content-type',
    'application/grpc',
    ...extra,
  ];
}

/** One request to our echo server, as it saw it. */
export interface Served {
  stream: H2Stream;
  fields: Record<string, string>;
  recorder: Recorder;
  /** Answers a held (`/hold`) request with its echo. */
  release(): void;
}

/**
 * Our server answering every request with its body, the request's `x-*` headers echoed as
 * `echo-*`, and trailers `x-trailer: done` plus the request's trailers echoed as `echo-t-*`.
 * `x-answer-bytes: n` answers n seeded bytes instead of the echo; `/hold` waits for `release`.
 */
export class EchoServer {
  readonly listener: H2Listener;
  readonly served: Served[] = [];
  readonly closes: { id: number; code: number }[] = [];
  open = 0;
  maxOpen = 0;
  private waiters: ((s: Served) => void)[] = [];

  constructor(options: { maxConcurrentStreams: number; streamWindow?: number; maxBufferedBytes?: number }) {
    this.listener = createH2Server((stream, flat) => this.onStream(stream, flat), options);
  }

  get server(): net.Server {
    return this.listener.server;
  }

  /** The next request the server takes (resolves with one already taken and not yet awaited). */
  next(): Promise<Served> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private onStream(stream: H2Stream, flat: string[]): void {
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    const fields = fieldsOf(flat);
    let ended = false;
    let released = fields[':path'] !== '/hold';
    const answer = (): void => {
      if (!ended || !released || stream.closed) return;
      const trailersIn = recorder.blocks.length > 0 ? recorder.blocks[0]! : [];
      const head = [':status', '200', 'content-type', 'application/grpc'];
      for (const [name, value] of Object.entries(fields))
        if (name.startsWith('x-')) head.push(`echo-${name.slice(2)}`, value);
      const size = fields['x-answer-bytes'];
      const body = size ? bytesOf(Number(size), 7) : Buffer.concat(recorder.chunks);
      stream.sendHeaders(head, false);
      stream.write(body, false);
      const trailers = ['grpc-status', '0', 'x-trailer', 'done'];
      for (let i = 0; i + 1 < trailersIn.length; i += 2)
        trailers.push(`echo-t-${trailersIn[i]!}`, trailersIn[i + 1]!);
      stream.sendHeaders(trailers, true);
    };
    const recorder = new Recorder(() => {
      ended = true;
      answer();
    });
    const originalClose = recorder.close.bind(recorder);
    recorder.close = (s, code, error) => {
      this.open--;
      this.closes.push({ id: s.id, code });
      originalClose(s, code, error);
    };
    stream.handler = recorder;
    const served: Served = {
      stream,
      fields,
      recorder,
      release: () => {
        released = true;
        answer();
      },
    };
    this.served.push(served);
    this.waiters.shift()?.(served);
  }

  close(): Promise<void> {
    for (const c of this.listener.connections) c.destroy(new Error('the test is over'));
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What a node:http2 client got for one request. */
export interface NodeAnswer {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
  rstCode: number;
  error: Error | undefined;
}

/** A node:http2 client request: `body` then, when given, request trailers. */
export function nodeRequest(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
  trailers?: http2.OutgoingHttpHeaders,
): { req: http2.ClientHttp2Stream; done: Promise<NodeAnswer> } {
  const req = session.request(
    { ':method': 'POST', 'content-type': 'application/grpc', ...headers },
    { waitForTrailers: trailers !== undefined },
  );
  if (trailers) req.on('wantTrailers', () => req.sendTrailers(trailers));
  const done = new Promise<NodeAnswer>((resolve) => {
    const chunks: Buffer[] = [];
    let got: http2.IncomingHttpHeaders = {};
    let tail: http2.IncomingHttpHeaders | undefined;
    let error: Error | undefined;
    req.on('response', (h) => (got = h));
    req.on('trailers', (t) => (tail = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e: Error) => (error = e));
    req.on('close', () =>
      resolve({
        headers: got,
        body: Buffer.concat(chunks),
        trailers: tail,
        rstCode: req.rstCode ?? 0,
        error,
      }),
    );
  });
  req.end(body);
  return { req, done };
}

/** A node:http2 server that echoes each request body with trailers, counting streams open at once. */
export class NodeEchoServer {
  readonly server: http2.Http2Server;
  readonly sockets = new Set<net.Socket>();
  readonly sessions = new Set<http2.ServerHttp2Session>();
  open = 0;
  maxOpen = 0;
  /** Called with each request before it is answered; return true to answer it yourself. */
  intercept: ((stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean) | undefined;

  constructor(settings: http2.Settings = {}) {
    this.server = http2.createServer({ settings });
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => {});
    });
    this.server.on('stream', (stream, headers) => {
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      stream.on('close', () => this.open--);
      stream.on('error', () => {});
      if (this.intercept?.(stream, headers)) return;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (stream.closed) return;
        const echo: http2.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(headers))
          if (name.startsWith('x-')) echo[`echo-${name.slice(2)}`] = value;
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', ...echo },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-trailer': 'done' }));
        stream.end(Buffer.concat(chunks));
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw TCP peer: what it wrote is by hand, what it received is kept whole. */
export class RawPeer {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  readonly closed: Promise<Buffer>;
  private watchers: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const w of this.watchers.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        for (const w of this.watchers.splice(0)) w();
        resolve(this.received);
      }),
    );
  }

  /** The preface and an empty SETTINGS, then `more`. */
  hello(...more: Buffer[]): void {
    this.socket.write(Buffer.concat([PREFACE, frameBytes(4, 0, 0), ...more]));
  }

  /** Resolves once `needle` is among the bytes received (rejects if the socket closes first). */
  async untilBytes(needle: Buffer): Promise<void> {
    while (!this.received.includes(needle)) {
      if (this.socket.destroyed) throw new Error('the socket closed before the bytes came');
      await new Promise<void>((resolve) => this.watchers.push(resolve));
    }
  }

  /** Resolves once a received frame matches `test` (rejects if the socket closes first). */
  async until(test: (f: RawFrame) => boolean): Promise<RawFrame> {
    for (;;) {
      const hit = parseFrames(this.received).frames.find(test);
      if (hit) return hit;
      if (this.socket.destroyed) throw new Error('the socket closed before the frame came');
      await new Promise<void>((resolve) => this.watchers.push(resolve));
    }
  }
}

export interface RawFrame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

export function frameBytes(
  type: number,
  flags: number,
  id: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(id, 5);
  return Buffer.concat([head, payload]);
}

/** Whole frames of `bytes`, and what is left after them. */
export function parseFrames(bytes: Buffer): { frames: RawFrame[]; rest: number } {
  const frames: RawFrame[] = [];
  let at = 0;
  while (bytes.length - at >= 9) {
    const length = bytes.readUIntBE(at, 3);
    if (bytes.length - at - 9 < length) break;
    frames.push({
      type: bytes[at + 3]!,
      flags: bytes[at + 4]!,
      id: bytes.readUInt32BE(at + 5) & 0x7fffffff,
      payload: bytes.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return { frames, rest: bytes.length - at };
}

/** A HEADERS frame (END_HEADERS) for a request on `id`. */
export function headersFrame(id: number, fields: readonly string[], endStream: boolean): Buffer {
  const block = new HpackEncoder().encode(fields);
  return frameBytes(1, 0x4 | (endStream ? 0x1 : 0), id, block);
}

export function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4));
  return out;
}

/** A port nothing listens on (a server's, closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function nodeConnect(port: number, settings: http2.Settings = {}): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings });
  session.on('error', () => {});
  return session;
}

export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.close(() => resolve()));
}

export { H2ClientConnection };
