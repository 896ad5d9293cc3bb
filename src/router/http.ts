/** HTTP plumbing shared by the handlers: V2-style JSON errors and bounded body reading. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failure the client caused (4xx) or is told about (5xx), answered as `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Sends a JSON body with a content length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const data = Buffer.from(JSON.stringify(body));
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': data.length });
  res.end(data);
}

/** A request header by lowercase name: one value (the first, or duplicates joined as node:http joins them). */
export type HeaderOf = (name: string) => string | undefined;

/** node:http's request headers as a `HeaderOf`. */
export function headerOf(req: IncomingMessage): HeaderOf {
  return (name) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
}

/** The status, headers and JSON body that answer an HttpError (or anything else, as a 500). */
export function errorAnswer(
  err: unknown,
  headers: Record<string, string> = {},
): { status: number; headers: Record<string, string>; body: unknown } {
  if (err instanceof HttpError)
    return {
      status: err.status,
      headers: { ...headers, ...err.headers },
      body: { error: err.message, ...err.extra },
    };
  return {
    status: 500,
    headers,
    body: { error: `internal router error: ${(err as Error)?.message ?? String(err)}` },
  };
}

/** Answers an HttpError (or anything else, as a 500) in the V2 error shape. */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const answer = errorAnswer(err, headers);
  sendJson(res, answer.status, answer.body, answer.headers);
}

/**
 * Reads a request body up to `limit` bytes. A larger one is refused with 413 as soon as its
 * Content-Length or its bytes say so; the server discards the rest (`drainBody`) before it
 * answers and closes the connection, so the unread bytes are never parsed as the next request.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(413, `the request body is larger than the router's limit of ${limit} bytes`, {
      connection: 'close',
    });
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', (err) =>
      reject(new HttpError(400, `the request body could not be read: ${err.message}`)),
    );
    req.once('aborted', () => reject(new HttpError(400, 'the client aborted the request')));
  });
}

/** Parses a JSON body, answering 400 with the parser's own message when it is not JSON. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, 'the request body is empty; send JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads and discards what is left of a refused request's body, up to `bound` bytes or `ms`, so a
 * client still sending receives the answer instead of a connection reset. Resolves at once when
 * the body was read already.
 */
export function drainBody(req: IncomingMessage, bound: number, ms: number): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('error', done);
      req.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > bound) done();
    };
    const timer = setTimeout(done, ms);
    req.on('data', onData);
    req.once('end', done);
    req.once('error', done);
    req.once('close', done);
    req.resume();
  });
}
