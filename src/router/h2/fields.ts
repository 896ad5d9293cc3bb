/**
 * Header blocks checked as RFC 9113 (8.2 and 8.3) asks, the checks nghttp2 made for the router
 * before it spoke HTTP/2 itself: names in lowercase, pseudo-headers before the rest and only the
 * message's own, once each (a request's `:method` and `:path`, a response's three-digit
 * `:status`; none in trailers); no connection-specific header (they belong to HTTP/1.1, and a
 * proxy must not pass them on), `te` only as `trailers`. A block that fails is a malformed
 * message: its stream is reset PROTOCOL_ERROR (8.1.1), a request's by the server role, a
 * response's by the client role (an upstream's answer then fails as unreachable would).
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
    const why = malformedRegular(name, fields[i + 1]!);
    if (why) return why;
  }
  if (!seen.has(':method') || !seen.has(':path')) return 'no :method or :path';
  return undefined;
}

/**
 * Why a response's header block is malformed, or undefined when it is not; `trailers`: the block
 * after the response's headers, which carries no pseudo-header (RFC 9113, 8.1).
 */
export function malformedResponse(fields: readonly string[], trailers: boolean): string | undefined {
  let regular = false;
  let status = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.length === 0 || name !== name.toLowerCase()) return `header name "${name}" is not lowercase`;
    if (name[0] === ':') {
      if (trailers) return `pseudo-header ${name} in trailers`;
      if (regular) return `pseudo-header ${name} after a regular header`;
      if (name !== ':status') return `pseudo-header ${name} is not a response's`;
      if (status) return 'pseudo-header :status twice';
      if (!/^[1-5]\d\d$/.test(fields[i + 1]!)) return `:status "${fields[i + 1]}" is not a status code`;
      status = true;
      continue;
    }
    regular = true;
    const why = malformedRegular(name, fields[i + 1]!);
    if (why) return why;
  }
  if (!trailers && !status) return 'no :status';
  return undefined;
}

function malformedRegular(name: string, value: string): string | undefined {
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific header ${name}`;
  if (name === 'te' && value !== 'trailers') return 'te other than "trailers"';
  return undefined;
}
