/**
 * What the router says at start about who can reach it (SECURITY.md): beyond loopback it speaks
 * plain HTTP, so it warns when nothing but the network protects feedback, labels and the admin
 * endpoints, and it says how clients pass the ingest token when one is set.
 */
import type { RouterSettings } from './config';
import { isLoopbackHost } from './config';
import type { Logger } from './core';
import { INGEST_TOKEN_ENV, INGEST_TOKEN_HEADER } from '../shared/routerApi';

export function warnExposure(settings: RouterSettings, logger: Logger, port: number): void {
  const { required, tokens } = settings.ingest;
  if (tokens.size > 0)
    logger.info(
      `feedback and labels for ${[...tokens.keys()].join(', ')} need the ingest token: header ${INGEST_TOKEN_HEADER} (model-canary reads ${INGEST_TOKEN_ENV})`,
    );
  if (isLoopbackHost(settings.host)) return;
  const open: string[] = [];
  if (!required) open.push('feedback and labels need no token (requireIngestToken: false)');
  if (!settings.adminToken) open.push('admin endpoints are disabled (no adminToken)');
  logger.warn(
    `listening on ${settings.host}:${port} over plain HTTP: anyone who reaches this port reads reports${
      open.length ? `, and ${open.join('; ')}` : ''
    } — put TLS in front (an ingress or a proxy) and keep ingest and admin tokens set (SECURITY.md)`,
  );
}
