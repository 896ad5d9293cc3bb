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
import { attributedBatch, checkRequestId } from './attribution';
import { HttpError, sendJson } from './http';

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
  const requestId = checkRequestId(o, at);
  if (typeof o.metric !== 'string' || o.metric === '' || o.metric.length > 100)
    throw new HttpError(400, `${at}metric: must be a non-empty string such as "conversion"`);
  if (typeof o.value !== 'number' || !Number.isFinite(o.value))
    throw new HttpError(400, `${at}value: must be a finite number (1 or 0 for a proportion)`);
  return { requestId, metric: o.metric, value: o.value };
}

/** Handles a feedback post for `exp`. */
export async function handleFeedback(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { ts, items } = await attributedBatch(
    core,
    exp,
    req,
    { what: 'feedback items', array: 'feedback' },
    checkItem,
  );
  // Feedback belongs to its request's run: late feedback for an earlier run never counts in the current one.
  const events: FeedbackEvent[] = items.map((i) => ({
    type: 'feedback',
    id: i.requestId,
    ts,
    experiment: exp.name,
    metric: i.metric,
    value: i.value,
    variant: i.variant,
    ...(i.run ? { run: i.run } : {}),
  }));
  try {
    await core.recordFeedback(events);
  } catch (err) {
    throw new HttpError(503, `the feedback could not be made durable: ${(err as Error).message}`);
  }
  sendJson(res, 202, { accepted: events.length });
}
