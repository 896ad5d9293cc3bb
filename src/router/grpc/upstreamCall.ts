/**
 * One ModelInfer call on an upstream's HTTP/2 stream (`upstream.ts` opens the stream and says
 * what the answer becomes). The stream's listeners are shared functions that find the call on
 * the stream, and a settled call leaves the stream: a call allocates its state and nothing per
 * listener, and the stream, which lives on until it closes, holds nothing of the call after it
 * settled (the answer, the promise, the route's state would otherwise be kept alive and copied by
 * the next young-generation collection; bench/profiles/grpc-path.md).
 */
import {
  constants,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
} from 'node:http2';
import { UpstreamError, type CancelSignal, type UpstreamResponse } from '../proxy';
import { Code, decodeMessage as decodeDetails } from './wire';

/** What a call needs of its pool: the answer's decoding and the failures' shape. */
export interface CallOwner {
  readonly maxMessageBytes: number;
  /** A 200 from the upstream's message body (framed). */
  decode(where: string, body: Buffer): UpstreamResponse;
  /** An answered failure in the shape of an HTTP answer. */
  answered(status: number, error: string): UpstreamResponse;
}

const ANSWERED: Partial<Record<Code, number>> = {
  [Code.INVALID_ARGUMENT]: 400,
  [Code.OUT_OF_RANGE]: 400,
  [Code.NOT_FOUND]: 404,
  [Code.RESOURCE_EXHAUSTED]: 429,
};

const CALL = Symbol('upstream call');
type CallStream = ClientHttp2Stream & { [CALL]?: UpstreamCall };

export class UpstreamCall {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** A trailers-only answer's `grpc-status` and `grpc-message`, read when the stream closes. */
  private headerStatus: string | undefined;
  private headerMessage: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void =>
    this.fail(
      (this.signal?.reason as Error | undefined)?.name === 'TimeoutError'
        ? this.late()
        : new UpstreamError(499, `the client cancelled the call to ${this.where}`),
    );

  constructor(
    private readonly owner: CallOwner,
    private readonly stream: CallStream,
    private readonly where: string,
    timeoutMs: number,
    private readonly signal: CancelSignal | undefined,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {
    stream[CALL] = this;
    this.timer = setTimeout(expire, timeoutMs, this);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    stream.on('error', onError);
    stream.on('response', onResponse);
    stream.on('data', onData);
    stream.on('trailers', onTrailers);
    stream.on('close', onClose);
  }

  late(): UpstreamError {
    return new UpstreamError(504, `${this.where} did not answer within the client's deadline`);
  }

  /** `cancel`: the stream is still open and must be reset (a deadline, a cancel, a message too large). */
  private settle(cancel: boolean): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.stream[CALL] = undefined;
    if (cancel && !this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
  }

  succeed(r: UpstreamResponse, cancel = false): void {
    if (this.stream[CALL] !== this) return;
    this.resolve(r);
    this.settle(cancel);
  }

  fail(e: Error, cancel = true): void {
    if (this.stream[CALL] !== this) return;
    this.reject(e);
    this.settle(cancel);
  }

  response(headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void {
    const httpStatus = headers[':status'];
    if (httpStatus !== 200)
      return this.fail(new UpstreamError(502, `${this.where} failed: it answered HTTP ${httpStatus}`));
    // A trailers-only answer carries its status in the headers.
    if (headers['grpc-status'] !== undefined) {
      this.headerStatus = String(headers['grpc-status']);
      this.headerMessage = String(headers['grpc-message'] ?? '');
    }
  }

  data(c: Buffer): void {
    this.size += c.length;
    if (this.size > this.owner.maxMessageBytes + 5)
      return this.succeed(
        this.owner.answered(500, `${this.where} answered more than ${this.owner.maxMessageBytes} bytes`),
        true,
      );
    this.chunks.push(c);
  }

  finish(grpcStatus: string | undefined, grpcMessage: string | undefined): void {
    const code = grpcStatus === undefined ? Code.UNKNOWN : (Number(grpcStatus) as Code);
    if (code === Code.OK) {
      const { chunks, size } = this;
      // Most answers come in one chunk, which needs no copy.
      return this.succeed(
        this.owner.decode(this.where, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
      );
    }
    const details = decodeDetails(grpcMessage);
    if (code === Code.UNAVAILABLE)
      return this.fail(new UpstreamError(502, `${this.where} failed: ${details}`), false);
    if (code === Code.DEADLINE_EXCEEDED) return this.fail(this.late(), false);
    if (code === Code.CANCELLED)
      return this.fail(new UpstreamError(499, `the client cancelled the call to ${this.where}`), false);
    this.succeed(this.owner.answered(ANSWERED[code] ?? 500, `${Code[code] ?? `code ${code}`}: ${details}`));
  }

  closed(): void {
    if (this.headerStatus !== undefined) return this.finish(this.headerStatus, this.headerMessage);
    this.fail(
      new UpstreamError(
        502,
        `${this.where} failed: the stream closed without a status (code ${this.stream.rstCode})`,
      ),
    );
  }

  error(err: Error): void {
    this.fail(new UpstreamError(502, `${this.where} failed: ${err.message}`));
  }
}

// The stream's listeners: `this` is the stream; after the call settled they find nothing (an
// error then only needs a listener, so it is not unhandled).
function onError(this: CallStream, err: Error): void {
  this[CALL]?.error(err);
}
function onResponse(this: CallStream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void {
  this[CALL]?.response(headers);
}
function onData(this: CallStream, c: Buffer): void {
  this[CALL]?.data(c);
}
function onTrailers(this: CallStream, t: IncomingHttpHeaders): void {
  this[CALL]?.finish(t['grpc-status'] as string | undefined, t['grpc-message'] as string | undefined);
}
function onClose(this: CallStream): void {
  this[CALL]?.closed();
}
function expire(call: UpstreamCall): void {
  call.fail(call.late());
}
