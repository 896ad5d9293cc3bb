/**
 * What one replica serves the others, behind the admin token (the same Secret on every replica):
 *
 * - `GET /admin/events?after=<cursor>&limit=<n>[&experiment=<name>]`: this replica's recorded
 *   events after a cursor, as NDJSON lines in log order (./logReader.ts). Headers: the next
 *   cursor, whether more lines wait, and the replica's clock when it read (the aggregator's
 *   watermark for this replica, ./merge.ts).
 * - `POST /admin/requests` `{"experiment", "ids": [...]}`: which of these request ids this
 *   replica routed (`{"known": [...]}`), for feedback whose id names no replica (./forward.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, currentAdminToken } from '../admin';
import type { RouterCore } from '../core';
import { HttpError, parseJson, readBody, sendJson } from '../http';
import { CursorBeyondLog, LOG_START, formatCursor, parseCursor, readAfter } from './logReader';

export const EVENTS_PATH = '/admin/events';
export const REQUESTS_PATH = '/admin/requests';
export const CURSOR_HEADER = 'x-model-canary-cursor';
export const MORE_HEADER = 'x-model-canary-more';
export const CLOCK_HEADER = 'x-model-canary-clock';
export const REPLICA_HEADER = 'x-model-canary-replica';

export const DEFAULT_LIMIT = 20_000;
export const MAX_LIMIT = 100_000;
/** Bytes of log lines one call hands out at the most. */
export const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_IDS = 10_000;

/** Serves the two paths; false when `path` is neither. */
export async function serveReplicaAdmin(
  core: RouterCore,
  path: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (path !== EVENTS_PATH && path !== REQUESTS_PATH) return false;
  authorize(req, currentAdminToken(core.settings));
  if (path === EVENTS_PATH) {
    if (req.method !== 'GET')
      throw new HttpError(405, `${req.method} is not allowed here; use GET`, { allow: 'GET' });
    serveEvents(core, query, res);
  } else {
    if (req.method !== 'POST')
      throw new HttpError(405, `${req.method} is not allowed here; use POST`, { allow: 'POST' });
    await serveRequests(core, req, res);
  }
  return true;
}

function serveEvents(core: RouterCore, query: URLSearchParams, res: ServerResponse): void {
  const afterText = query.get('after');
  const after = afterText === null || afterText === '' ? LOG_START : parseCursor(afterText);
  if (!after)
    throw new HttpError(
      400,
      `after must be a cursor <segment>:<offset> from the ${CURSOR_HEADER} header of the previous call, or absent for the start of the log`,
    );
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new HttpError(400, `limit must be a whole number of events from 1 to ${MAX_LIMIT}`);
  const experiment = query.get('experiment');
  if (experiment !== null && !core.experimentByName(experiment))
    throw new HttpError(
      404,
      `unknown experiment "${experiment}" — this router runs ${core.experiments.map((e) => e.name).join(', ') || 'none'}`,
    );
  // Read the clock first: whatever is written after it carries a later timestamp (or is in flight).
  const clock = Date.now();
  let page;
  try {
    page = readAfter(core.log, after, limit, MAX_PAGE_BYTES);
  } catch (err) {
    if (err instanceof CursorBeyondLog)
      throw new HttpError(409, `${err.message} (a new log in the same place?) — start again without after`);
    throw err;
  }
  let body = page.lines;
  if (experiment !== null && body.length > 0) {
    const kept = body
      .toString('utf8')
      .split('\n')
      .filter((line) => {
        if (line === '') return false;
        try {
          return (JSON.parse(line) as { experiment?: unknown }).experiment === experiment;
        } catch {
          return false;
        }
      });
    body = Buffer.from(kept.map((l) => l + '\n').join(''));
  }
  res.writeHead(200, {
    'content-type': 'application/x-ndjson',
    'content-length': body.length,
    [CURSOR_HEADER]: formatCursor(page.next),
    [MORE_HEADER]: page.more ? '1' : '0',
    [CLOCK_HEADER]: String(clock),
    [REPLICA_HEADER]: core.leadership.self,
  });
  res.end(body);
}

async function serveRequests(core: RouterCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseJson(await readBody(req, core.settings.limits.maxBodyBytes)) as {
    experiment?: unknown;
    ids?: unknown;
  } | null;
  const ids = body?.ids;
  if (
    typeof body?.experiment !== 'string' ||
    !Array.isArray(ids) ||
    ids.length > MAX_IDS ||
    !ids.every((id) => typeof id === 'string')
  )
    throw new HttpError(
      400,
      `send {"experiment": "<name>", "ids": ["<request id>", ...]} with at most ${MAX_IDS} ids`,
    );
  const known: string[] = [];
  for (const id of new Set(ids as string[])) {
    const found = await core.index.lookup(id);
    if (found?.experiment === body.experiment) known.push(id);
  }
  sendJson(res, 200, { replica: core.leadership.self, known });
}
