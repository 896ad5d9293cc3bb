/**
 * One unary call on the gRPC front's HTTP/2 stream (`server.ts` picks its method): the request's
 * body gathered up to the limit, its deadline and its cancellation, the handler run, and the
 * answer or failure written. The call is the stream's handler (`../h2/stream.ts`) until it is
 * answered, and leaves it then: the stream lives on until it closes and holds nothing of the call
 * after that (the request, the answer and the route's state would otherwise be copied by the
 * next young-generation collection; bench/profiles/grpc-path.md).
 */
import { ErrorCode } from '../h2/frames';
import type { H2Stream, StreamHandler } from '../h2/stream';
import { Cancellation } from './cancellation';
import type { UnaryAnswer, UnaryCall } from './infer';
import { errorStatus } from './status';
import { Code, answer, fail, unframe, type RequestMetadata } from './wire';

/** What every call of one front shares. */
export interface FrontContext {
  maxBytes: number;
  /** A request refused before its handler ran (a broken frame): counted like HTTP's 400. */
  rejected(): void;
  log(message: string): void;
}

export class FrontCall implements StreamHandler {
  private readonly cancellation = new Cancellation();
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly deadline: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: H2Stream,
    private readonly metadata: RequestMetadata,
    private readonly path: string,
    private readonly handler: (call: UnaryCall) => Promise<UnaryAnswer>,
    private readonly ctx: FrontContext,
    /** The client's `grpc-timeout` in ms, if it set one. */
    budget: number | undefined,
  ) {
    this.deadline = budget === undefined ? Infinity : Date.now() + budget;
    // Whole ms: Node keeps one timer list per distinct duration, and a client's deadline in µs
    // (grpc-go's "19999958u") would otherwise make a new list, queued and dequeued, for each call.
    this.timer = budget === undefined ? undefined : setTimeout(expire, Math.ceil(budget), this);
    stream.handler = this;
  }

  expire(): void {
    this.cancellation.abort(new DOMException('the deadline passed', 'TimeoutError'));
  }

  /** Nothing more comes from the stream to this call (it is answered, or about to be). */
  private leave(): void {
    clearTimeout(this.timer);
    if (this.stream.handler === this) this.stream.handler = undefined;
  }

  headers(): void {
    // Trailers from the client: a unary call has none worth reading; its END_STREAM follows.
  }

  // A client resets the stream at its deadline too: that one is the deadline, not a cancel.
  close(_stream: H2Stream, code: number): void {
    this.leave();
    if (code === ErrorCode.NO_ERROR) return;
    if (Date.now() >= this.deadline - 5) this.expire();
    else this.cancellation.abort();
  }

  data(_stream: H2Stream, c: Buffer): void {
    this.size += c.length;
    if (this.size > this.ctx.maxBytes + 5) {
      this.leave();
      fail(
        this.stream,
        Code.RESOURCE_EXHAUSTED,
        `the request is larger than the limit of ${this.ctx.maxBytes} bytes`,
      );
      // The answer is complete: RST_STREAM(NO_ERROR) stops the client's upload without an error
      // (RFC 9113, 8.1). CANCEL made clients that were still sending report CANCELLED instead.
      this.stream.reset(ErrorCode.NO_ERROR);
      return;
    }
    this.chunks.push(c);
  }

  end(): void {
    const { chunks, size, stream } = this;
    const unframed = unframe(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    if (!unframed.ok) {
      this.leave();
      this.ctx.rejected();
      return fail(stream, unframed.code, unframed.details);
    }
    const { metadata, deadline, cancellation } = this;
    this.handler({ headers: metadata, message: unframed.message, deadline, signal: cancellation }).then(
      (res) => {
        this.leave();
        answer(stream, res.message, res.metadata);
      },
      (err: unknown) => {
        this.leave();
        const failure = errorStatus(err);
        if (failure.code === Code.INTERNAL && !/^error deserializing/.test(failure.details))
          this.ctx.log(`error on gRPC ${this.path}: ${(err as Error)?.stack ?? String(err)}`);
        fail(stream, failure.code, failure.details, failure.metadata);
      },
    );
  }
}

function expire(call: FrontCall): void {
  call.expire();
}
