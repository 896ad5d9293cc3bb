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

/** A 256-entry table: 1 for the bytes in `chars` (and in the ranges `from`–`to` given). */
function table(chars: string, ...ranges: [number, number][]): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  for (const [from, to] of ranges) t.fill(1, from, to + 1);
  return t;
}
const URL_BYTE = table("-._~!$&'()*+,;=:@/?%", [0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]);
const TOKEN_BYTE = table("!#$%&'*+.^_`|~-", [0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]);
/** HTAB and printable ASCII: no CR, LF or other control bytes, no obs-text. */
const VALUE_BYTE = table('\t', [0x20, 0x7e]);
const REQUEST_START = Buffer.from('POST /');
const VERSION = Buffer.from(' HTTP/1.');
const CR = 13;
const LF = 10;
const SP = 32;
const TAB = 9;

/**
 * The head in `buf[0, end)` when it is plain, else undefined. One pass over the bytes with
 * lookup tables (a regular-expression version cost 5–8 µs a head, this one about 1).
 */
export function plainHead(buf: Buffer, end: number): PlainHead | undefined {
  const stop = end - 2; // the blank line's CRLF
  if (end < 24 || buf.compare(REQUEST_START, 0, 6, 0, 6) !== 0) return undefined;
  let i = 5;
  while (i < stop && URL_BYTE[buf[i]!] === 1) i++;
  const target = buf.toString('latin1', 5, i);
  if (i + 12 > end || buf.compare(VERSION, 0, 8, i, i + 8) !== 0) return undefined;
  const minor = buf[i + 8];
  if ((minor !== 0x30 && minor !== 0x31) || buf[i + 9] !== CR || buf[i + 10] !== LF) return undefined;
  const http11 = minor === 0x31;
  i += 11;
  const headers: string[] = [];
  let contentLength: number | undefined;
  let connection: string | undefined;
  let host = false;
  while (i < stop) {
    const nameStart = i;
    while (TOKEN_BYTE[buf[i]!] === 1) i++;
    if (i === nameStart || buf[i] !== 0x3a) return undefined;
    const name = buf.toString('latin1', nameStart, i).toLowerCase();
    i++;
    while (buf[i] === SP || buf[i] === TAB) i++;
    const valueStart = i;
    while (VALUE_BYTE[buf[i]!] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF || i > stop) return undefined;
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === TAB)) valueEnd--;
    const value = buf.toString('latin1', valueStart, valueEnd);
    i += 2;
    switch (name) {
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
    headers.push(name, value);
  }
  if (i !== stop) return undefined;
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
  return { target, headers, contentLength, keepAlive, length: end };
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
