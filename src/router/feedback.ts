/**
 * `POST /api/v1/experiments/{name}/feedback`: outcomes attributed to a variant through the
 * request id. A batch is all or nothing: every item is checked and every id resolved first
 * (an unknown id → 404 naming it, ./attribution.ts), then all events are appended together
 * and the client gets 202 only after their fsync.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FeedbackEvent } from '../shared/events';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { attributeIds } from './attribution';
import { HttpError, parseJson, readBody, sendJson } from './http';

const MAX_ITEMS = 10_000;

interface FeedbackItem {
  requestId: string;
  metric: string;
  value: number;
}

function checkItem(item: unknown, at: string): FeedbackItem {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new HttpError(
      400,
      `${at ? at.slice(0, -1) : 'the feedback'}: must be an object {"requestId", "metric", "value"}`,
    );
  const o = item as Record<string, unknown>;
  if (typeof o.requestId !== 'string' || o.requestId === '' || o.requestId.length > 200)
    throw new HttpError(400, `${at}requestId: must be a non-empty string (the x-request-id of the request)`);
  if (typeof o.metric !== 'string' || o.metric === '' || o.metric.length > 100)
    throw new HttpError(400, `${at}metric: must be a non-empty string such as "conversion"`);
  if (typeof o.value !== 'number' || !Number.isFinite(o.value))
    throw new HttpError(400, `${at}value: must be a finite number (1 or 0 for a proportion)`);
  return { requestId: o.requestId, metric: o.metric, value: o.value };
}

/** Handles a feedback post for `exp`. */
export async function handleFeedback(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const parsed = parseJson(await readBody(req, core.settings.limits.maxBodyBytes));
  const list = Array.isArray(parsed) ? (parsed as unknown[]) : [parsed];
  if (list.length === 0) throw new HttpError(400, 'the feedback array is empty');
  if (list.length > MAX_ITEMS) throw new HttpError(400, `at most ${MAX_ITEMS} feedback items per request`);
  const items = list.map((item, i) => checkItem(item, Array.isArray(parsed) ? `[${i}].` : ''));

  const attributed = await attributeIds(
    core,
    exp,
    items.map((i) => i.requestId),
  );
  const ts = Date.now();
  // Feedback belongs to its request's run: late feedback for an earlier run never counts in the current one.
  const events: FeedbackEvent[] = items.map((i) => {
    const found = attributed.get(i.requestId);
    return {
      type: 'feedback',
      id: i.requestId,
      ts,
      experiment: exp.name,
      metric: i.metric,
      value: i.value,
      variant: found?.variant ?? '',
      ...(found?.run ? { run: found.run } : {}),
    };
  });
  try {
    await core.recordFeedback(events);
  } catch (err) {
    throw new HttpError(503, `the feedback could not be made durable: ${(err as Error).message}`);
  }
  sendJson(res, 202, { accepted: events.length });
}
