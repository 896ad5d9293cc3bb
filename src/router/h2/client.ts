/**
 * The client role of a raw HTTP/2 connection (`connection.ts`): `request` opens a stream with a
 * header block and a whole body, or waits for a slot: until the server's first SETTINGS came
 * (its limits are in them), and while its MAX_CONCURRENT_STREAMS are all open (stream ids go out in order, so a waiting request takes its id when it opens). After
 * the server's GOAWAY, or once the connection is over, `usable` is false and the pool opens another;
 * requests the server did not take fail as REFUSED_STREAM.
 */
import { connect, type Socket } from 'node:net';
import { H2Connection, type ConnectionOptions } from './connection';
import { ErrorCode } from './frames';
import { H2Stream, type StreamHandler } from './stream';

/** The highest stream id (2^31 - 1); past it a connection takes no more streams. */
const MAX_STREAM_ID = 2 ** 31 - 1;

export class H2ClientConnection extends H2Connection {
  private nextId = 1;
  private readonly waiting: { stream: H2Stream; fields: readonly string[]; body: Buffer }[] = [];

  constructor(socket: Socket, options: ConnectionOptions = {}) {
    super(socket, 'client', options);
  }

  /** Connects to host:port with TCP_NODELAY (calls share the connection; see server.ts). */
  static open(host: string, port: number, options?: ConnectionOptions): H2ClientConnection {
    return new H2ClientConnection(connect({ host, port, noDelay: true }), options);
  }

  get usable(): boolean {
    return !this.destroyed && !this.goingAway && this.nextId < MAX_STREAM_ID - 2;
  }

  /** A request: `fields` (flat name, value, …) and its whole `body`, read by `handler`. */
  request(fields: readonly string[], body: Buffer, handler: StreamHandler): H2Stream {
    const s = new H2Stream(this, 0, this.peerStreamWindow, this.streamWindow);
    s.handler = handler;
    if (!this.usable) {
      queueMicrotask(() => this.finish(s, ErrorCode.REFUSED_STREAM, new Error('the connection is closing')));
      return s;
    }
    if (!this.peerSettings || this.waiting.length > 0 || this.streams.size >= this.peerMaxConcurrent)
      this.waiting.push({ stream: s, fields, body });
    else this.start(s, fields, body);
    return s;
  }

  private start(s: H2Stream, fields: readonly string[], body: Buffer): void {
    s.id = this.nextId;
    this.nextId += 2;
    s.sendWindow = this.peerStreamWindow;
    this.streams.set(s.id, s);
    this.sendHeaders(s, fields, false);
    this.sendData(s, body, true);
  }

  protected released(): void {
    while (
      this.peerSettings &&
      this.waiting.length > 0 &&
      this.streams.size < this.peerMaxConcurrent &&
      this.usable
    ) {
      const w = this.waiting.shift()!;
      if (!w.stream.closed) this.start(w.stream, w.fields, w.body);
    }
  }

  protected opened(): void {
    // Unreachable: HEADERS on a stream the client did not open is a connection error first.
  }

  protected idle(id: number): boolean {
    return id % 2 === 0 || id >= this.nextId;
  }

  protected noteOpened(): void {}

  protected lastPeerStream(): number {
    return 0;
  }

  protected override goneAway(code: number): void {
    this.refuseWaiting(new Error(`the server sent GOAWAY (code ${code})`));
    super.goneAway(code);
  }

  protected closed(err: Error): void {
    this.refuseWaiting(err);
  }

  private refuseWaiting(err: Error): void {
    for (const w of this.waiting.splice(0)) this.finish(w.stream, ErrorCode.REFUSED_STREAM, err);
  }
}
