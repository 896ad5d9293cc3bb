/**
 * Calls to the variants' V2 servers over pooled keep-alive connections (one undici Pool per
 * origin), with connect and response timeouts, and failures classified the way the client is
 * answered: 504 when an upstream timed out, 502 when it could not be reached or failed.
 */
import { Pool } from 'undici';
import { H1Pool, H1_TIMEOUT_CODES } from './h1Pool';

export interface UpstreamTimeouts {
  connectMs: number;
  upstreamMs: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  /** The body already parsed (a gRPC upstream's answer, made from its message): read instead of parsing `body`. */
  readonly json?: unknown;
}

/** An upstream call that produced no usable answer; `status` is what the client gets. */
export class UpstreamError extends Error {
  constructor(
    /** 499: the client cancelled the call (nginx's "client closed request"; not the variant's error). */
    readonly status: 499 | 502 | 504,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const TIMEOUT_CODES = new Set<string>([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  ...H1_TIMEOUT_CODES,
]);
// Below uvicorn's (MLServer's) 5 s idle timeout, which it does not announce: a pooled
// connection kept longer is closed by the server and its reuse fails the request.
const KEEP_ALIVE_MS = 2_000;
// A misbehaving upstream must not be able to make the router buffer without bound.
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Where one model is served: origin plus the path of its V2 routes. */
export interface UpstreamTarget {
  origin: string;
  /** `/v2/models/<model>` under the URL's own path prefix, model name URL-encoded. */
  modelPath: string;
}

/** Splits a variant's base URL and model into the pool key and the model's V2 path. */
export function upstreamTarget(url: string, model: string): UpstreamTarget {
  const u = new URL(url);
  const prefix = u.pathname.replace(/\/+$/, '');
  return { origin: u.origin, modelPath: `${prefix}/v2/models/${encodeURIComponent(model)}` };
}

/**
 * What a call reads of a cancellation: an AbortSignal, or the gRPC front's lighter
 * `Cancellation` (grpc/cancellation.ts).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Per call: the client's cancellation and what is left of its deadline (gRPC passes both on). */
export interface CallOptions {
  /** Aborting it cancels the call: 499, or 504 when its reason is a `TimeoutError`. */
  signal?: CancelSignal;
  /** Milliseconds until the client's deadline; the call fails with 504 when it passes first. */
  timeoutMs?: number;
  /**
   * `signal` is aborted with a TimeoutError at that deadline (the gRPC front's own timer), so the
   * call arms no second timer for it.
   */
  signalsDeadline?: boolean;
}

/** The pools to every upstream the router talks to. */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();
  private readonly h1Pools = new Map<string, { pool: H1Pool; host: string }>();

  constructor(
    private readonly timeouts: UpstreamTimeouts,
    private readonly connections: number,
  ) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.connections,
        connect: { timeout: this.timeouts.connectMs },
        headersTimeout: this.timeouts.upstreamMs,
        bodyTimeout: this.timeouts.upstreamMs,
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: KEEP_ALIVE_MS,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** The raw keep-alive pool of an `http:` origin (`h1Pool.ts`); undefined for other schemes. */
  private h1(origin: string): { pool: H1Pool; host: string } | undefined {
    let entry = this.h1Pools.get(origin);
    if (!entry) {
      const u = new URL(origin);
      if (u.protocol !== 'http:') return undefined;
      const pool = new H1Pool(u.hostname.replace(/^\[(.*)\]$/, '$1'), Number(u.port || 80), {
        connections: this.connections,
        connectMs: this.timeouts.connectMs,
        upstreamMs: this.timeouts.upstreamMs,
        keepAliveMs: KEEP_ALIVE_MS,
        maxResponseBytes: MAX_RESPONSE_BYTES,
      });
      entry = { pool, host: u.host };
      this.h1Pools.set(origin, entry);
    }
    return entry;
  }

  /**
   * One HTTP call; resolves with any HTTP answer, rejects with UpstreamError when there is none.
   * A raw dispatch handler collects the body: the request API's body stream costs more than
   * the proxying itself for kilobyte-sized answers.
   */
  call(
    target: UpstreamTarget,
    method: 'GET' | 'POST',
    suffix: string,
    body: Buffer | undefined,
    headers: Record<string, string>,
    options: CallOptions = {},
  ): Promise<UpstreamResponse> {
    const { signal, timeoutMs } = options;
    if (!signal && timeoutMs === undefined) {
      const h1 = this.h1(target.origin);
      if (h1) return plainCall(h1, target, method, target.modelPath + suffix, body, headers);
    }
    return new Promise((resolve, reject) => {
      const where = `${target.origin}${target.modelPath}${suffix}`;
      if (signal?.aborted) return reject(new UpstreamError(499, `the client cancelled the call to ${where}`));
      let abort: ((err: Error) => void) | undefined;
      let pending: Error | undefined;
      let timer: NodeJS.Timeout | undefined;
      // Answers at once; the upstream call is aborted as soon as it has a connection.
      const cancel = (err: UpstreamError): void => {
        fail(err);
        if (abort) abort(err);
        else pending = err;
      };
      const deadlinePassed = (): UpstreamError =>
        new UpstreamError(504, `${where} did not answer within the client's deadline`);
      // A signal aborted with a TimeoutError (as AbortSignal.timeout does) is a deadline, not a cancel.
      const onAbort = (): void =>
        cancel(
          (signal?.reason as Error | undefined)?.name === 'TimeoutError'
            ? deadlinePassed()
            : new UpstreamError(499, `the client cancelled the call to ${where}`),
        );
      const settle = (): void => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined && !(options.signalsDeadline && signal))
        timer = setTimeout(() => cancel(deadlinePassed()), Math.max(0, timeoutMs));
      let status = 0;
      let contentType: string | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      const fail = (err: Error): void => {
        settle();
        reject(upstreamFailure(err, where));
      };
      const h1 = this.h1(target.origin);
      if (h1) {
        let bytes: Buffer;
        try {
          bytes = requestBytes(method, target.modelPath + suffix, h1.host, headers, body);
        } catch (err) {
          return fail(err as Error);
        }
        const exchange = h1.pool.request(bytes, (err, answer) => {
          if (err) return fail(err);
          settle();
          resolve(answer!);
        });
        abort = () => exchange.abort();
        return;
      }
      this.pool(target.origin).dispatch(
        {
          path: target.modelPath + suffix,
          method,
          headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
          body,
        },
        {
          onConnect(abortCall) {
            abort = abortCall;
            if (pending) abortCall(pending);
          },
          onHeaders(statusCode, rawHeaders) {
            status = statusCode;
            contentType = rawHeader(rawHeaders, 'content-type');
            return true;
          },
          onData(chunk) {
            size += chunk.length;
            // Too large: stop collecting and fail (undici aborts when onData throws).
            if (size > MAX_RESPONSE_BYTES)
              throw new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            settle();
            resolve({
              status,
              contentType,
              body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
            });
          },
          onError(err) {
            fail(err);
          },
        },
      );
    });
  }

  /** Closes every pool, waiting for calls in flight. */
  async close(): Promise<void> {
    await Promise.all([
      ...[...this.pools.values()].map((p) => p.close().catch(() => undefined)),
      ...[...this.h1Pools.values()].map((e) => e.pool.close()),
    ]);
    this.pools.clear();
    this.h1Pools.clear();
  }
}

/** What the client is told when a call produced no answer: 504 for a timeout, else 502. */
function upstreamFailure(err: Error, where: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = (err as { code?: string }).code ?? '';
  return TIMEOUT_CODES.has(code)
    ? new UpstreamError(504, `${where} did not answer in time (${code})`)
    : new UpstreamError(502, `${where} failed: ${err.message}${code ? ` (${code})` : ''}`);
}

/** A call without cancellation or deadline (the HTTP front's) on the raw pool: no timers, no listeners. */
function plainCall(
  h1: { pool: H1Pool; host: string },
  target: UpstreamTarget,
  method: string,
  path: string,
  body: Buffer | undefined,
  headers: Record<string, string>,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    let bytes: Buffer;
    try {
      bytes = requestBytes(method, path, h1.host, headers, body);
    } catch (err) {
      return reject(upstreamFailure(err as Error, target.origin + path));
    }
    h1.pool.request(bytes, (err, answer) =>
      err ? reject(upstreamFailure(err, target.origin + path)) : resolve(answer!),
    );
  });
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** A whole HTTP/1.1 request in one buffer: head (ASCII) and body, for one socket write. */
export function requestBytes(
  method: string,
  path: string,
  host: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value))
      throw new Error(`the header ${JSON.stringify(name)} cannot be sent upstream as it is`);
    head += `${name}: ${value}\r\n`;
  }
  if (body) head += `content-type: application/json\r\ncontent-length: ${body.length}\r\n`;
  head += '\r\n';
  const out = Buffer.allocUnsafe(head.length + (body ? body.length : 0));
  out.write(head, 0, 'latin1');
  if (body) body.copy(out, head.length);
  return out;
}

// undici's dispatch hands headers over raw: [name, value, name, value, …] as Buffers.
function rawHeader(raw: Buffer[] | string[] | null, name: string): string | undefined {
  if (!raw) return undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toString().toLowerCase() === name) return raw[i + 1]!.toString();
  }
  return undefined;
}
