/**
 * `POST /api/v1/experiments/{name}/labels`: delayed ground truth by request id — the true class
 * of a classifier's request, or the true value of a regressor's. Like feedback: a batch is all
 * or nothing (every item checked, every id resolved, an unknown id → 404 naming it), the
 * labels are attributed to the variant and run of their request, and the client gets 202 only
 * after their fsync. A request's latest label counts (docs/model-metrics.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabelEvent } from '../shared/events';
import { attributedBatch, checkRequestId } from './attribution';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HttpError, sendJson } from './http';
import { forwardToOwners } from './replicas/forward';

const MAX_LABEL_LENGTH = 200;

interface LabelItem {
  requestId: string;
  label: number | string;
}

function checkItem(item: unknown, at: string, regression: boolean): LabelItem {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new HttpError(
      400,
      `${at ? at.slice(0, -1) : 'the label'}: must be an object {"requestId", "label"}`,
    );
  const o = item as Record<string, unknown>;
  const requestId = checkRequestId(o, at);
  const label = o.label;
  if (regression) {
    if (typeof label !== 'number' || !Number.isFinite(label))
      throw new HttpError(
        400,
        `${at}label: must be a finite number — this experiment's model is a regressor (spec.metrics.model.task)`,
      );
  } else if (
    !(typeof label === 'number' && Number.isFinite(label)) &&
    !(typeof label === 'string' && label !== '' && label.length <= MAX_LABEL_LENGTH)
  ) {
    throw new HttpError(
      400,
      `${at}label: must be the true class, a finite number or a string of 1–${MAX_LABEL_LENGTH} characters (e.g. 1 or "churned")`,
    );
  }
  return { requestId, label: label as number | string };
}

/** Handles a labels post for `exp`. */
export async function handleLabels(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const regression = exp.experiment.spec.metrics.model?.task === 'regression';
  const { ts, items, remote } = await attributedBatch(
    core,
    exp,
    req,
    { what: 'labels', array: 'labels' },
    (item, at) => checkItem(item, at, regression),
  );
  const events: LabelEvent[] = items.map((i) => ({
    type: 'label',
    id: i.requestId,
    ts,
    experiment: exp.name,
    label: i.label,
    variant: i.variant,
    ...(i.run ? { run: i.run } : {}),
  }));
  const forwarded = await forwardToOwners(core, exp, req, 'labels', remote);
  try {
    await core.recordDurable(events);
  } catch (err) {
    throw new HttpError(503, `the labels could not be made durable: ${(err as Error).message}`);
  }
  const perVariant = new Map<string, number>();
  for (const e of events) perVariant.set(e.variant ?? '', (perVariant.get(e.variant ?? '') ?? 0) + 1);
  for (const [variant, n] of perVariant) core.metrics.labelsAccepted(exp.name, variant, n);
  sendJson(res, 202, { accepted: events.length + forwarded });
}
