/**
 * Calls to the variants' V2 servers over pooled keep-alive connections (one undici Pool per
 * origin), with connect and response timeouts, and failures classified the way the client is
 * answered: 504 when an upstream timed out, 502 when it could not be reached or failed.
 */
import { Pool } from 'undici';

export interface UpstreamTimeouts {
  connectMs: number;
  upstreamMs: number;
}

export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/** An upstream call that produced no usable answer; `status` is what the client gets. */
export class UpstreamError extends Error {
  constructor(
    readonly status: 502 | 504,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
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

/** The pools to every upstream the router talks to. */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();

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
        // Below uvicorn's (MLServer's) 5 s idle timeout, which it does not announce: a pooled
        // connection kept longer is closed by the server and its reuse fails the request.
        keepAliveTimeout: 2_000,
        keepAliveMaxTimeout: 2_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
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
  ): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      let status = 0;
      let contentType: string | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      const fail = (err: Error): void => {
        const code = (err as { code?: string }).code ?? '';
        const where = `${target.origin}${target.modelPath}${suffix}`;
        reject(
          TIMEOUT_CODES.has(code)
            ? new UpstreamError(504, `${where} did not answer in time (${code})`)
            : new UpstreamError(502, `${where} failed: ${err.message}${code ? ` (${code})` : ''}`),
        );
      };
      this.pool(target.origin).dispatch(
        {
          path: target.modelPath + suffix,
          method,
          headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
          body,
        },
        {
          onConnect() {},
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
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
  }
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
