/**
 * The alert secrets file (`alerts.secretsFile` of the router config; in a cluster the key
 * `alerts.yaml` of the optional Secret `<release>-router-alerts`, mounted into the router): the
 * webhooks' URLs and tokens and the environment's default webhooks. Re-read at each evaluation,
 * so a rotated Secret takes effect without a restart; a file that turns bad keeps the last good
 * one. Nothing from it is ever written to a log, an event or an error: `redact` removes it.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { alertSecretsSchema, type AlertSecrets } from '../../core/spec/alertsSpec';
import { fieldPath } from '../../core/spec/errors';

const EMPTY: AlertSecrets = { webhooks: {}, defaults: [] };

export class AlertSecretsFile {
  private last: AlertSecrets = EMPTY;
  private lastText: string | undefined;
  private complaint: string | undefined;

  constructor(
    readonly file: string | undefined,
    private readonly warn: (message: string) => void,
  ) {}

  /** The secrets as of now: the file's, the last good ones when it is unreadable, none without a file. */
  async read(): Promise<AlertSecrets> {
    if (!this.file) return EMPTY;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      // A Secret that was never created is mounted as an empty folder: no webhooks, no warning.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.last = EMPTY);
      this.complain(
        `cannot read the alert secrets file ${this.file}: ${(err as NodeJS.ErrnoException).code}`,
      );
      return this.last;
    }
    if (text === this.lastText) return this.last;
    const parsed = parseSecrets(text);
    if ('error' in parsed) {
      this.complain(
        `the alert secrets file ${this.file} is not usable (keeping the last good one): ${parsed.error}`,
      );
      return this.last;
    }
    this.lastText = text;
    this.complaint = undefined;
    return (this.last = parsed.secrets);
  }

  // Once per distinct problem, not at every evaluation.
  private complain(message: string): void {
    if (message === this.complaint) return;
    this.complaint = message;
    this.warn(message);
  }
}

/** Parses the secrets file; the error names fields, never values. */
export function parseSecrets(text: string): { secrets: AlertSecrets } | { error: string } {
  let value: unknown;
  try {
    value = parse(text) ?? {};
  } catch (err) {
    // The YAML parser quotes the offending text; say only where it is.
    const pos = (err as { linePos?: { line: number }[] }).linePos?.[0];
    return { error: `invalid YAML${pos ? ` at line ${pos.line}` : ''}` };
  }
  const result = alertSecretsSchema.safeParse(value);
  if (!result.success)
    return {
      error: result.error.issues.map((i) => `${fieldPath(i.path) || '(top)'}: ${i.message}`).join('; '),
    };
  return { secrets: result.data };
}

/**
 * `text` with every secret in it replaced by `[redacted]`: the URL, its path and query (a
 * Slack URL's path is its token), and the token. Longest first, so a URL goes before its path.
 */
export function redact(text: string, secrets: readonly { url: string; token?: string }[]): string {
  const needles = new Set<string>();
  for (const s of secrets) {
    needles.add(s.url);
    if (s.token) needles.add(s.token);
    try {
      const u = new URL(s.url);
      needles.add(u.href);
      if (u.pathname.length > 1) needles.add(u.pathname);
      if (u.search) needles.add(u.search);
      if (u.password) needles.add(u.password);
    } catch {
      // Not a URL: the whole string is already a needle.
    }
  }
  let out = text;
  for (const n of [...needles].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length))
    out = out.split(n).join('[redacted]');
  return out;
}
