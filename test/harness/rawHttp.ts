/**
 * HTTP/1.1 on a bare socket, for tests of the router's fronts: write a request in pieces (or
 * several pipelined), read back every answer and whether the router closed the connection.
 * Answers are split by their Content-Length or chunked framing.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Header lines as sent, in order: [name, value]. */
  headers: [string, string][];
  body: Buffer;
  /** The answer's bytes with the Date header's value blanked (it is the only one that moves with time). */
  comparable: string;
}

export interface Exchange {
  answers: RawAnswer[];
  /** The router closed the connection (or reset it). */
  closed: boolean;
  /** Bytes after the last whole answer. */
  rest: Buffer;
}

/** Splits whole answers off the front of `buf`. */
export function parseAnswers(buf: Buffer): { answers: RawAnswer[]; rest: Buffer } {
  const answers: RawAnswer[] = [];
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    const headers = lines.slice(1).map((l): [string, string] => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon), l.slice(colon + 1).trim()];
    });
    const framed = bodyOf(buf, end + 4, headers);
    if (!framed) break;
    const comparable = buf
      .toString('latin1', 0, framed.next)
      .replace(/\r\nDate: [^\r]*/i, '\r\nDate: <date>');
    answers.push({ status, headers, body: framed.body, comparable });
    buf = buf.subarray(framed.next);
  }
  return { answers, rest: buf };
}

/** The body starting at `at` (Content-Length or chunked) and where the next answer starts; undefined while incomplete. */
function bodyOf(
  buf: Buffer,
  at: number,
  headers: [string, string][],
): { body: Buffer; next: number } | undefined {
  const get = (name: string): string | undefined => headers.find(([n]) => n.toLowerCase() === name)?.[1];
  if (get('transfer-encoding')?.toLowerCase() !== 'chunked') {
    const length = Number(get('content-length') ?? 0);
    return buf.length < at + length ? undefined : { body: buf.subarray(at, at + length), next: at + length };
  }
  const parts: Buffer[] = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (buf.length < eol + 2 + size + 2) return undefined;
    if (size === 0) return { body: Buffer.concat(parts), next: eol + 4 };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** A header's value in an answer (the first, by case-insensitive name). */
export function headerOf(answer: RawAnswer, name: string): string | undefined {
  return answer.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/**
 * Connects to `port`, writes `pieces` one by one `gapMs` apart, and reads until `answers`
 * answers arrived and the connection stayed quiet `settleMs`, or it closed, or `timeoutMs` passed.
 */
export function exchange(
  port: number,
  pieces: (string | Buffer)[],
  opts: { answers?: number; gapMs?: number; settleMs?: number; timeoutMs?: number; end?: boolean } = {},
): Promise<Exchange> {
  const want = opts.answers ?? 1;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let closed = false;
    let settle: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      clearTimeout(settle);
      socket.destroy();
      resolve({ ...parseAnswers(received), closed });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 10_000);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseAnswers(received).answers.length >= want) {
        clearTimeout(settle);
        settle = setTimeout(finish, opts.settleMs ?? 50);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    void (async () => {
      for (const [i, piece] of pieces.entries()) {
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (socket.destroyed) return;
        socket.write(piece);
      }
      if (opts.end) socket.end();
    })();
  });
}

/** An HTTP/1.1 request's bytes: request line, Host (127.0.0.1 unless given), the headers given, Content-Length of the body. */
export function request(
  method: string,
  path: string,
  body: string | Buffer = '',
  headers: Record<string, string> = {},
  version = '1.1',
): Buffer {
  const head =
    `${method} ${path} HTTP/${version}\r\n${'host' in headers ? '' : 'host: 127.0.0.1\r\n'}` +
    Object.entries(headers)
      .map(([n, v]) => `${n}: ${v}\r\n`)
      .join('') +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
}
