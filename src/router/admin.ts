/**
 * Admin endpoints: `PUT /api/v1/experiments/{name}/weights` behind the bearer admin token. Run
 * from a ConfigMap, a weight change is written there first (./configMapTruth.ts).
 * Tokens are compared in constant time (over their SHA-256 digests, so a length difference
 * leaks nothing either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { MIN_ADMIN_TOKEN_LENGTH } from '../core/spec/routerConfig';
import type { ExperimentRuntime, RouterSettings } from './config';
import type { RouterCore } from './core';
import { HttpError, parseJson, readBody, sendJson } from './http';
import { MIN_ROLLOUT_STEP, validRolloutStep } from '../core/spec/domains';
import type { RolloutController } from './rollout';
import type { ConfigMapTruth } from './configMapTruth';
import { ADMIN_TOKEN_HEADER, ROLLOUT_ACTIONS } from '../shared/routerApi';
import { WeightsError, resolveWeights } from '../shared/weights';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The admin token now: the token file's content when the config names one (a Secret rotated in
 * Kubernetes, or the file edited, takes effect without a restart), else the token the config
 * was loaded with. A file that became unreadable or too short keeps the last good token.
 */
export function currentAdminToken(settings: RouterSettings): string | undefined {
  if (!settings.adminTokenFile) return settings.adminToken;
  try {
    const token = readFileSync(settings.adminTokenFile, 'utf8').trim();
    if (token.length >= MIN_ADMIN_TOKEN_LENGTH) settings.adminToken = token;
  } catch {
    // keep the last good token
  }
  return settings.adminToken;
}

/**
 * Throws 401 unless the request carries the admin token, as `Authorization: Bearer <token>` or
 * in the `X-Model-Canary-Token` header.
 */
export function authorize(req: IncomingMessage, token: string | undefined): void {
  if (!token)
    throw new HttpError(
      403,
      'admin endpoints are disabled: set adminToken or adminTokenFile in the router config',
    );
  const challenge = { 'www-authenticate': 'Bearer realm="model-canary"' };
  const header = req.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  const alternative = req.headers[ADMIN_TOKEN_HEADER];
  const given = bearer ?? (typeof alternative === 'string' ? alternative.trim() : undefined);
  if (!given)
    throw new HttpError(401, 'missing admin token: send "Authorization: Bearer <adminToken>"', challenge);
  if (!timingSafeEqual(digest(given), digest(token)))
    throw new HttpError(401, 'wrong admin token', challenge);
}

/** PUT weights: `{"weights": {"v1": 75, "v2": 25}}`; variants left out keep their weight. */
export async function handleWeights(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  truth?: ConfigMapTruth,
): Promise<void> {
  authorize(req, currentAdminToken(core.settings));
  const body = parseJson(await readBody(req, core.settings.limits.maxBodyBytes));
  const given = (body as { weights?: unknown } | null)?.weights;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new HttpError(
      400,
      'weights: must be an object of variant name → weight, e.g. {"weights": {"v1": 75, "v2": 25}}',
    );
  let next: Record<string, number>;
  try {
    const current = exp.variants.map((v) => ({ name: v.name, weight: exp.weights[v.name] ?? 0 }));
    next = resolveWeights(exp.name, current, given as Record<string, unknown>);
  } catch (err) {
    if (err instanceof WeightsError) throw new HttpError(400, `weights: ${err.message}`);
    throw err;
  }
  // Any replica may change weights: the ConfigMap takes it, every replica's watch applies it.
  await truth?.write({ experiment: exp.name, weights: next });
  await core.setWeights(exp, next, 'api');
  sendJson(res, 200, { experiment: exp.name, weights: exp.weights });
}

const ACTIONS = ROLLOUT_ACTIONS;

/**
 * POST rollout: `{"action": "start", "candidate": "v2", "overrides": {"minSamplesPerStep": 200}}`,
 * or pause | resume | approve | abort. Answers the rollout's state after the action.
 */
export async function handleRollout(
  core: RouterCore,
  rollouts: RolloutController,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  /** Relays the action to the leader when this replica does not lead; true when it did. */
  toLeader?: (body: Buffer, adminToken: string) => Promise<boolean>,
): Promise<void> {
  const token = currentAdminToken(core.settings);
  authorize(req, token);
  const raw = await readBody(req, core.settings.limits.maxBodyBytes);
  // A follower hands the action to the leader (./rolloutForward.ts), which validates it.
  if (await toLeader?.(raw, token!)) return;
  const body = parseJson(raw) as Record<string, unknown> | null;
  const action = body?.action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    throw new HttpError(400, `"action" must be one of ${ACTIONS.join(', ')}`);
  }
  const candidate = body?.candidate;
  if (candidate !== undefined && typeof candidate !== 'string')
    throw new HttpError(400, '"candidate" must be a variant name');
  const overrides = body?.overrides;
  if (
    overrides !== undefined &&
    (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides))
  ) {
    throw new HttpError(400, '"overrides" must be an object');
  }
  const o = (overrides ?? {}) as Record<string, unknown>;
  const num = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new HttpError(400, `overrides.${k} must be a number ≥ 0`);
    return v;
  };
  const steps = o.steps;
  if (
    steps !== undefined &&
    (!Array.isArray(steps) || steps.length === 0 || !steps.every(validRolloutStep))
  ) {
    throw new HttpError(400, `overrides.steps must be a list of percentages from ${MIN_ROLLOUT_STEP} to 100`);
  }
  const state = await rollouts.act(exp, action as (typeof ACTIONS)[number], {
    candidate,
    overrides: {
      minSamplesPerStep: num('minSamplesPerStep'),
      minStepSeconds: num('minStepSeconds'),
      steps: steps as number[] | undefined,
      manualApproval: typeof o.manualApproval === 'boolean' ? o.manualApproval : undefined,
      promoteWhenEquivalent:
        typeof o.promoteWhenEquivalent === 'boolean' ? o.promoteWhenEquivalent : undefined,
    },
  });
  sendJson(res, 200, { experiment: exp.name, rollout: state });
}
