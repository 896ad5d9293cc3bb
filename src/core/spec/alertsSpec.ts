/**
 * Alert delivery settings (docs/alerts.md): which webhooks an experiment's alerts go to
 * (`spec.alerts` in the experiment file, or the environment's defaults in its secrets file),
 * how the router delivers them (`alerts` in the router config), and the secrets file itself.
 *
 * A webhook is named here by the key of its secret; its URL and token live only in the secrets
 * file (a file of the environment, or a Kubernetes Secret mounted into the router), never in the
 * experiment file, which is committed and shown in editors.
 */
import { z } from 'zod';

export const ALERT_FORMATS = ['alertmanager', 'slack'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];
export const ALERT_KINDS = ['guardrail', 'srm', 'drift', 'rollout'] as const;
export const ALERT_SEVERITIES = ['info', 'warning', 'error'] as const;

const secretName = z
  .string()
  .regex(
    /^[A-Za-z0-9][-A-Za-z0-9_.]*$/,
    'must be the name of a webhook in the alert secrets file (letters, digits, "-", "_", "."), not a URL',
  )
  .max(63);

const NO_URL =
  'webhook URLs and tokens are secrets and do not belong in the experiment file — put them in the ' +
  "environment's alert secrets file under webhooks.<name> and write `secret: <name>` here (docs/alerts.md)";

/** One webhook an experiment's alerts go to. */
export const webhookRefSchema = z
  .strictObject({
    /** The webhook's key in the secrets file (its URL and optional token). */
    secret: secretName,
    format: z.enum(ALERT_FORMATS),
    /** Only alerts of these kinds (default: all). */
    kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional(),
    /** Only alerts at least this severe (default `warning`: rollout steps are `info`). */
    severity: z.enum(ALERT_SEVERITIES).default('warning'),
    // Known to the schema only to be refused with a message that says where they go.
    url: z.never({ error: NO_URL }).optional(),
    token: z.never({ error: NO_URL }).optional(),
  })
  .transform(({ url: _url, token: _token, ...ref }) => ref);

export type WebhookRef = z.output<typeof webhookRefSchema>;

/** `spec.alerts` of an experiment file: its webhooks replace the environment's defaults (`[]` silences it). */
export const experimentAlertsSchema = z.strictObject({
  webhooks: uniqueWebhooks(z.array(webhookRefSchema)),
});

/** A webhook is known by its secret's name, so each may appear once in a list. */
function uniqueWebhooks<T extends z.ZodType<WebhookRef[]>>(list: T): T {
  return list.superRefine((refs, ctx) => {
    const seen = new Set<string>();
    refs.forEach((r, i) => {
      if (seen.has(r.secret))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'secret'],
          message: `the webhook "${r.secret}" is listed twice — one entry per webhook`,
        });
      seen.add(r.secret);
    });
  }) as unknown as T;
}

/** `alerts` of the router config: where the secrets are and how deliveries behave. */
export const routerAlertsSchema = z.strictObject({
  /**
   * The alert secrets file (YAML; relative to the router config). A missing file means no
   * environment defaults, and a delivery to a webhook it lacks fails saying so.
   */
  secretsFile: z.string().min(1).optional(),
  /** Base URL of the router as people reach it, for the dashboard link in messages. */
  externalURL: z.url({ protocol: /^https?$/ }).optional(),
  /** How often the router evaluates its reports' alerts. */
  evaluateEveryMs: z.number().int().positive().default(2_000),
  /** An alert resolves only after it has been absent this long (damps flapping). */
  resolveAfterMs: z.number().int().min(0).default(60_000),
  /** A rollout transition older than this when first seen (history from before the webhook) is not sent. */
  rolloutMaxAgeMs: z.number().int().positive().default(600_000),
  retry: z
    .strictObject({
      /** Attempts per message, the first included. */
      attempts: z.number().int().positive().default(6),
      initialDelayMs: z.number().int().positive().default(1_000),
      maxDelayMs: z.number().int().positive().default(60_000),
      /** One attempt's limit; a slower receiver counts as failed and is tried again. */
      timeoutMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
  /** Messages waiting per webhook; beyond it a new message is dropped (and recorded as such). */
  queueSize: z.number().int().positive().default(1_000),
});

export type RouterAlertsConfig = z.output<typeof routerAlertsSchema>;

const webhookSecretSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** Sent as `Authorization: Bearer <token>`. */
  token: z.string().min(1).optional(),
});

/** The alert secrets file: the webhooks' URLs and tokens, and the environment's default webhooks. */
export const alertSecretsSchema = z.strictObject({
  webhooks: z.record(secretName, webhookSecretSchema).default({}),
  /** The webhooks of every experiment that has no `spec.alerts`. */
  defaults: uniqueWebhooks(z.array(webhookRefSchema)).default([]),
});

export type AlertSecrets = z.output<typeof alertSecretsSchema>;
export type WebhookSecret = z.output<typeof webhookSecretSchema>;
