/**
 * The ingest token (SECURITY.md): feedback and labels change an experiment's verdict, so beyond
 * loopback they need a token of their own, distinct from the admin token (a client that reports
 * outcomes cannot change weights). Per experiment (`experiments[].ingestToken`) or for all
 * (`ingestToken`); required by default when the router listens beyond loopback
 * (`requireIngestToken` says otherwise).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ExperimentRuntime } from './config';
import type { RouterCore } from './core';
import { HttpError } from './http';
import { INGEST_TOKEN_ENV, INGEST_TOKEN_HEADER } from '../shared/routerApi';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Throws 401 unless the request carries the experiment's ingest token (when it needs one). */
export function checkIngestToken(core: RouterCore, exp: ExperimentRuntime, req: IncomingMessage): void {
  const { required, tokens } = core.settings.ingest;
  const token = tokens.get(exp.name);
  if (!token) {
    if (!required) return;
    throw new HttpError(
      401,
      `feedback and labels for ${exp.name} need an ingest token because this router listens beyond loopback — set ingestToken (for all experiments or for this one) in the router config, or requireIngestToken: false behind an authenticating proxy`,
    );
  }
  const sent = req.headers[INGEST_TOKEN_HEADER];
  const given = Array.isArray(sent) ? sent[0] : sent;
  if (given === undefined || !timingSafeEqual(digest(given), digest(token)))
    throw new HttpError(
      401,
      `${given === undefined ? 'missing' : 'wrong'} ingest token for ${exp.name}: send it in the ${INGEST_TOKEN_HEADER} header (model-canary reads it from ${INGEST_TOKEN_ENV}); nothing was recorded`,
      { 'www-authenticate': `Bearer realm="model-canary ingest"` },
    );
}
