/**
 * One HTTP/2 stream of a raw connection (`connection.ts`), as light as a gRPC unary call allows:
 * no EventEmitter and no closures per stream. What reads the stream sets `handler` (an object
 * whose methods the connection calls, typically the call itself), and the stream's send side
 * goes through the connection, which owns the flow-control windows and the socket.
 */
import type { H2Connection } from './connection';

/** What the connection tells a stream's reader. */
export interface StreamHandler {
  /**
   * A header block from the peer: on a client stream the response headers, then the trailers; on
   * a server stream, trailers after the request's headers. `end()` follows if END_STREAM came.
   */
  headers(stream: H2Stream, fields: string[]): void;
  data(stream: H2Stream, chunk: Buffer): void;
  /** The peer's END_STREAM: nothing more comes from it on this stream. */
  end(stream: H2Stream): void;
  /**
   * The stream is over, once: `code` 0 when both sides ended it, else the reset's code (the
   * peer's or ours) or, with `error`, what ended the connection under it.
   */
  close(stream: H2Stream, code: number, error?: Error): void;
}

/** Send-side items waiting for flow-control window, in order: data pieces and trailers. */
export type Pending = { data: Buffer; end: boolean } | { block: Buffer; end: boolean };

export class H2Stream {
  handler: StreamHandler | undefined = undefined;
  /** Bytes the peer lets us send on this stream (its SETTINGS_INITIAL_WINDOW_SIZE, then its updates). */
  sendWindow: number;
  /** Bytes we let the peer send before our next WINDOW_UPDATE; `consumed` counts towards it. */
  recvWindow: number;
  consumed = 0;
  /** Data bytes received, held by the stream's reader until the stream closes. */
  received = 0;
  headersSent = false;
  /** A client stream's final response headers came (a later block is the trailers). */
  responded = false;
  localEnded = false;
  remoteEnded = false;
  closed = false;
  /** Frames that wait for window, when any does (then everything sent after waits behind it). */
  pending: Pending[] | undefined = undefined;

  constructor(
    readonly connection: H2Connection,
    /** 0 until a client stream is opened (ids go out in order; a stream may wait for a slot). */
    public id: number,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** A header block (response headers, or trailers with `end`). */
  sendHeaders(fields: readonly string[], end: boolean): void {
    this.connection.sendHeaders(this, fields, end);
  }

  /** Data, as much as the windows let go now and the rest as they open. */
  write(data: Buffer, end: boolean): void {
    this.connection.sendData(this, data, end);
  }

  /** RST_STREAM with `code`; the handler's `close` follows at once. */
  reset(code: number): void {
    this.connection.resetStream(this, code);
  }
}
