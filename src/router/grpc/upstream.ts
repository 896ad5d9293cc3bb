/**
 * Calls to the variants' V2 gRPC ports (MLServer's `grpc_port`) for requests that came over gRPC,
 * on `node:http2` (see `wire.ts` for why not grpc-js): one HTTP/2 session per address,
 * multiplexing every call and opened again when it closes; the client's message bytes go
 * upstream as they came, with the variant's model name (and, when the router wants them, the
 * outputs) appended — a later value of a singular field replaces an earlier one and a repeated
 * field's values add up (protobuf encoding, "Last One Wins"), so nothing is decoded and
 * re-encoded on the way. The client's deadline goes on as `grpc-timeout` and bounds the call; its
 * cancellation resets the stream. The answer reaches `route.ts` in the shape of an HTTP answer,
 * so augmentation, recording and failures follow the same rules on both protocols:
 *
 * | upstream status                          | becomes                                             |
 * | ---------------------------------------- | --------------------------------------------------- |
 * | OK                                       | 200 with the V2 JSON of the response                |
 * | INVALID_ARGUMENT, OUT_OF_RANGE           | 400 answered (the client's mistake, not an error)   |
 * | NOT_FOUND                                | 404 answered                                        |
 * | RESOURCE_EXHAUSTED                       | 429 answered                                        |
 * | UNAVAILABLE, or no connection            | 502, unreachable (an error of the variant)          |
 * | DEADLINE_EXCEEDED, or the deadline passed| 504 (an error of the variant)                       |
 * | CANCELLED (the client cancelled)         | 499 (recorded, not an error)                        |
 * | anything else (INTERNAL, UNKNOWN, …)     | 500 answered → 502 (an error of the variant)        |
 */
import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
} from 'node:http2';
import { connect as netConnect } from 'node:net';
import { REQUEST_ID_HEADER } from '../../shared/routerApi';
import type { RoutedVariant } from '../config';
import { UpstreamError, type CallOptions, type UpstreamResponse } from '../proxy';
import { SERVICE } from './proto';
import { decodeInferResponse } from './protoRead';
import { responseToJson, type GrpcInferResponse } from './tensors';
import { Code, decodeMessage as decodeDetails, retargeted, timeoutHeader, unframe } from './wire';

const ANSWERED: Partial<Record<Code, number>> = {
  [Code.INVALID_ARGUMENT]: 400,
  [Code.OUT_OF_RANGE]: 400,
  [Code.NOT_FOUND]: 404,
  [Code.RESOURCE_EXHAUSTED]: 429,
};

/** An upstream's 200, with its decoded message and its bytes, so the front can pass them on. */
export interface GrpcUpstreamResponse extends UpstreamResponse {
  message: Uint8Array;
  decoded: GrpcInferResponse;
}

export class GrpcUpstreams {
  private readonly sessions = new Map<string, ClientHttp2Session>();

  constructor(
    /** Used when the client set no deadline (timeouts.upstreamMs). */
    private readonly defaultTimeoutMs: number,
    private readonly maxMessageBytes = 64 * 1024 * 1024,
  ) {}

  private session(address: string): ClientHttp2Session {
    const open = this.sessions.get(address);
    if (open && !open.closed && !open.destroyed) return open;
    const url = new URL(`http://${address}`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    // TCP_NODELAY: calls share the session, so a small write must not wait for the ACK of an
    // earlier one (Nagle's algorithm with delayed ACKs held answers up to 40 ms).
    const session = connect(`http://${address}`, {
      createConnection: () => netConnect({ host, port, noDelay: true }),
    });
    const forget = (): void => {
      if (this.sessions.get(address) === session) this.sessions.delete(address);
    };
    // A session's failure reaches its streams; here it only leaves the pool.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.unref();
    this.sessions.set(address, session);
    return session;
  }

  /** ModelInfer on the variant's gRPC port: the client's `message` bytes, retargeted; `outputs` (names) added when given. */
  infer(
    variant: RoutedVariant & { grpc: string },
    message: Uint8Array,
    id: string,
    outputs: readonly string[] | undefined,
    options: CallOptions,
  ): Promise<UpstreamResponse> {
    const where = `${variant.grpc} (model ${variant.model}, gRPC)`;
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted)
        return reject(new UpstreamError(499, `the client cancelled the call to ${where}`));
      let settled = false;
      const chunks: Buffer[] = [];
      let size = 0;
      let headerStatus: string | undefined;
      const stream = this.session(variant.grpc).request({
        ':method': 'POST',
        ':path': `/${SERVICE}/ModelInfer`,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': timeoutHeader(timeoutMs),
        [REQUEST_ID_HEADER]: id,
      });
      /** `cancel`: the stream is still open and must be reset (a deadline, a cancel, a message too large). */
      const done = (settle: () => void, cancel = true): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        settle();
        detach();
        if (cancel && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      };
      const timer = setTimeout(
        () =>
          done(() => reject(new UpstreamError(504, `${where} did not answer within the client's deadline`))),
        timeoutMs,
      );
      const onAbort = (): void =>
        done(() =>
          reject(
            (options.signal?.reason as Error | undefined)?.name === 'TimeoutError'
              ? new UpstreamError(504, `${where} did not answer within the client's deadline`)
              : new UpstreamError(499, `the client cancelled the call to ${where}`),
          ),
        );
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const finish = (grpcStatus: string | undefined, grpcMessage: string | undefined): void =>
        done(() => {
          const code = grpcStatus === undefined ? Code.UNKNOWN : (Number(grpcStatus) as Code);
          const details = decodeDetails(grpcMessage);
          if (code === Code.OK) return resolve(this.decode(where, joined(chunks, size)));
          if (code === Code.UNAVAILABLE) return reject(new UpstreamError(502, `${where} failed: ${details}`));
          if (code === Code.DEADLINE_EXCEEDED)
            return reject(new UpstreamError(504, `${where} did not answer within the client's deadline`));
          if (code === Code.CANCELLED)
            return reject(new UpstreamError(499, `the client cancelled the call to ${where}`));
          resolve(json(ANSWERED[code] ?? 500, { error: `${Code[code] ?? `code ${code}`}: ${details}` }));
        }, false);

      const onResponse = (headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void => {
        const httpStatus = headers[':status'];
        if (httpStatus !== 200)
          return done(() =>
            reject(new UpstreamError(502, `${where} failed: it answered HTTP ${httpStatus}`)),
          );
        // A trailers-only answer carries its status in the headers.
        if (headers['grpc-status'] !== undefined)
          headerStatus = String(headers['grpc-status']) + '\0' + String(headers['grpc-message'] ?? '');
      };
      const onData = (c: Buffer): void => {
        size += c.length;
        if (size > this.maxMessageBytes + 5)
          return done(() =>
            resolve(json(500, { error: `${where} answered more than ${this.maxMessageBytes} bytes` })),
          );
        chunks.push(c);
      };
      const onTrailers = (t: IncomingHttpHeaders): void =>
        finish(t['grpc-status'] as string | undefined, t['grpc-message'] as string | undefined);
      const onClose = (): void => {
        if (headerStatus !== undefined) {
          const [code, msg] = headerStatus.split('\0');
          return finish(code, msg);
        }
        done(() =>
          reject(
            new UpstreamError(
              502,
              `${where} failed: the stream closed without a status (code ${stream.rstCode})`,
            ),
          ),
        );
      };
      const onError = (err: Error): void =>
        done(() => reject(new UpstreamError(502, `${where} failed: ${err.message}`)));
      // Once settled, the stream lets go of this call's closures: it lives on until it closes, and
      // through them it kept everything the call held (the answer, the promise, the route's state)
      // alive, to be copied by the next young-generation collection (bench/profiles/grpc-path.md).
      const detach = (): void => {
        stream.off('response', onResponse);
        stream.off('data', onData);
        stream.off('trailers', onTrailers);
        stream.off('close', onClose);
        stream.off('error', onError);
      };
      stream.on('error', ignore);
      stream.on('response', onResponse);
      stream.on('data', onData);
      stream.on('trailers', onTrailers);
      stream.on('close', onClose);
      stream.on('error', onError);
      stream.end(retargeted(message, variant.model, outputs));
    });
  }

  private decode(where: string, body: Buffer): UpstreamResponse {
    const unframed = unframe(body);
    try {
      if (!unframed.ok) throw new Error(unframed.details);
      const decoded = decodeInferResponse(unframed.message);
      const answer: GrpcUpstreamResponse = {
        ...json(200, responseToJson(decoded)),
        message: unframed.message,
        decoded,
      };
      return answer;
    } catch (e) {
      return json(500, { error: `${where} answered a malformed response: ${(e as Error).message}` });
    }
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

/** Keeps an error after the call settled from being unhandled, and holds nothing. */
function ignore(): void {}

function json(status: number, body: unknown): UpstreamResponse {
  return { status, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) };
}

/** The body's chunks as one buffer: most answers come in one, which needs no copy. */
function joined(chunks: Buffer[], size: number): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
