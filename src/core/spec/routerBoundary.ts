/**
 * The router's browser boundary settings (SECURITY.md): the host names clients reach it by,
 * beyond loopback names and IP addresses (a DNS-rebinding page reaches it by its own name, which
 * is not on the list), and the web origins allowed to call it from a browser (CORS, closed by
 * default). One schema, used by the router config and by the generators that write it.
 */
import { z } from 'zod';

/** A host name as it appears in a Host header, without a port: letters, digits, dots and hyphens. */
export const hostNameSchema = z
  .string()
  .regex(
    /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i,
    'must be a host name without a port, e.g. canary.example.com',
  )
  .transform((h) => h.toLowerCase());

/** A web origin: scheme, host and optional port, nothing else (no path, no trailing slash). */
export const originSchema = z
  .string()
  .regex(
    /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i,
    'must be an origin such as https://grafana.example.com (scheme, host, optional port; no path)',
  )
  .transform((o) => o.toLowerCase());

/** The shortest ingest token the router accepts. */
export const MIN_INGEST_TOKEN_LENGTH = 16;
export const ingestTokenSchema = z
  .string()
  .min(MIN_INGEST_TOKEN_LENGTH, `must be at least ${MIN_INGEST_TOKEN_LENGTH} characters`);

export const boundarySchema = {
  /**
   * The token feedback and labels must carry (header x-model-canary-ingest-token), for every
   * experiment without its own `ingestToken`. Distinct from the admin token: a client that
   * reports outcomes cannot change weights.
   */
  ingestToken: ingestTokenSchema.optional(),
  /**
   * A file holding that token (read at each load of the config; `ingestToken` wins when both are
   * set). Kubernetes: the key `ingest-token` of the Secret `<release>-router-admin`, mounted.
   */
  ingestTokenFile: z.string().min(1).optional(),
  /**
   * Whether feedback and labels need a token. Default: yes when `listen` is beyond loopback
   * (then an experiment without a token refuses them, saying how to set one), no on loopback.
   */
  requireIngestToken: z.boolean().optional(),
  /**
   * Names clients use in the Host header beyond loopback names (localhost, *.localhost) and IP
   * addresses, which are always accepted. Kubernetes: the generator adds the Service's names.
   */
  allowedHosts: z.array(hostNameSchema).default([]),
  /** Origins a browser page may call the router from (CORS). Empty: no cross-origin call at all. */
  cors: z.strictObject({ origins: z.array(originSchema).default([]) }).prefault({}),
};
