/**
 * A keep-alive pool of plain `net` sockets to one `http:` origin with a minimal HTTP/1.1 client:
 * the request goes out in one write (head and body in one buffer, Nagle off), the answer is
 * read by a small parser (status line, headers, a Content-Length, chunked or close-delimited
 * body; 1xx answers skipped). One request per connection at a time, at most `connections`
 * connections, the rest queued in order. Node's http client and undici's dispatcher cost more
 * per call than the router's own work on a kilobyte-sized answer (bench/routerCpu.ts).
 *
 * Failures carry a `code`: a socket's own (ECONNREFUSED, ECONNRESET, …) or one of
 * `H1_TIMEOUT_CODES` (connect, headers, body), `UPSTREAM_CLOSED`, `UPSTREAM_PROTOCOL`,
 * `UPSTREAM_TOO_LARGE`; `proxy.ts` maps them to 502/504.
 */
import { connect, type Socket } from 'node:net';

export const H1_TIMEOUT_CODES = ['CONNECT_TIMEOUT', 'HEADERS_TIMEOUT', 'BODY_TIMEOUT'] as const;

export interface H1Options {
  connections: number;
  connectMs: number;
  /** Longest silence while waiting for the answer's head or between its body's bytes. */
  upstreamMs: number;
  /** How long an idle connection is kept (below the server's own idle timeout). */
  keepAliveMs: number;
  maxResponseBytes: number;
}

export interface H1Answer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export type H1Done = (err: (Error & { code?: string }) | undefined, answer?: H1Answer) => void;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

function failure(message: string, code: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** One call: the request's bytes and where its outcome goes. */
export class H1Exchange {
  conn: H1Conn | undefined;
  settled = false;
  constructor(
    readonly pool: H1Pool,
    readonly bytes: Buffer,
    readonly done: H1Done,
  ) {}

  /** Gives up on the call (its outcome is already reported): the connection is closed. */
  abort(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.conn) this.conn.socket.destroy();
    else this.pool.unqueue(this);
  }

  settle(err: (Error & { code?: string }) | undefined, answer?: H1Answer): void {
    if (this.settled) return;
    this.settled = true;
    this.done(err, answer);
  }
}

const HEAD = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

class H1Conn {
  readonly socket: Socket;
  ex: H1Exchange | undefined;
  connected = false;
  /** performance.now() when it last went idle. */
  idleSince = 0;
  private phase = HEAD;
  private pending: Buffer = EMPTY;
  private status = 0;
  private contentType: string | undefined;
  private keepAlive = true;
  private remaining = 0;
  private body: Buffer = EMPTY;
  private filled = 0;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly pool: H1Pool,
    host: string,
    port: number,
  ) {
    const socket = connect({ host, port, noDelay: true });
    this.socket = socket;
    socket.setTimeout(pool.options.connectMs);
    socket.on('connect', () => {
      this.connected = true;
      // One timer for the connection's life: silence while an answer is due is a timeout; an
      // idle connection older than keepAliveMs is dropped when next taken (H1Pool.request).
      socket.setTimeout(pool.options.upstreamMs);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err: Error & { code?: string }) => this.fail(err));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onClose());
  }

  start(ex: H1Exchange): void {
    this.ex = ex;
    ex.conn = this;
    this.phase = HEAD;
    this.status = 0;
    this.contentType = undefined;
    this.keepAlive = true;
    this.socket.write(ex.bytes);
  }

  private fail(err: Error & { code?: string }): void {
    const ex = this.ex;
    this.ex = undefined;
    this.socket.destroy();
    this.pool.forget(this);
    ex?.settle(err);
  }

  private onTimeout(): void {
    if (!this.ex) return this.fail(failure('idle', 'IDLE'));
    const code = !this.connected
      ? 'CONNECT_TIMEOUT'
      : this.phase === HEAD
        ? 'HEADERS_TIMEOUT'
        : 'BODY_TIMEOUT';
    const ms = this.connected ? this.pool.options.upstreamMs : this.pool.options.connectMs;
    this.fail(failure(`no answer within ${ms} ms`, code));
  }

  private onEnd(): void {
    if (this.ex && this.phase === UNTIL_CLOSE) {
      this.keepAlive = false;
      return this.complete(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size));
    }
    this.fail(
      failure('the upstream closed the connection before its answer was complete', 'UPSTREAM_CLOSED'),
    );
  }

  private onClose(): void {
    if (this.ex)
      this.fail(failure('the connection closed before the answer was complete', 'UPSTREAM_CLOSED'));
    this.pool.closed(this);
  }

  private onData(chunk: Buffer): void {
    if (!this.ex) return this.fail(failure('bytes nobody asked for', 'UPSTREAM_PROTOCOL')); // not reusable
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = EMPTY;
    while (this.phase === HEAD) {
      const end = data.indexOf(CRLFCRLF);
      if (end < 0) {
        if (data.length > MAX_HEAD_BYTES)
          return this.fail(failure('the answer head is larger than 64 kB', 'UPSTREAM_PROTOCOL'));
        this.pending = data;
        return;
      }
      const problem = this.head(data.toString('latin1', 0, end));
      if (problem) return this.fail(failure(problem, 'UPSTREAM_PROTOCOL'));
      data = data.subarray(end + 4);
      const phase: number = this.phase;
      if (phase === LENGTH && this.remaining === 0) return this.complete(EMPTY, data.length > 0);
    }
    if (this.phase === LENGTH) this.lengthBody(data);
    else if (this.phase === CHUNKED) this.chunkedBody(data);
    else this.collect(data);
  }

  /** Reads the answer's head; undefined when it can be used, else what is wrong with it. */
  private head(text: string): string | undefined {
    const eol = text.indexOf('\r\n');
    if (!/^HTTP\/1\.[01] \d{3}/.test(text))
      return `not an HTTP/1.x answer: "${text.slice(0, eol < 0 ? 60 : Math.min(eol, 60))}"`;
    const status = Number(text.slice(9, 12));
    let length = -1;
    let chunked = false;
    let keepAlive = text.charCodeAt(7) === 0x31; // HTTP/1.1 keeps the connection unless told
    let contentType: string | undefined;
    // Line by line without splitting; only the names starting with c or t matter here.
    for (let at = eol; at >= 0;) {
      const start = at + 2;
      at = text.indexOf('\r\n', start);
      const end = at < 0 ? text.length : at;
      const colon = text.indexOf(':', start);
      if (colon <= start || colon >= end)
        return `a malformed header line in the answer: "${text.slice(start, Math.min(end, start + 60))}"`;
      const first = text.charCodeAt(start) | 0x20;
      if (first !== 0x63 && first !== 0x74) continue;
      const name = text.slice(start, colon).trim().toLowerCase();
      const value = text.slice(colon + 1, end).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length >= 0 && Number(value) !== length))
          return `an invalid content-length in the answer: "${value.slice(0, 40)}"`;
        length = Number(value);
      } else if (name === 'content-type') contentType = value;
      else if (name === 'transfer-encoding') chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === 'connection') {
        const v = value.toLowerCase();
        if (v.includes('close')) keepAlive = false;
        else if (v.includes('keep-alive')) keepAlive = true;
      }
    }
    if (status === 101) return 'the upstream switched protocols (101), which the router does not ask for';
    if (status < 200) return undefined; // 100 Continue, 103 Early Hints: the real answer follows
    this.status = status;
    this.contentType = contentType;
    this.keepAlive = keepAlive;
    this.size = 0;
    if (status === 204 || status === 304 || this.ex?.bytes[0] === 0x48 /* HEAD */) {
      this.phase = LENGTH;
      this.remaining = 0;
    } else if (chunked) {
      this.phase = CHUNKED;
      this.parts = [];
    } else if (length >= 0) {
      if (length > this.pool.options.maxResponseBytes) return this.tooLarge();
      this.phase = LENGTH;
      this.remaining = length;
      this.body = EMPTY;
      this.filled = 0;
    } else {
      this.phase = UNTIL_CLOSE;
      this.parts = [];
      this.keepAlive = false;
    }
    return undefined;
  }

  private tooLarge(): string {
    return `the answer is larger than ${this.pool.options.maxResponseBytes} bytes`;
  }

  private lengthBody(data: Buffer): void {
    if (this.filled === 0 && data.length >= this.remaining) {
      // The whole body in one read (the usual case): no copy.
      return this.complete(data.subarray(0, this.remaining), data.length > this.remaining);
    }
    if (this.body.length === 0) this.body = Buffer.allocUnsafe(this.remaining);
    const take = Math.min(data.length, this.remaining - this.filled);
    data.copy(this.body, this.filled, 0, take);
    this.filled += take;
    if (this.filled === this.remaining) this.complete(this.body, data.length > take);
  }

  private collect(data: Buffer): boolean {
    this.size += data.length;
    if (this.size > this.pool.options.maxResponseBytes) {
      this.fail(failure(this.tooLarge(), 'UPSTREAM_TOO_LARGE'));
      return false;
    }
    if (data.length) this.parts.push(data);
    return true;
  }

  /** Chunked bodies are rare from V2 servers: the raw bytes are kept and decoded once complete. */
  private chunkedBody(data: Buffer): void {
    if (!this.collect(data)) return;
    const raw = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [raw];
    const decoded = decodeChunked(raw);
    if (decoded === 'incomplete') return;
    if (typeof decoded === 'string') return this.fail(failure(decoded, 'UPSTREAM_PROTOCOL'));
    this.complete(decoded.body, decoded.rest > 0);
  }

  private complete(body: Buffer, trailing = false): void {
    const ex = this.ex!;
    this.ex = undefined;
    this.body = EMPTY;
    if (this.parts.length) this.parts = [];
    const answer: H1Answer = { status: this.status, contentType: this.contentType, body };
    // Bytes after the answer were not asked for: such a connection is not reused.
    if (this.keepAlive && !trailing) this.pool.release(this);
    else this.socket.destroy();
    ex.settle(undefined, answer);
  }
}

/** A chunked body decoded, or 'incomplete', or what is wrong with it. */
function decodeChunked(raw: Buffer): { body: Buffer; rest: number } | 'incomplete' | string {
  const pieces: Buffer[] = [];
  let at = 0;
  let total = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return 'incomplete';
    const sizeText = raw.toString('latin1', at, eol).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return `a malformed chunk size in the answer: "${sizeText}"`;
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      // Trailers (ignored) end with an empty line.
      const end = raw.indexOf(CRLFCRLF, eol);
      const endNoTrailer = raw.length >= eol + 4 && raw[eol + 2] === 0x0d && raw[eol + 3] === 0x0a;
      if (endNoTrailer) return { body: Buffer.concat(pieces, total), rest: raw.length - eol - 4 };
      if (end < 0) return 'incomplete';
      return { body: Buffer.concat(pieces, total), rest: raw.length - end - 4 };
    }
    if (raw.length < eol + 2 + size + 2) return 'incomplete';
    pieces.push(raw.subarray(eol + 2, eol + 2 + size));
    total += size;
    at = eol + 2 + size + 2;
  }
}

/** The connections to one origin. */
export class H1Pool {
  private readonly idle: H1Conn[] = [];
  private readonly queue: H1Exchange[] = [];
  private open = 0;
  private closing: (() => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    readonly options: H1Options,
  ) {}

  /** Sends `bytes` (a whole request) on a free connection, or queues it; `done` gets the answer. */
  request(bytes: Buffer, done: H1Done): H1Exchange {
    const ex = new H1Exchange(this, bytes, done);
    let conn = this.idle.pop();
    // Idle too long: the server may be closing it right now (uvicorn does at 5 s, unannounced).
    while (conn && (conn.socket.destroyed || performance.now() - conn.idleSince > this.options.keepAliveMs)) {
      conn.socket.destroy();
      conn = this.idle.pop();
    }
    if (conn) conn.start(ex);
    else if (this.open < this.options.connections) this.connect().start(ex);
    else this.queue.push(ex);
    return ex;
  }

  private connect(): H1Conn {
    this.open++;
    return new H1Conn(this, this.host, this.port);
  }

  unqueue(ex: H1Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** A connection is free again: the next queued call takes it, else it waits idle. */
  release(conn: H1Conn): void {
    const next = this.queue.shift();
    if (next) return conn.start(next);
    if (this.closing) return void conn.socket.destroy();
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }

  /** A connection that can no longer be used leaves the idle ones at once, not at its 'close'. */
  forget(conn: H1Conn): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  closed(conn: H1Conn): void {
    this.open--;
    this.forget(conn);
    // A queued call gets a new connection in place of the closed one.
    const next = this.queue.shift();
    if (next && !this.closing) this.connect().start(next);
    else if (next) next.settle(failure('the router is shutting down', 'UPSTREAM_CLOSED'));
    if (this.open === 0) this.closing?.();
  }

  /** Lets the calls in flight finish, then closes every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.closing = resolve;
      for (const conn of this.idle.splice(0)) conn.socket.destroy();
      if (this.open === 0) resolve();
    });
  }
}
