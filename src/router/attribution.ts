/**
 * Request ids → the variant and run they were routed to, for a batch of feedback or labels:
 * every id is resolved before anything is recorded, and an unknown one refuses the whole
 * batch with a 404 that names it (all or nothing).
 */
import type { IncomingMessage } from 'node:http';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HttpError, parseJson, readBody } from './http';
import { checkIngestToken } from './ingestToken';
import type { Attribution } from './requestIndex';
import { splitByOwner, type RemoteBatch } from './replicas/forward';

const MAX_LISTED = 10;
/** Items of one post at the most. */
const MAX_ITEMS = 10_000;

/** The request id of an item of a post, checked (`at`: where the item is, e.g. "[3]."). */
export function checkRequestId(o: Record<string, unknown>, at: string): string {
  if (typeof o.requestId !== 'string' || o.requestId === '' || o.requestId.length > 200)
    throw new HttpError(400, `${at}requestId: must be a non-empty string (the x-request-id of the request)`);
  return o.requestId;
}

/**
 * A post of one item or an array of them about earlier requests (feedback, labels): every item
 * checked, then every id attributed (./attributeIds), before anything is recorded. `what` names
 * the items in errors ("feedback items", "labels"), `array` the empty array ("feedback").
 */
export async function attributedBatch<T extends { requestId: string }>(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  words: { what: string; array: string },
  check: (item: unknown, at: string) => T,
): Promise<{ ts: number; items: (T & { variant: string; run?: string })[]; remote: RemoteBatch<T>[] }> {
  checkIngestToken(core, exp, req);
  const parsed = parseJson(await readBody(req, core.settings.limits.maxBodyBytes));
  const list = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  if (list.length === 0) throw new HttpError(400, `the ${words.array} array is empty`);
  if (list.length > MAX_ITEMS) throw new HttpError(400, `at most ${MAX_ITEMS} ${words.what} per request`);
  const checked = list.map((item, i) => check(item, Array.isArray(parsed) ? `[${i}].` : ''));
  // With replicas, items whose request another replica served go to it (./replicas/forward.ts).
  const { mine: items, remote } = await splitByOwner(core, exp, req, checked);
  const attributed = await attributeIds(
    core,
    exp,
    items.map((i) => i.requestId),
  );
  return {
    ts: Date.now(),
    items: items.map((item) => {
      const found = attributed.get(item.requestId);
      return { ...item, variant: found?.variant ?? '', ...(found?.run ? { run: found.run } : {}) };
    }),
    remote,
  };
}

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
