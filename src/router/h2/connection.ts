/**
 * A raw HTTP/2 connection (RFC 9113) over a TCP socket, for the router's gRPC front (server role)
 * and its gRPC upstream calls (client role), in place of `node:http2`, whose two streams per call
 * (Duplex streams, header objects converted both ways, an AsyncResource per request) were about
 * four fifths of the router's CPU per gRPC call (bench/profiles/grpc-path.md). Here a stream is a
 * small object, header blocks are flat arrays (HPACK in `hpack.ts`), and the frames written in
 * one turn leave in one `write` (`sender.ts`, the sending half).
 *
 * It implements the preface, SETTINGS (ours first, the peer's applied and acknowledged), HEADERS
 * with CONTINUATION and padding, DATA with padding, flow control both ways, RST_STREAM, PING,
 * GOAWAY, MAX_CONCURRENT_STREAMS both ways, and ignores unknown frame types. No server push, no
 * priorities (read and ignored), h2c with prior knowledge only (what gRPC clients speak without
 * TLS). Whatever the peer sends, nothing throws out of here: a protocol violation ends the
 * connection with GOAWAY and its code (`ConnectionError`), a stream's violation resets that
 * stream, and every open stream's handler hears `close` once.
 */
import type { Socket } from 'node:net';
import {
  ACK,
  ConnectionError,
  protocolError,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FrameType,
  MAX_FRAME_SIZE,
  MAX_WINDOW,
  MIN_FRAME_SIZE,
  PREFACE,
  SETTINGS_ACK,
  Setting,
  frame,
  rstStream,
  settingsFrame,
  windowUpdate,
} from './frames';
import { malformedResponse } from './fields';
import { HpackDecoder, HpackError } from './hpack';
import { H2Sender } from './sender';
import { readFrames, unpadded } from './reader';
import type { H2Stream } from './stream';

/** CONTINUATION frames one header block may take (64 KiB fit in 4 of the smallest frames). */
const MAX_CONTINUATIONS = 64;
/** Streams a peer may reset in a second before the connection is refused it. */
const MAX_RESETS_PER_SECOND = 1_000;

export interface ConnectionOptions {
  /** Streams the peer may open at once (server role); beyond it, REFUSED_STREAM. */
  maxConcurrentStreams?: number;
  /** Our per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindow?: number;
  /** Our connection receive window. */
  connectionWindow?: number;
  /** A header block's largest size, compressed and decoded. */
  maxHeaderBytes?: number;
  /**
   * Request or answer bytes the open streams may hold in all (64 MiB): past it the stream whose
   * DATA went over is reset ENHANCE_YOUR_CALM (gRPC: RESOURCE_EXHAUSTED). Without it, a thousand
   * streams each under the body limit could hold a thousand bodies (node:http2's maxSessionMemory).
   */
  maxBufferedBytes?: number;
}

export abstract class H2Connection extends H2Sender {
  private readonly decoder: HpackDecoder;
  protected readonly streamWindow: number;
  private readonly connectionWindow: number;
  private readonly maxHeaderBytes: number;
  private readonly maxBuffered: number;
  /** The peer's settings, as it sent them (the protocol's defaults until then). */
  protected peerStreamWindow = DEFAULT_WINDOW;
  protected peerMaxConcurrent = Infinity;
  /** The peer's first SETTINGS came (a client holds its streams until then: the limits are in it). */
  protected peerSettings = false;
  private recvWindow = DEFAULT_WINDOW;
  private recvConsumed = 0;
  /** A header block in CONTINUATION frames: nothing else may come between. */
  private continuing: { id: number; end: boolean; parts: Buffer[]; size: number } | undefined;
  /** Bytes not yet a whole frame (or, on the server, the preface not yet complete). */
  private rest: Buffer | undefined;
  private prefaceLeft: number;
  /** Streams the peer reset in the second since `resetsSince`. */
  private resets = 0;
  private resetsSince = 0;

  constructor(
    socket: Socket,
    readonly role: 'server' | 'client',
    options: ConnectionOptions,
  ) {
    super(socket);
    this.streamWindow = options.streamWindow ?? 1024 * 1024;
    this.connectionWindow = options.connectionWindow ?? 16 * 1024 * 1024;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.maxBuffered = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.decoder = new HpackDecoder({ maxHeaderListBytes: this.maxHeaderBytes });
    this.prefaceLeft = role === 'server' ? PREFACE.length : 0;
    if (role === 'client') this.push(PREFACE);
    this.push(
      settingsFrame([
        [Setting.ENABLE_PUSH, 0],
        [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams ?? 1_000],
        [Setting.INITIAL_WINDOW_SIZE, this.streamWindow],
        [Setting.MAX_HEADER_LIST_SIZE, this.maxHeaderBytes],
      ]),
    );
    this.push(windowUpdate(0, this.connectionWindow - DEFAULT_WINDOW));
    this.recvWindow = this.connectionWindow;
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy(new Error('the connection closed')));
  }

  /** A new stream's first header block (server role: a request). */
  protected abstract opened(id: number, fields: string[], end: boolean): void;

  private read(chunk: Buffer): void {
    if (this.destroyed) return;
    let bytes = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    try {
      if (this.prefaceLeft > 0) {
        const n = Math.min(this.prefaceLeft, bytes.length);
        const at = PREFACE.length - this.prefaceLeft;
        if (!bytes.subarray(0, n).equals(PREFACE.subarray(at, at + n)))
          throw protocolError(
            'not an HTTP/2 client preface: this port speaks gRPC (HTTP/2 with prior knowledge)',
          );
        this.prefaceLeft -= n;
        bytes = bytes.subarray(n);
      }
      const used = readFrames(bytes, MIN_FRAME_SIZE, this);
      if (!this.destroyed && used < bytes.length) this.rest = bytes.subarray(used);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Called by `readFrames` for each whole frame. */
  frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.continuing && type !== FrameType.CONTINUATION)
      throw protocolError('a frame came between HEADERS and its CONTINUATION');
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, id, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, id, payload);
      case FrameType.PRIORITY:
        if (id === 0) throw protocolError('PRIORITY on stream 0');
        if (payload.length !== 5) this.resetId(id, ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.RST_STREAM:
        return this.onReset(id, payload);
      case FrameType.SETTINGS:
        return this.onSettings(flags, id, payload);
      case FrameType.PUSH_PROMISE:
        throw protocolError('PUSH_PROMISE: server push is disabled');
      case FrameType.PING:
        if (id !== 0 || payload.length !== 8)
          throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'a PING must have 8 bytes on stream 0');
        if (!(flags & ACK)) this.push(frame(FrameType.PING, ACK, 0, payload));
        return;
      case FrameType.GOAWAY:
        return this.onGoaway(id, payload);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(id, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, id, payload);
      default:
        return; // Unknown frame types are ignored (RFC 9113, 4.1).
    }
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw protocolError('DATA on stream 0');
    // The whole frame counts against the windows, padding included.
    this.recvWindow -= payload.length;
    if (this.recvWindow < 0)
      throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    this.recvConsumed += payload.length;
    if (this.recvConsumed >= this.connectionWindow / 2) {
      this.push(windowUpdate(0, this.recvConsumed));
      this.recvWindow += this.recvConsumed;
      this.recvConsumed = 0;
    }
    const s = this.streams.get(id);
    if (!s || s.remoteEnded) {
      // Frames may still come on a stream we reset; on one never opened, they are an error.
      if (!s && this.idle(id)) throw protocolError(`DATA on idle stream ${id}`);
      if (s) this.resetStream(s, ErrorCode.STREAM_CLOSED);
      return;
    }
    s.recvWindow -= payload.length;
    if (s.recvWindow < 0) return this.resetStream(s, ErrorCode.FLOW_CONTROL_ERROR);
    s.consumed += payload.length;
    if (s.consumed >= this.streamWindow / 2 && !(flags & Flag.END_STREAM)) {
      this.push(windowUpdate(id, s.consumed));
      s.recvWindow += s.consumed;
      s.consumed = 0;
    }
    const data = unpadded(flags, payload, 0);
    s.received += data.length;
    this.buffered += data.length;
    if (this.buffered > this.maxBuffered) return this.resetStream(s, ErrorCode.ENHANCE_YOUR_CALM);
    if (data.length > 0) s.handler?.data(s, data);
    if (flags & Flag.END_STREAM && !s.closed) this.remoteEnd(s);
  }

  private onHeaders(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw protocolError('HEADERS on stream 0');
    const fragment = unpadded(flags, payload, (flags & Flag.PRIORITY) !== 0 ? 5 : 0);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) return this.headerBlock(id, endStream, fragment);
    this.continuing = { id, end: endStream, parts: [fragment], size: fragment.length };
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    const c = this.continuing;
    if (!c || c.id !== id) throw protocolError('CONTINUATION without a header block before it');
    c.parts.push(payload);
    c.size += payload.length;
    // A flood of (empty) CONTINUATION frames (CVE-2024-27316) is bounded by count as well as size.
    if (c.size > this.maxHeaderBytes || c.parts.length > MAX_CONTINUATIONS)
      throw new ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `a header block over ${this.maxHeaderBytes} bytes or ${MAX_CONTINUATIONS} frames`,
      );
    if (!(flags & Flag.END_HEADERS)) return;
    this.continuing = undefined;
    this.headerBlock(id, c.end, Buffer.concat(c.parts, c.size));
  }

  /**
   * Why a block on a client stream is malformed (RFC 9113, 8.1 and 8.3.2): the response's headers
   * (after any 1xx ones), then trailers that end the stream.
   */
  private malformedAnswer(s: H2Stream, fields: readonly string[], end: boolean): string | undefined {
    const trailers = s.responded;
    if (trailers && !end) return 'trailers (a block after the response headers) without END_STREAM';
    const why = malformedResponse(fields, trailers);
    if (why || trailers) return why;
    // An interim (1xx) response comes before the final one, and never ends the stream.
    const informational = fields[1]!.startsWith('1');
    if (informational && end) return 'an interim (1xx) response ended the stream';
    if (!informational) s.responded = true;
    return undefined;
  }

  private headerBlock(id: number, end: boolean, block: Buffer): void {
    let fields: string[] | undefined;
    try {
      fields = this.decoder.decode(block);
    } catch (err) {
      // The table is in step after a block too large (the decoder read it all): only the stream fails.
      if (!(err instanceof HpackError)) throw err;
      if (!err.tooLarge)
        throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, `a malformed header block: ${err.message}`);
    }
    const s = this.streams.get(id);
    if (s) {
      if (s.remoteEnded) return this.resetStream(s, ErrorCode.STREAM_CLOSED);
      if (!fields) return this.resetStream(s, ErrorCode.ENHANCE_YOUR_CALM);
      // Trailers end the stream; a second block without END_STREAM is malformed (RFC 9113, 8.1).
      if (this.role === 'server' && !end) return this.resetStream(s, ErrorCode.PROTOCOL_ERROR);
      if (this.role === 'client') {
        const why = this.malformedAnswer(s, fields, end);
        if (why)
          return this.resetStream(s, ErrorCode.PROTOCOL_ERROR, new Error(`a malformed response: ${why}`));
        if (!s.responded) return; // An interim (1xx) response: nothing for the reader.
      }
      s.handler?.headers(s, fields);
      if (end && !s.closed) this.remoteEnd(s);
      return;
    }
    if (!this.idle(id)) return; // A stream already closed: ignored, its block decoded for the table.
    if (this.role === 'client') throw protocolError(`HEADERS on stream ${id}, which the client did not open`);
    if (!fields) {
      this.noteOpened(id);
      return void this.push(rstStream(id, ErrorCode.ENHANCE_YOUR_CALM));
    }
    this.opened(id, fields, end);
  }

  /** Whether `id` was never used (server: above the peer's last stream; client: above ours). */
  protected abstract idle(id: number): boolean;
  /** Server role: `id` is now the peer's last stream. */
  protected abstract noteOpened(id: number): void;

  private onReset(id: number, payload: Buffer): void {
    if (id === 0) throw protocolError('RST_STREAM on stream 0');
    if (payload.length !== 4)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM must have 4 bytes');
    const s = this.streams.get(id);
    if (s) {
      // "Rapid reset" (CVE-2023-44487): each stream opened and reset at once would cost a routed
      // call and an upstream one; a client resetting so many is refused the connection.
      const now = Date.now();
      if (now - this.resetsSince > 1_000) [this.resetsSince, this.resets] = [now, 0];
      if (++this.resets > MAX_RESETS_PER_SECOND)
        throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'too many streams reset by the peer');
      return this.finish(s, payload.readUInt32BE(0) || ErrorCode.CANCEL);
    }
    if (this.idle(id)) throw protocolError(`RST_STREAM on idle stream ${id}`);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw protocolError('SETTINGS on a stream');
    if (flags & ACK) {
      if (payload.length !== 0)
        throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'a SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS not in 6-byte entries');
    for (let at = 0; at < payload.length; at += 6) {
      const value = payload.readUInt32BE(at + 2);
      switch (payload.readUInt16BE(at)) {
        case Setting.ENABLE_PUSH:
          if (value > 1) throw protocolError('SETTINGS_ENABLE_PUSH above 1');
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrent = value;
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW)
            throw new ConnectionError(
              ErrorCode.FLOW_CONTROL_ERROR,
              'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1',
            );
          const delta = value - this.peerStreamWindow;
          this.peerStreamWindow = value;
          for (const s of this.streams.values()) s.sendWindow += delta;
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < MIN_FRAME_SIZE || value > MAX_FRAME_SIZE)
            throw protocolError('SETTINGS_MAX_FRAME_SIZE out of range');
          this.peerMaxFrame = value;
          break;
        default:
        // HEADER_TABLE_SIZE: our encoder never indexes, so any size suits it; the rest are advisory.
      }
    }
    this.push(SETTINGS_ACK);
    this.peerSettings = true;
    this.unblock();
    this.released();
  }

  private onGoaway(id: number, payload: Buffer): void {
    if (id !== 0) throw protocolError('GOAWAY on a stream');
    if (payload.length < 8)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY shorter than 8 bytes');
    this.goingAway = true;
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    // Our streams above `last` were not processed: they fail as refused, safe to retry.
    if (this.role === 'client')
      for (const s of [...this.streams.values()]) if (s.id > last) this.finish(s, ErrorCode.REFUSED_STREAM);
    this.goneAway(code);
  }

  /** The peer sent GOAWAY (the client role stops taking requests on this connection). */
  protected goneAway(_code: number): void {
    if (this.streams.size === 0) this.end();
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE must have 4 bytes');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (increment === 0) throw protocolError('WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW)
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'the connection window above 2^31-1');
      return this.unblock();
    }
    const s = this.streams.get(id);
    if (!s) {
      if (this.idle(id)) throw protocolError(`WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    if (increment === 0) return this.resetStream(s, ErrorCode.PROTOCOL_ERROR);
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW) return this.resetStream(s, ErrorCode.FLOW_CONTROL_ERROR);
    if (s.pending) this.drain(s);
  }
}
