/**
 * The raw HTTP/1.1 front: serves `POST /v2/models/{endpoint}/infer` straight from the socket,
 * without node:http's per-request objects (IncomingMessage, ServerResponse, header objects,
 * parser callbacks into JavaScript), and hands everything else to node:http.
 *
 * It takes over the node:http server's `connection` listener (the server still owns the port,
 * `maxConnections`, `close()` and the timeouts of the connections it gets). Per connection it
 * reads request heads with `head.ts`. A plain head of an infer request that passes the checks
 * made before the body (boundary, request id, experiment, forced variant, `maxBodyBytes`) is
 * served here: the body is read to its Content-Length, the same `answerInfer` as node:http's
 * handler answers it, and head and body go out in one write (`answer.ts`, node's bytes). Any
 * other request — another route, an odd or malformed head, a refused one — and everything after
 * it on that connection goes to node:http: the bytes not consumed are put back on the socket
 * (`unshift`) and node's own connection listener takes the socket, so node answers exactly as
 * it does without this front. A connection that only sends infer requests never meets node:http.
 *
 * Requests on one connection are served one at a time, in order (pipelined ones wait in the
 * buffer; reading pauses past 64 KiB; a head still incomplete after 64 reads goes to node:http,
 * whose parser does not rescan). Slow clients: a head must be complete within
 * `headersMs` and a request within `requestMs` (408 and close, as node:http), an idle
 * keep-alive connection closes a second after `keepAliveMs` (as node:http).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RouterCore } from '../core';
import { boundaryOf } from '../boundary';
import { HttpError, errorAnswer } from '../http';
import { answerInfer, inferHead, requestIdOf, type InferHead } from '../infer';
import { newRequestId } from '../replicas';
import { REQUEST_ID_HEADER } from '../../shared/routerApi';
import { answerBytes, clientErrorAnswer, type AnswerHeaders } from './answer';
import { headEnd, headerIn, mayBePlain, plainHead, type PlainHead } from './head';

export interface RawFrontHooks {
  core: RouterCore;
  log: (m: string) => void;
  /** False while the router drains: answers then close their connection. */
  accepting(): boolean;
  /** A request began or ended (the graceful stop waits for them). */
  begin(): void;
  end(): void;
}

export interface RawFront {
  /** Closes the connections waiting for a next request (a graceful stop begins). */
  closeIdle(): void;
  /** Closes every connection still served here. */
  closeAll(): void;
}

/** An infer request ready for its body: the answer's headers so far and the routing hints. */
interface Prepared {
  headers: AnswerHeaders;
  infer: InferHead;
}

/** Longest head served here; node:http's limit is 16 KiB of the head's bytes without line ends. */
const MAX_HEAD_BYTES = 16 * 1024 - 1;
const PAUSE_BYTES = 64 * 1024;
/** An incomplete head seen this many times goes to node:http (a client writing it byte by byte). */
const MAX_HEAD_PIECES = 64;
const EMPTY = Buffer.alloc(0);
const HEAD = 0;
const BODY = 1;
const BUSY = 2;
const GONE = 3;

/** Puts the raw front in front of `http`'s connections. */
export function attachRawFront(http: Server, hooks: RawFrontHooks): RawFront {
  const { core } = hooks;
  const t = core.settings.timeouts;
  const nodeListeners = http.listeners('connection') as ((socket: Socket) => void)[];
  http.removeAllListeners('connection');
  const conns = new Set<RawConnection>();

  const front: FrontContext = {
    hooks,
    keepAliveMs: t.keepAliveMs,
    prepare,
    handOver(socket: Socket, rest: Buffer): void {
      if (rest.length > 0) socket.unshift(rest);
      for (const listener of nodeListeners) listener.call(http, socket);
      socket.resume();
    },
    forget: (conn) => conns.delete(conn),
  };
  http.on('connection', (socket: Socket) => {
    conns.add(new RawConnection(socket, front));
  });
  // One sweep for the slow-client timeouts, as node:http's connectionsCheckingInterval.
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const conn of conns) conn.check(now, t);
    },
    Math.min(1_000, Math.max(100, Math.floor(t.headersMs / 4))),
  ).unref();
  http.once('close', () => clearInterval(sweep));

  function prepare(head: PlainHead): Prepared | undefined {
    const q = head.target.indexOf('?');
    const parts = (q < 0 ? head.target : head.target.slice(0, q)).split('/');
    if (parts.length !== 5 || parts[1] !== 'v2' || parts[2] !== 'models' || parts[4] !== 'infer') return;
    if (head.contentLength > core.settings.limits.maxBodyBytes) return;
    const header = (name: string): string | undefined => headerIn(head.headers, name);
    const headers: AnswerHeaders = new Map();
    const set = (name: string, value: string): void => void headers.set(name.toLowerCase(), [name, value]);
    if (!hooks.accepting()) set('connection', 'close');
    try {
      if (boundaryOf('POST', header, core.settings, set)) return;
      const id = requestIdOf(header, () => newRequestId(core));
      const exp = core.experimentByEndpoint(decodeURIComponent(parts[3]!));
      if (!exp) return;
      set(REQUEST_ID_HEADER, id);
      return { headers, infer: inferHead(exp, id, header) };
    } catch {
      // A refusal made before the body: node:http makes it again, in its own words.
      return;
    }
  }

  return {
    closeIdle: () => conns.forEach((conn) => conn.closeIfIdle()),
    closeAll: () => conns.forEach((conn) => conn.destroy()),
  };
}

interface FrontContext {
  hooks: RawFrontHooks;
  /** The idle timeout announced in Keep-Alive (like node:http's, fixed at start). */
  keepAliveMs: number;
  prepare(head: PlainHead): Prepared | undefined;
  handOver(socket: Socket, rest: Buffer): void;
  forget(conn: RawConnection): void;
}

/** One client connection while the raw front serves it. */
class RawConnection {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private state = HEAD;
  /** When the current wait began: the connection, the request's first byte, or the last answer. */
  private since = performance.now();
  /** Waiting for the first byte of a next request on a kept-alive connection. */
  private idle = false;
  /** Times the current head was found incomplete. */
  private pieces = 0;
  private head: PlainHead | undefined;
  private prepared: Prepared | undefined;
  /** Requests begun and not yet ended for the graceful stop (an answer's write may end after the next began). */
  private owed = 0;

  constructor(
    private readonly socket: Socket,
    private readonly front: FrontContext,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.idle) {
      this.idle = false;
      this.since = performance.now();
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.state === BUSY) {
      if (this.bytes > PAUSE_BYTES) this.socket.pause();
    } else if (this.state !== GONE) this.advance();
  };

  /**
   * The client closed its side: as node:http (no half-open connections), a request cut short
   * gets node:http's 400, an answer still being made is dropped, and the connection closes.
   */
  private readonly onEnd = (): void => {
    const cut = this.state === BODY || (this.state === HEAD && this.bytes > 0);
    if (this.state === BODY) this.aborted();
    if (this.state !== BUSY) this.state = GONE;
    this.front.forget(this);
    if (cut) this.socket.end(clientErrorAnswer(400, 'Parse Error'));
    else this.socket.end();
  };

  private readonly onClose = (): void => {
    if (this.state === BODY) this.aborted();
    this.state = GONE;
    this.finish(true);
    this.front.forget(this);
  };

  private readonly onError = (): void => {
    // ECONNRESET and the like: 'close' follows.
  };

  /** A client gone mid-body: node:http's handler counts it as a refused request (400). */
  private aborted(): void {
    this.front.hooks.core.metrics.rejectedRequest(400);
    this.state = GONE;
    this.finish();
  }

  /** All buffered bytes in one buffer. */
  private joined(): Buffer {
    if (this.chunks.length === 0) return EMPTY;
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
    return this.chunks[0]!;
  }

  /** Serves what the buffer holds: reads a head, then its body, then the answer; or hands over. */
  private advance(): void {
    if (this.state === HEAD) {
      if (this.bytes === 0) return;
      const buf = this.joined();
      const end = headEnd(buf);
      if (end < 0 ? this.bytes > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) return this.handOver();
      if (end < 0) {
        // Each piece rescans the head so far: past a few dozen pieces node:http's incremental parser takes it.
        if (++this.pieces > MAX_HEAD_PIECES || !mayBePlain(buf)) this.handOver();
        return;
      }
      this.pieces = 0;
      const head = plainHead(buf, end);
      const prepared = head && this.front.prepare(head);
      if (!prepared) return this.handOver();
      this.head = head;
      this.prepared = prepared;
      this.state = BODY;
      this.owed++;
      this.front.hooks.begin();
    }
    if (this.state === BODY) {
      const head = this.head!;
      const need = head.length + head.contentLength;
      if (this.bytes < need) return;
      const buf = this.joined();
      const body = buf.subarray(head.length, need);
      const rest = buf.subarray(need);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.bytes = rest.length;
      this.state = BUSY;
      void this.serve(this.prepared!, body, head.keepAlive);
    }
  }

  private async serve(prepared: Prepared, body: Buffer, keepAlive: boolean): Promise<void> {
    const { core, log } = this.front.hooks;
    let out: { bytes: Buffer; close: boolean };
    let mirror: (() => void) | undefined;
    try {
      const answer = await answerInfer(core, prepared.infer, body);
      const headers = new Map(prepared.headers);
      for (const name in answer.headers) headers.set(name, [name, String(answer.headers[name])]);
      out = answerBytes(answer.status, headers, answer.body, keepAlive, this.front.keepAliveMs);
      mirror = answer.mirror;
    } catch (err) {
      if (!(err instanceof HttpError))
        log(`error on POST ${this.head!.target}: ${(err as Error)?.stack ?? String(err)}`);
      else core.metrics.rejectedRequest(err.status);
      const refused = errorAnswer(err);
      const headers = new Map(prepared.headers);
      const json = Buffer.from(JSON.stringify(refused.body));
      for (const name in refused.headers) headers.set(name.toLowerCase(), [name, refused.headers[name]!]);
      headers.set('content-type', ['content-type', 'application/json']);
      headers.set('content-length', ['content-length', String(json.length)]);
      out = answerBytes(refused.status, headers, json, keepAlive, this.front.keepAliveMs);
    }
    if (this.state === GONE || !this.socket.writable) return this.finish();
    this.socket.write(out.bytes, (err) => {
      this.finish();
      if (!err) mirror?.();
    });
    if (out.close) {
      this.state = GONE;
      this.socket.end();
      return;
    }
    this.state = HEAD;
    this.since = performance.now();
    this.idle = this.bytes === 0;
    if (this.socket.isPaused()) this.socket.resume();
    this.advance();
  }

  /** One request ended (all of them when `all`, the connection being gone). */
  private finish(all = false): void {
    while (this.owed > 0) {
      this.owed--;
      this.front.hooks.end();
      if (!all) return;
    }
  }

  /** The rest of this connection goes to node:http, starting with the bytes not consumed. */
  private handOver(): void {
    this.state = GONE;
    this.front.forget(this);
    const rest = this.joined();
    const s = this.socket;
    s.pause();
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    s.off('error', this.onError);
    this.front.handOver(s, rest);
  }

  /** The slow-client timeouts, checked by the front's sweep. */
  check(now: number, t: { headersMs: number; requestMs: number; keepAliveMs: number }): void {
    const waited = now - this.since;
    if (this.state === HEAD) {
      if (this.idle) {
        // node:http waits a second past the Keep-Alive timeout it announces, so the client closes first.
        if (waited > t.keepAliveMs + 1_000) this.destroy();
      } else if (waited > Math.min(t.headersMs, t.requestMs)) this.timedOut();
    } else if (this.state === BODY && waited > t.requestMs) this.timedOut();
  }

  private timedOut(): void {
    if (this.state === BODY) this.aborted();
    this.state = GONE;
    this.front.forget(this);
    if (this.socket.writable) this.socket.end(clientErrorAnswer(408, 'Request timeout'));
    else this.socket.destroy();
  }

  closeIfIdle(): void {
    if (this.state === HEAD && this.bytes === 0) this.destroy();
  }

  destroy(): void {
    this.state = GONE;
    this.socket.destroy();
  }
}
