/**
 * One ModelInfer call on an upstream's HTTP/2 stream (`upstream.ts` opens the stream and says
 * what the answer becomes). The call is the stream's handler (`../h2/stream.ts`) and leaves it
 * once settled: the stream, which lives on until it closes, holds nothing of the call after that
 * (the answer, the promise, the route's state would otherwise be kept alive and copied by the
 * next young-generation collection; bench/profiles/grpc-path.md).
 */
import { ErrorCode } from '../h2/frames';
import type { H2Stream, StreamHandler } from '../h2/stream';
import { UpstreamError, type CancelSignal, type UpstreamResponse } from '../proxy';
import { Code, decodeMessage as decodeDetails, fieldOf } from './wire';

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

export class UpstreamCall implements StreamHandler {
  private stream: H2Stream | undefined;
  private settled = false;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** The response headers came (the next block is the trailers). */
  private responded = false;
  /** `grpc-status` and `grpc-message`, from the trailers or a trailers-only answer. */
  private status: string | undefined;
  private message: string | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  /**
   * Sends the request again on a usable connection (set by the pool). Used once, when the server
   * refused the stream before answering (REFUSED_STREAM: after its GOAWAY, past its stream limit,
   * or on a connection that was closing): the server did not process it, so it is safe to retry
   * (RFC 9113, 8.7).
   */
  resend: (() => void) | undefined = undefined;
  private readonly onAbort = (): void =>
    this.fail(
      (this.signal?.reason as Error | undefined)?.name === 'TimeoutError'
        ? this.late()
        : new UpstreamError(499, `the client cancelled the call to ${this.where}`),
    );

  constructor(
    private readonly owner: CallOwner,
    private readonly where: string,
    /** Undefined when `signal` is aborted at the deadline (CallOptions.signalsDeadline). */
    timeoutMs: number | undefined,
    private readonly signal: CancelSignal | undefined,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {
    // Whole ms, so the calls share Node's timer list for the duration (frontCall.ts).
    this.timer = timeoutMs === undefined ? undefined : setTimeout(expire, Math.ceil(timeoutMs), this);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The call's stream, once the connection made it. */
  started(stream: H2Stream): void {
    this.stream = stream;
    if (this.settled) this.leave(true);
  }

  late(): UpstreamError {
    return new UpstreamError(504, `${this.where} did not answer within the client's deadline`);
  }

  /** `cancel`: the stream is still open and must be reset (a deadline, a cancel, a message too large). */
  private leave(cancel: boolean): void {
    const stream = this.stream;
    if (!stream) return;
    if (stream.handler === this) stream.handler = undefined;
    if (cancel && !stream.closed) stream.reset(ErrorCode.CANCEL);
  }

  private settle(cancel: boolean): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.leave(cancel);
  }

  succeed(r: UpstreamResponse, cancel = false): void {
    if (this.settled) return;
    this.resolve(r);
    this.settle(cancel);
  }

  fail(e: Error, cancel = true): void {
    if (this.settled) return;
    this.reject(e);
    this.settle(cancel);
  }

  headers(_stream: H2Stream, fields: string[]): void {
    if (!this.responded) {
      this.responded = true;
      const httpStatus = fieldOf(fields, ':status');
      if (httpStatus !== '200')
        return this.fail(new UpstreamError(502, `${this.where} failed: it answered HTTP ${httpStatus}`));
    }
    // The trailers, or a trailers-only answer's headers, carry the status.
    const status = fieldOf(fields, 'grpc-status');
    if (status !== undefined) {
      this.status = status;
      this.message = fieldOf(fields, 'grpc-message');
    }
  }

  data(_stream: H2Stream, c: Buffer): void {
    this.size += c.length;
    if (this.size > this.owner.maxMessageBytes + 5)
      return this.succeed(
        this.owner.answered(500, `${this.where} answered more than ${this.owner.maxMessageBytes} bytes`),
        true,
      );
    this.chunks.push(c);
  }

  end(): void {
    if (this.status === undefined)
      return this.fail(new UpstreamError(502, `${this.where} failed: the answer ended without a status`));
    const code = Number(this.status) as Code;
    if (code === Code.OK) {
      const { chunks, size } = this;
      // Most answers come in one chunk, which needs no copy.
      return this.succeed(
        this.owner.decode(this.where, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
      );
    }
    const details = decodeDetails(this.message);
    if (code === Code.UNAVAILABLE)
      return this.fail(new UpstreamError(502, `${this.where} failed: ${details}`), false);
    if (code === Code.DEADLINE_EXCEEDED) return this.fail(this.late(), false);
    if (code === Code.CANCELLED)
      return this.fail(new UpstreamError(499, `the client cancelled the call to ${this.where}`), false);
    this.succeed(this.owner.answered(ANSWERED[code] ?? 500, `${Code[code] ?? `code ${code}`}: ${details}`));
  }

  close(_stream: H2Stream, code: number, error?: Error): void {
    if (this.settled) return;
    const resend = this.resend;
    if (code === ErrorCode.REFUSED_STREAM && !this.responded && resend) {
      this.resend = undefined;
      this.stream = undefined;
      return resend();
    }
    this.fail(
      new UpstreamError(
        502,
        error
          ? `${this.where} failed: ${error.message}`
          : `${this.where} failed: the stream closed without a status (code ${code})`,
      ),
      false,
    );
  }
}

function expire(call: UpstreamCall): void {
  call.fail(call.late());
}
