/**
 * Admin endpoints: `PUT /api/v1/experiments/{name}/weights` behind the bearer admin token.
 * Tokens are compared in constant time (over their SHA-256 digests, so a length difference
 * leaks nothing either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HttpError, parseJson, readBody, sendJson } from './http';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Throws 401 unless the request carries `Authorization: Bearer <token>` with the admin token. */
export function authorize(req: IncomingMessage, token: string | undefined): void {
  if (!token)
    throw new HttpError(
      403,
      'admin endpoints are disabled: set adminToken or adminTokenFile in the router config',
    );
  const challenge = { 'www-authenticate': 'Bearer realm="model-canary"' };
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new HttpError(401, 'missing admin token: send "Authorization: Bearer <adminToken>"', challenge);
  if (!timingSafeEqual(digest(match[1]!), digest(token)))
    throw new HttpError(401, 'wrong admin token', challenge);
}

/** PUT weights: `{"weights": {"v1": 75, "v2": 25}}`; variants left out keep their weight. */
export async function handleWeights(
  core: RouterCore,
  exp: ExperimentRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  authorize(req, core.settings.adminToken);
  const body = parseJson(await readBody(req, core.settings.limits.maxBodyBytes));
  const given = (body as { weights?: unknown } | null)?.weights;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new HttpError(
      400,
      'weights: must be an object of variant name → weight, e.g. {"weights": {"v1": 75, "v2": 25}}',
    );
  const next: Record<string, number> = { ...exp.weights };
  for (const [name, w] of Object.entries(given as Record<string, unknown>)) {
    if (!exp.byName.has(name))
      throw new HttpError(
        400,
        `weights.${name}: unknown variant "${name}" — experiment ${exp.name} has ${exp.variants.map((v) => v.name).join(', ')}`,
      );
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new HttpError(400, `weights.${name}: must be a number ≥ 0`);
    next[name] = w;
  }
  if (Object.values(next).reduce((a, b) => a + b, 0) <= 0)
    throw new HttpError(400, 'weights: must add up to something positive');
  await core.setWeights(exp, next, 'api');
  sendJson(res, 200, { experiment: exp.name, weights: exp.weights });
}
