/**
 * The sending half of a raw HTTP/2 connection (`connection.ts` adds the reading half): header
 * blocks and DATA framed for the peer's SETTINGS_MAX_FRAME_SIZE, DATA held to the peer's
 * flow-control windows (what does not fit waits on its stream, and what is sent after it waits
 * behind it), the ends of streams, one `write` for all the frames queued in a turn, and the
 * connection's end: GOAWAY, a connection error, the socket closed.
 */
import type { Socket } from 'node:net';
import {
  ConnectionError,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FrameType,
  MIN_FRAME_SIZE,
  frameHeader,
  goaway,
  rstStream,
} from './frames';
import { HpackEncoder } from './hpack';
import type { H2Stream } from './stream';

/** Bytes queued on the socket past which the peer is taken to have stopped reading. */
const MAX_WRITE_BACKLOG = 64 * 1024 * 1024;

export abstract class H2Sender {
  readonly streams = new Map<number, H2Stream>();
  /** Set once the connection is over (GOAWAY sent after an error, or the socket closed). */
  destroyed = false;
  /** GOAWAY sent or received: no new streams. */
  goingAway = false;
  private readonly encoder = new HpackEncoder();
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  protected peerMaxFrame = MIN_FRAME_SIZE;
  /** Bytes the peer lets us send on the connection. */
  protected sendWindow = DEFAULT_WINDOW;
  /** Data bytes the open streams received (their `received`), bounded by `maxBufferedBytes`. */
  protected buffered = 0;
  /** Streams with frames waiting for window. */
  protected readonly blocked = new Set<H2Stream>();
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushing = false;

  constructor(protected readonly socket: Socket) {}

  /** The connection does not keep the process alive (a pool's, say). */
  unref(): void {
    this.socket.unref();
  }

  /** A stream ended or was reset: the client role opens the next waiting one. */
  protected abstract released(): void;
  /** The peer's last stream id, for our GOAWAY. */
  protected abstract lastPeerStream(): number;
  /** The connection is over (the subclass's pool forgets it). */
  protected abstract closed(err: Error): void;

  sendHeaders(s: H2Stream, fields: readonly string[], end: boolean): void {
    if (s.closed || s.localEnded || this.destroyed) return;
    const block = this.encoder.encode(fields);
    s.headersSent = true;
    if (s.pending) return void s.pending.push({ block, end });
    this.headersFrames(s.id, block, end);
    if (end) this.localEnd(s);
  }

  private headersFrames(id: number, block: Buffer, end: boolean): void {
    const max = this.peerMaxFrame;
    if (block.length <= max) {
      this.push(
        frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS | (end ? Flag.END_STREAM : 0), id),
      );
      return this.push(block);
    }
    for (let at = 0; at < block.length; at += max) {
      const piece = block.subarray(at, at + max);
      const last = at + max >= block.length;
      const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (last ? Flag.END_HEADERS : 0) | (at === 0 && end ? Flag.END_STREAM : 0);
      this.push(frameHeader(piece.length, type, flags, id));
      this.push(piece);
    }
  }

  sendData(s: H2Stream, data: Buffer, end: boolean): void {
    if (s.closed || s.localEnded || this.destroyed) return;
    if (s.pending) return void s.pending.push({ data, end });
    const rest = this.dataFrames(s, data, end);
    if (rest) {
      s.pending = [{ data: rest, end }];
      this.blocked.add(s);
    } else if (end) this.localEnd(s);
  }

  /** DATA frames for as much of `data` as the windows allow; the rest, if any. */
  private dataFrames(s: H2Stream, data: Buffer, end: boolean): Buffer | undefined {
    let at = 0;
    for (;;) {
      const left = data.length - at;
      // A window below zero (a peer lowered SETTINGS_INITIAL_WINDOW_SIZE) sends nothing, or an empty end.
      const n = Math.max(0, Math.min(left, s.sendWindow, this.sendWindow, this.peerMaxFrame));
      if (left > 0 && n <= 0) return data.subarray(at);
      const last = n === left;
      this.push(frameHeader(n, FrameType.DATA, last && end ? Flag.END_STREAM : 0, s.id));
      if (n > 0) this.push(at === 0 && last ? data : data.subarray(at, at + n));
      s.sendWindow -= n;
      this.sendWindow -= n;
      at += n;
      if (last) return undefined;
    }
  }

  /** Sends what waits on `s` as far as the windows now allow. */
  protected drain(s: H2Stream): void {
    const pending = s.pending!;
    while (pending.length > 0) {
      const item = pending[0]!;
      if ('block' in item) {
        this.headersFrames(s.id, item.block, item.end);
        pending.shift();
        if (item.end) this.localEnd(s);
        continue;
      }
      const rest = this.dataFrames(s, item.data, item.end);
      if (rest) return void (item.data = rest);
      pending.shift();
      if (item.end) this.localEnd(s);
    }
    s.pending = undefined;
    this.blocked.delete(s);
  }

  protected unblock(): void {
    // Every connection WINDOW_UPDATE and SETTINGS comes here; almost always nothing waits.
    if (this.blocked.size === 0) return;
    for (const s of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      if (!s.closed) this.drain(s);
    }
  }

  /** RST_STREAM with `code`; `error` tells the stream's reader why (else the code does). */
  resetStream(s: H2Stream, code: number, error?: Error): void {
    if (s.closed) return;
    if (s.id !== 0 && !this.destroyed) this.push(rstStream(s.id, code));
    this.finish(s, code, error);
  }

  /** RST_STREAM on a stream that has no object (a frame size error on PRIORITY, say). */
  protected resetId(id: number, code: ErrorCode): void {
    const s = this.streams.get(id);
    if (s) this.resetStream(s, code);
    else this.push(rstStream(id, code));
  }

  protected localEnd(s: H2Stream): void {
    s.localEnded = true;
    if (s.remoteEnded) this.finish(s, ErrorCode.NO_ERROR);
  }

  protected remoteEnd(s: H2Stream): void {
    s.remoteEnded = true;
    s.handler?.end(s);
    if (s.localEnded && !s.closed) this.finish(s, ErrorCode.NO_ERROR);
  }

  protected finish(s: H2Stream, code: number, error?: Error): void {
    if (s.closed) return;
    s.closed = true;
    this.buffered -= s.received;
    if (s.id !== 0) this.streams.delete(s.id);
    this.blocked.delete(s);
    s.pending = undefined;
    const handler = s.handler;
    s.handler = undefined;
    handler?.close(s, code, error);
    if (!this.destroyed) {
      this.released();
      if (this.goingAway && this.streams.size === 0) this.end();
    }
  }

  /** Queues bytes for the socket; everything queued in one turn leaves in one write. */
  protected push(bytes: Buffer): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    if (!this.flushing) {
      this.flushing = true;
      process.nextTick(flush, this);
    }
  }

  flush(): void {
    this.flushing = false;
    if (this.socket.destroyed || this.out.length === 0) return;
    const out = this.out;
    this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out, this.outBytes));
    this.out = [];
    this.outBytes = 0;
    if (this.socket.writableLength > MAX_WRITE_BACKLOG)
      this.destroy(new Error(`the peer read nothing of ${MAX_WRITE_BACKLOG} bytes written to it`));
  }

  /** GOAWAY with `code`; the connection closes once its streams have. */
  goaway(code: ErrorCode = ErrorCode.NO_ERROR, debug = ''): void {
    if (this.destroyed) return;
    if (!this.goingAway || code !== ErrorCode.NO_ERROR) this.push(goaway(this.lastPeerStream(), code, debug));
    this.goingAway = true;
    if (this.streams.size === 0) this.end();
  }

  protected end(): void {
    this.flush();
    this.socket.end();
  }

  /** A connection error: GOAWAY with its code, the socket closed, every stream closed. */
  protected fail(err: unknown): void {
    const e =
      err instanceof ConnectionError ? err : new ConnectionError(ErrorCode.INTERNAL_ERROR, String(err));
    if (!this.destroyed) this.push(goaway(this.lastPeerStream(), e.code, e.message));
    this.flush();
    this.destroy(e);
  }

  /** The socket is done: every open stream closes with `err`. */
  destroy(err: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.goingAway = true;
    if (!this.socket.destroyed) {
      this.socket.destroySoon();
      // A peer that reads nothing would hold it open: what is queued gets a second, then it goes.
      setTimeout(destroySocket, 1_000, this.socket).unref();
    }
    const code = err instanceof ConnectionError ? err.code : ErrorCode.INTERNAL_ERROR;
    for (const s of [...this.streams.values()]) this.finish(s, code, err);
    this.closed(err);
  }
}

function flush(c: H2Sender): void {
  c.flush();
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}
