/**
 * Request ids are unique (SECURITY.md, "Bounded by configuration"): feedback and labels find a
 * request's variant by its id, so a second request with an id the router still remembers (or
 * has in flight) is refused with 409 instead of re-attributing the first one's outcomes — and a
 * forcing header can no longer move someone's conversion to another variant. "Remembers": the
 * request index's memory (`eventLog.idCacheSize` ids); older ids are not looked up on disk, which
 * would put a segment read on the hot path.
 */
import type { RouterCore } from './core';
import { HttpError } from './http';
import { REQUEST_ID_HEADER } from '../shared/routerApi';

const inFlight = new WeakMap<RouterCore, Set<string>>();

/** Claims `id` for one request; the returned function releases it once the request is recorded. */
export function claimRequestId(core: RouterCore, id: string): () => void {
  let claimed = inFlight.get(core);
  if (!claimed) inFlight.set(core, (claimed = new Set()));
  const used = core.index.recent(id);
  if (used || claimed.has(id))
    throw new HttpError(
      409,
      `the request id "${id}" was already used${used ? ` (experiment ${used.experiment})` : ' by a request in flight'} — send a new ${REQUEST_ID_HEADER} for each request, or none to get a generated one; nothing was recorded`,
    );
  claimed.add(id);
  const set = claimed;
  return () => set.delete(id);
}
