/**
 * Request ids → the variant and run they were routed to, for a batch of feedback or labels:
 * every id is resolved before anything is recorded, and an unknown one refuses the whole
 * batch with a 404 that names it (all or nothing).
 */
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HttpError } from './http';
import type { Attribution } from './requestIndex';

const MAX_LISTED = 10;

/** The attribution of each distinct id; throws 404 naming the ids this experiment never routed. */
export async function attributeIds(
  core: RouterCore,
  exp: ExperimentRuntime,
  ids: readonly string[],
): Promise<Map<string, Attribution>> {
  const attributed = new Map<string, Attribution>();
  const unknown: string[] = [];
  for (const id of new Set(ids)) {
    const found = await core.index.lookup(id);
    if (found && found.experiment === exp.name) attributed.set(id, found);
    else unknown.push(id);
  }
  if (unknown.length > 0) {
    const listed = unknown
      .slice(0, MAX_LISTED)
      .map((id) => `"${id}"`)
      .join(', ');
    const more = unknown.length > MAX_LISTED ? ` and ${unknown.length - MAX_LISTED} more` : '';
    throw new HttpError(
      404,
      `unknown request id${unknown.length > 1 ? 's' : ''} ${listed}${more} for experiment ${exp.name} — send the x-request-id the router answered with; nothing was recorded`,
      {},
      { unknownRequestIds: unknown.slice(0, 100) },
    );
  }
  return attributed;
}
