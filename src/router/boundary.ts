/**
 * The browser boundary (SECURITY.md), checked before any route:
 *
 *   - Host: loopback names, IP addresses and the configured `allowedHosts` only. A DNS-rebinding
 *     page reaches the router under the attacker's own name, which is refused.
 *   - Origin: a browser names the page's origin on every cross-origin call. The router's own
 *     origin (same Host), loopback pages and the configured `cors.origins` pass; any other is
 *     refused before anything is read or recorded. Only listed origins get CORS headers.
 *   - Content type of POST and PUT: JSON only (415 otherwise), so no "simple" cross-origin
 *     request (text/plain, a form) can carry a body. Two exceptions, both out of a browser's
 *     reach without a preflight: the binary tensor extension (its Inference-Header-Content-Length
 *     header) and a body without Content-Type from a client that sends no Origin (tritonclient's
 *     JSON mode sends none).
 */
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouterSettings } from './config';
import { HEADER_LENGTH } from './binaryTensors';
import { HttpError, headerOf, type HeaderOf } from './http';
import {
  ADMIN_TOKEN_HEADER,
  INGEST_TOKEN_HEADER,
  REQUEST_ID_HEADER,
  VARIANT_HEADER,
} from '../shared/routerApi';

type Boundary = Pick<RouterSettings, 'allowedHosts' | 'cors'>;

/** Request headers a listed origin may send; response headers it may read. */
const ALLOW_HEADERS = [
  'content-type',
  'authorization',
  ADMIN_TOKEN_HEADER,
  INGEST_TOKEN_HEADER,
  REQUEST_ID_HEADER,
  VARIANT_HEADER,
  HEADER_LENGTH,
].join(', ');
const EXPOSE_HEADERS = [REQUEST_ID_HEADER, VARIANT_HEADER, HEADER_LENGTH].join(', ');

/** The host name of a Host header value (or an origin's authority), lowercased, without port or brackets. */
export function hostName(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') < 0 ? undefined : a.indexOf(']'));
  const colon = a.lastIndexOf(':');
  return colon >= 0 ? a.slice(0, colon) : a;
}

function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

function isLoopbackAddress(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** True when a request with this Host header may be answered. */
export function hostAllowed(host: string | undefined, settings: Boundary): boolean {
  // HTTP/1.0 clients may leave it out; a browser never does.
  if (host === undefined || host === '') return true;
  const name = hostName(host);
  return isIP(name) !== 0 || isLoopbackName(name) || settings.allowedHosts.includes(name);
}

/** True when a browser page of this origin may call the router; `listed` when it gets CORS headers. */
export function originVerdict(
  origin: string,
  host: string | undefined,
  settings: Boundary,
): { allowed: boolean; listed: boolean } {
  const o = origin.trim().toLowerCase();
  const listed = settings.cors.origins.includes(o);
  if (listed) return { allowed: true, listed };
  const match = /^https?:\/\/([^/]+)$/.exec(o);
  if (!match) return { allowed: false, listed }; // "null" (sandboxed frames, file:) and anything odd
  const authority = match[1]!;
  const name = hostName(authority);
  const sameOrigin = host !== undefined && authority === host.trim().toLowerCase();
  return { allowed: sameOrigin || isLoopbackName(name) || isLoopbackAddress(name), listed };
}

/** True for application/json and any `+json` type, parameters ignored. */
function isJson(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Checks Host, Origin and content type; sets the CORS headers for a listed origin. Answers a
 * CORS preflight itself (returns true); throws HttpError (403, 415) for a refused request.
 */
export function checkBoundary(req: IncomingMessage, res: ServerResponse, settings: Boundary): boolean {
  if (!boundaryOf(req.method ?? '', headerOf(req), settings, (name, value) => res.setHeader(name, value)))
    return false;
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, PUT',
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-max-age': '600',
    'content-length': 0,
  });
  res.end();
  return true;
}

/**
 * The boundary on a request's method and headers, for either HTTP front: `setHeader` gets the
 * CORS headers of a listed origin (before a refusal for the content type, so a listed page can
 * read it). Returns true for a CORS preflight, which the caller answers; throws HttpError (403, 415).
 */
export function boundaryOf(
  method: string,
  header: HeaderOf,
  settings: Boundary,
  setHeader: (name: string, value: string) => void,
): boolean {
  const host = header('host');
  if (!hostAllowed(host, settings))
    throw new HttpError(
      403,
      `the Host "${host}" is not a name of this router — add it to allowedHosts in the router config if clients reach the router by that name (loopback names and IP addresses are always accepted)`,
    );
  const origin = header('origin');
  if (origin !== undefined) {
    const { allowed, listed } = originVerdict(origin, host, settings);
    if (!allowed)
      throw new HttpError(
        403,
        `requests from the web page ${origin} are refused — add the origin to cors.origins in the router config to allow it`,
      );
    if (listed) {
      setHeader('access-control-allow-origin', origin);
      setHeader('access-control-expose-headers', EXPOSE_HEADERS);
      setHeader('vary', 'Origin');
    }
    if (method === 'OPTIONS') return true;
  }
  if (method === 'POST' || method === 'PUT') {
    const type = header('content-type');
    if (type === undefined ? origin !== undefined : !isJson(type) && header(HEADER_LENGTH) === undefined)
      throw new HttpError(
        415,
        `${method} needs Content-Type: application/json${type === undefined ? '' : `, got "${type}"`} (curl: -H 'content-type: application/json'; the binary tensor extension sends ${HEADER_LENGTH})`,
        { connection: 'close' },
      );
  }
  return false;
}
