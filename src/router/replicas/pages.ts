/**
 * One page of a replica's recorded events after a cursor: from this replica's own log, or over
 * `GET /admin/events` from another. Shared by the live merge (./aggregator.ts) and the rebuild of
 * an earlier run (./runReport.ts).
 */
import { request, type Agent } from 'undici';
import { checkLine } from '../../core/log/eventSchema';
import type { ExperimentEvent } from '../../shared/events';
import { ADMIN_TOKEN_HEADER } from '../../shared/routerApi';
import { currentAdminToken } from '../admin';
import type { RouterCore } from '../core';
import { CLOCK_HEADER, CURSOR_HEADER, EVENTS_PATH, MORE_HEADER } from './adminEndpoints';
import { formatCursor, parseCursor, readAfter, type LogCursor } from './logReader';

export interface EventPage {
  text: string;
  next: LogCursor;
  /** Whether lines remain after `next`. */
  more: boolean;
  /** The replica's clock when it read the page (epoch ms). */
  clock: number;
}

/** The replica's log is another than the one read so far (a new volume): start over. */
export class LogReplaced extends Error {}

/** A page of this replica's own log. */
export function readOwnPage(core: RouterCore, after: LogCursor, pageEvents: number): EventPage {
  const clock = Date.now();
  const page = readAfter(core.log, after, pageEvents, 16 * 1024 * 1024);
  return { text: page.lines.toString('utf8'), next: page.next, more: page.more, clock };
}

/** A page of another replica's log, asked with the admin token. */
export async function fetchPage(
  core: RouterCore,
  agent: Agent,
  url: string,
  after: LogCursor,
  pageEvents: number,
): Promise<EventPage> {
  const token = currentAdminToken(core.settings) ?? '';
  const res = await request(`${url}${EVENTS_PATH}?after=${formatCursor(after)}&limit=${pageEvents}`, {
    dispatcher: agent,
    headers: { [ADMIN_TOKEN_HEADER]: token },
    headersTimeout: 2_000,
    bodyTimeout: 5_000,
  });
  const text = await res.body.text();
  if (res.statusCode === 409)
    throw new LogReplaced(`its log is not the one read so far: starting over (${text.slice(0, 200)})`);
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  const next = parseCursor(String(res.headers[CURSOR_HEADER] ?? ''));
  const clock = Number(res.headers[CLOCK_HEADER]);
  if (!next || !Number.isFinite(clock))
    throw new Error('the answer has no cursor or clock: is it a Model Canary router of this version?');
  return { text, next, more: res.headers[MORE_HEADER] === '1', clock };
}

/** The well-formed events of a page, in log order (the router quarantines the others at its start). */
export function eventsOf(page: EventPage, into: ExperimentEvent[]): void {
  for (const line of page.text.split('\n')) {
    if (line === '') continue;
    const checked = checkLine(line);
    if (checked.ok) into.push(checked.event);
  }
}
