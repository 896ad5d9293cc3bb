/**
 * `GET|POST /api/v1/experiments/{name}/runs`: an experiment's runs, and the start of a new one
 * (admin). A deploy starts a run, so a second deploy, or the demo run again, reports on its own
 * traffic instead of adding to the last run's; earlier runs stay readable (`report?run=ID`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, currentAdminToken } from './admin';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HttpError, parseJson, readBody, sendJson } from './http';
import type { RolloutController } from './rollout';
import { runsTruthOf } from './runsTruth';

const REASON = /^[\w .:-]{1,64}$/;

/** GET lists the runs (oldest first) and the current one; POST `{"reason": "deploy"}` starts one. */
export async function handleRuns(
  core: RouterCore,
  rollouts: RolloutController | undefined,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method === 'GET')
    return sendJson(res, 200, {
      experiment: exp.name,
      current: core.currentRun(exp.name)?.id ?? null,
      runs: core.runsOf(exp.name),
    });
  authorize(req, currentAdminToken(core.settings));
  const raw = await readBody(req, core.settings.limits.maxBodyBytes);
  const body = raw.length ? (parseJson(raw) as Record<string, unknown> | null) : {};
  const reason = body?.reason ?? 'api';
  if (typeof reason !== 'string' || !REASON.test(reason))
    throw new HttpError(400, '"reason" must be 1–64 letters, digits, spaces or ".:-_", e.g. "deploy"');
  // A rollout belongs to the run it started in: the new run starts without one.
  rollouts?.forget(exp.name);
  // Run from a ConfigMap, the run goes there first and every replica records it (./runsTruth.ts).
  const truth = runsTruthOf(core);
  const run = truth ? await truth.start(exp, reason) : await core.startRun(exp, reason);
  sendJson(res, 201, { experiment: exp.name, run });
}
