/**
 * The server role of a raw HTTP/2 connection (`connection.ts`): streams the client opens become
 * requests for `onStream`, up to our MAX_CONCURRENT_STREAMS (REFUSED_STREAM beyond, which gRPC
 * clients retry). `listenH2` serves them on a TCP port with TCP_NODELAY: a client's calls share
 * the connection, and an answer must not wait for the ACK of the one before (Nagle's algorithm).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { H2Connection, type ConnectionOptions } from './connection';
import { ConnectionError, ErrorCode, rstStream } from './frames';
import { malformedRequest } from './fields';
import { H2Stream } from './stream';

/** A request's stream and its header block (flat: name, value, …); `end` when it has no body. */
export type OnStream = (stream: H2Stream, fields: string[]) => void;

export class H2ServerConnection extends H2Connection {
  private lastId = 0;
  /** Our SETTINGS_MAX_CONCURRENT_STREAMS. */
  private readonly maxConcurrent: number;

  constructor(
    socket: Socket,
    private readonly onStream: OnStream,
    options: ConnectionOptions & { maxConcurrentStreams: number },
    private readonly onClosed: (c: H2ServerConnection) => void,
  ) {
    super(socket, 'server', options);
    this.maxConcurrent = options.maxConcurrentStreams;
  }

  protected opened(id: number, fields: string[], end: boolean): void {
    if (id % 2 === 0)
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `a client opened stream ${id} (even)`);
    this.lastId = id;
    if (this.goingAway || this.streams.size >= this.maxConcurrent)
      return void this.push(rstStream(id, ErrorCode.REFUSED_STREAM));
    if (malformedRequest(fields) !== undefined)
      return void this.push(rstStream(id, ErrorCode.PROTOCOL_ERROR));
    const s = new H2Stream(this, id, this.peerStreamWindow, this.streamWindow);
    this.streams.set(id, s);
    this.onStream(s, fields);
    if (end && !s.closed) this.remoteEnd(s);
  }

  protected idle(id: number): boolean {
    return id > this.lastId;
  }

  protected noteOpened(id: number): void {
    this.lastId = id;
  }

  protected lastPeerStream(): number {
    return this.lastId;
  }

  protected released(): void {}

  protected closed(): void {
    this.onClosed(this);
  }
}

export interface H2Listener {
  readonly server: Server;
  readonly connections: Set<H2ServerConnection>;
}

export function createH2Server(
  onStream: OnStream,
  options: ConnectionOptions & { maxConcurrentStreams: number },
): H2Listener {
  const connections = new Set<H2ServerConnection>();
  const server = createServer({ noDelay: true }, (socket) => {
    const forget = (c: H2ServerConnection): void => void connections.delete(c);
    connections.add(new H2ServerConnection(socket, onStream, options, forget));
  });
  return { server, connections };
}
