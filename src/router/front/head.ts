/**
 * A strict reader of HTTP/1.1 request heads for the raw front (`rawFront.ts`). It recognises
 * only the plain form of a request the raw front may serve: a `POST` with an origin-form target,
 * HTTP/1.1 or 1.0, token header names, printable ASCII values, CRLF line ends, one
 * Content-Length of digits, no Transfer-Encoding, Expect or Upgrade, a Connection header of
 * `close` / `keep-alive` only. Anything else — other methods, odd bytes, folded lines, a bare LF,
 * duplicate lengths, Content-Length with Transfer-Encoding — is "not plain": the connection goes
 * to node:http, whose parser (llhttp) gives the answer it gives today, including 400 and 431.
 * So this reader never has to be as complete as llhttp, only never more lenient.
 *
 * Hand-rolled because no parser library gives a head without objects per header; the values
 * read here are the few the router looks at.
 */

/** A request head the raw front may serve. */
export interface PlainHead {
  /** The request target (path and query), as sent. */
  target: string;
  /** Header names (lowercase) and values (trimmed), alternating. */
  headers: string[];
  contentLength: number;
  /** Whether the connection stays open after the answer (HTTP/1.1 unless `close`; 1.0 only with `keep-alive`). */
  keepAlive: boolean;
  /** Bytes of the head, its blank line included. */
  length: number;
}

const END = Buffer.from('\r\n\r\n');
/** The request line: POST, an origin-form target of URL characters, HTTP/1.0 or 1.1. */
const REQUEST_LINE = /^POST (\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*) HTTP\/1\.([01])$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Bytes outside HTAB, printable ASCII, and CR or LF not in a CRLF pair. */
const ODD = /[^\t\x20-\x7e\r\n]|\r(?!\n)|(?<!\r)\n/;
const DIGITS = /^\d{1,15}$/;

/** Where the head starting at 0 ends (after its blank line), or -1 while it is incomplete. */
export function headEnd(buf: Buffer): number {
  const at = buf.indexOf(END);
  return at < 0 ? -1 : at + 4;
}

const POST = 'POST /';

/**
 * False when an incomplete head can no longer become plain (not a POST, odd bytes, a bare LF):
 * node:http then takes it at once, as it would have, instead of after the head's timeout.
 */
export function mayBePlain(buf: Buffer): boolean {
  let text = buf.toString('latin1', 0, Math.min(buf.length, 16 * 1024));
  if (!text.startsWith(POST.slice(0, Math.min(text.length, POST.length)))) return false;
  if (text.endsWith('\r')) text = text.slice(0, -1);
  return !ODD.test(text);
}

/** The head in `buf[0, end)` when it is plain, else undefined. */
export function plainHead(buf: Buffer, end: number): PlainHead | undefined {
  const text = buf.toString('latin1', 0, end - 4);
  if (ODD.test(text)) return undefined;
  const lines = text.split('\r\n');
  const line = REQUEST_LINE.exec(lines[0]!);
  if (!line) return undefined;
  const http11 = line[2] === '1';
  const headers: string[] = [];
  let contentLength: number | undefined;
  let connection: string | undefined;
  let host = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(':');
    if (colon <= 0) return undefined;
    const name = l.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const lower = name.toLowerCase();
    const value = l.slice(colon + 1).trim();
    switch (lower) {
      case 'content-length':
        if (contentLength !== undefined || !DIGITS.test(value)) return undefined;
        contentLength = Number(value);
        break;
      case 'connection':
        if (connection !== undefined) return undefined;
        connection = value.toLowerCase();
        break;
      case 'host':
        host = true;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
    }
    headers.push(lower, value);
  }
  // node:http refuses an HTTP/1.1 request without Host (400); a POST without a length is node's too.
  if (contentLength === undefined || (http11 && !host)) return undefined;
  let keepAlive = http11;
  if (connection !== undefined) {
    let close = false;
    let alive = false;
    for (const token of connection.split(',')) {
      const t = token.trim();
      if (t === 'close') close = true;
      else if (t === 'keep-alive') alive = true;
      else return undefined;
    }
    keepAlive = !close && (http11 || alive);
  }
  return { target: line[1]!, headers, contentLength, keepAlive, length: end };
}

/** node:http drops later duplicates of these headers; others it joins with ", " (cookie with "; "). */
const FIRST_WINS = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
  'set-cookie',
]);

/** A header of a plain head by lowercase name, with duplicates as `req.headers` shows them. */
export function headerIn(headers: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== name) continue;
    if (value === undefined) value = headers[i + 1]!;
    else if (FIRST_WINS.has(name)) break;
    else value += (name === 'cookie' ? '; ' : ', ') + headers[i + 1]!;
  }
  return value;
}
