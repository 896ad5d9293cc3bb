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
import { forwardToOwners } from './replicas/forward';

interface FeedbackItem {
  requestId: string;
  metric: string;
  value: number;
}

/**
 * Checks one item against the experiment: its metric must be one the experiment file names
 * (unknown → 400, so callers cannot mint report entries and metric series), and its value must
 * fit the metric's kind (0 or 1 for a proportion, a finite number for a continuous metric).
 */
function itemChecker(exp: ExperimentRuntime): (item: unknown, at: string) => FeedbackItem {
  const primary = exp.experiment.spec.metrics.primary;
  return (item, at) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new HttpError(
        400,
        `${at ? at.slice(0, -1) : 'the feedback'}: must be an object {"requestId", "metric", "value"}`,
      );
    const o = item as Record<string, unknown>;
    const requestId = checkRequestId(o, at);
    if (typeof o.metric !== 'string' || o.metric === '')
      throw new HttpError(400, `${at}metric: must be the experiment's metric, "${primary.name}"`);
    if (o.metric !== primary.name)
      throw new HttpError(
        400,
        `${at}metric: "${o.metric.slice(0, 100)}" is not a metric of experiment ${exp.name} — its metric is "${primary.name}" (spec.metrics.primary in its experiment file); nothing was recorded`,
      );
    if (typeof o.value !== 'number' || !Number.isFinite(o.value))
      throw new HttpError(400, `${at}value: must be a finite number (1 or 0 for a proportion)`);
    if (primary.kind === 'proportion' && o.value !== 0 && o.value !== 1)
      throw new HttpError(
        400,
        `${at}value: ${primary.name} is a proportion — send 1 (converted) or 0 (not), got ${o.value}`,
      );
    return { requestId, metric: o.metric, value: o.value };
  };
}

/** Handles a feedback post for `exp`. */
export async function handleFeedback(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { ts, items, remote } = await attributedBatch(
    core,
    exp,
    req,
    { what: 'feedback items', array: 'feedback' },
    itemChecker(exp),
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
  // Every id is resolved by now: the other replicas' share first, then this one's.
  const forwarded = await forwardToOwners(core, exp, req, 'feedback', remote);
  try {
    await core.recordFeedback(events);
  } catch (err) {
    throw new HttpError(503, `the feedback could not be made durable: ${(err as Error).message}`);
  }
  sendJson(res, 202, { accepted: events.length + forwarded });
}
