/**
 * Answers written by the raw front in the bytes node:http writes for the same answer: the
 * status line, the handler's headers in the order they were set, then `Date` and node's
 * keep-alive headers (`Connection: keep-alive` and `Keep-Alive: timeout=<s>`, or
 * `Connection: close`) unless the handler set `connection` itself. Also the answer to
 * malformed or slow HTTP, which both fronts send before closing.
 */
import { STATUS_CODES } from 'node:http';

/** Response headers by lowercase name, in the order first set: [name as set, value]. */
export type AnswerHeaders = Map<string, [string, string]>;

/** node:http's test for a `connection` header that closes (RE_CONN_CLOSE). */
const CLOSES = /(?:^|\W)close(?:$|\W)/i;
/** node:http refuses these bytes in a header value (ERR_INVALID_CHAR); so does the raw front. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

let dateSecond = -1;
let dateText = '';

/** The Date header's value, made at most once a second (node:http caches it the same way). */
function utcDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/**
 * The answer's bytes, head and body in one buffer, and whether the connection closes after it.
 * `keepAlive`: what the request asked for; `keepAliveMs`: the server's idle timeout.
 */
export function answerBytes(
  status: number,
  headers: AnswerHeaders,
  body: Buffer,
  keepAlive: boolean,
  keepAliveMs: number,
): { bytes: Buffer; close: boolean } {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
  let connection: string | undefined;
  for (const [key, [name, value]] of headers) {
    if (INVALID_VALUE.test(value)) throw new TypeError(`Invalid character in header content ["${name}"]`);
    if (key === 'connection') connection = value;
    head += `${name}: ${value}\r\n`;
  }
  head += `Date: ${utcDate()}\r\n`;
  if (connection === undefined)
    head += keepAlive
      ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`
      : 'Connection: close\r\n\r\n';
  else head += '\r\n';
  const bytes = Buffer.allocUnsafe(head.length + body.length);
  bytes.write(head, 0, 'latin1');
  body.copy(bytes, head.length);
  return { bytes, close: connection === undefined ? !keepAlive : CLOSES.test(connection) };
}

/** The answer to malformed HTTP (400), headers too large (431) or a slow client (408); the connection closes. */
export function clientErrorAnswer(status: 400 | 408 | 431, message: string): string {
  const text = STATUS_CODES[status]!;
  const body = JSON.stringify({ error: `${text.toLowerCase()}: ${message}` });
  return `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
