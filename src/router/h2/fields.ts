/**
 * A request's header block checked as RFC 9113 (8.2 and 8.3) asks, the checks nghttp2 made for
 * the router before it spoke HTTP/2 itself: names in lowercase, pseudo-headers before the rest
 * and only the request's own, once each, with `:method` and `:path`; no connection-specific
 * header (they belong to HTTP/1.1, and a proxy must not pass them on), `te` only as `trailers`.
 * A block that fails is a malformed request: its stream is reset PROTOCOL_ERROR (8.1.1).
 */

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':path', ':authority']);
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** Why a request's header block (flat: name, value, …) is malformed, or undefined when it is not. */
export function malformedRequest(fields: readonly string[]): string | undefined {
  let regular = false;
  const seen = new Set<string>();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.length === 0 || name !== name.toLowerCase()) return `header name "${name}" is not lowercase`;
    if (name[0] === ':') {
      if (regular) return `pseudo-header ${name} after a regular header`;
      if (!REQUEST_PSEUDO.has(name)) return `pseudo-header ${name} is not a request's`;
      if (seen.has(name)) return `pseudo-header ${name} twice`;
      seen.add(name);
      continue;
    }
    regular = true;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific header ${name}`;
    if (name === 'te' && fields[i + 1] !== 'trailers') return 'te other than "trailers"';
  }
  if (!seen.has(':method') || !seen.has(':path')) return 'no :method or :path';
  return undefined;
}
