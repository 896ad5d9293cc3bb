/**
 * One webhook's outbox: a bounded FIFO of messages sent one at a time, each tried up to
 * `retry.attempts` times with exponential backoff. It runs on timers and its own HTTP client
 * (Node's fetch, not the upstream pools), so a slow or failing receiver holds up only its own
 * messages, never a request the router serves. A full queue drops the new message.
 */
import type { AlertFormat } from '../../core/spec/alertsSpec';
import type { WebhookSecret } from '../../core/spec/alertsSpec';
import type { AlertEvent } from '../../shared/events';
import { backoffDelay, retryable, type RetrySettings } from './backoff';
import { payloadFor, type AlertMessage } from './payloads';
import { redact } from './secrets';

export interface QueuedMessage {
  message: AlertMessage;
  format: AlertFormat;
}

export interface Outcome {
  outcome: AlertEvent['outcome'];
  attempts: number;
  httpStatus?: number;
  error?: string;
}

export interface QueueSettings {
  retry: RetrySettings;
  queueSize: number;
  externalURL?: string;
}

export class WebhookQueue {
  private readonly waiting: QueuedMessage[] = [];
  private running = false;
  private readonly stopped = new AbortController();

  constructor(
    readonly name: string,
    private settings: () => QueueSettings,
    /** The webhook's URL and token as of now (a rotated secret applies to the next attempt). */
    private readonly secret: () => WebhookSecret | undefined,
    private readonly onOutcome: (job: QueuedMessage, outcome: Outcome) => void,
  ) {}

  /** Messages waiting or in flight. */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /** Queues a message; when the queue is full it is dropped at once (its outcome says so). */
  push(job: QueuedMessage): void {
    if (this.stopped.signal.aborted) return;
    if (this.size >= this.settings().queueSize) {
      this.onOutcome(job, { outcome: 'dropped', attempts: 0, error: 'the webhook queue is full' });
      return;
    }
    this.waiting.push(job);
    if (!this.running) void this.drain();
  }

  /** Stops sending: pending messages stay undelivered, and a restart sends them again. */
  stop(): void {
    this.stopped.abort();
    this.waiting.length = 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let job = this.waiting.shift(); job; job = this.waiting.shift()) {
        const outcome = await this.deliver(job);
        if (this.stopped.signal.aborted) return;
        this.onOutcome(job, outcome);
      }
    } finally {
      this.running = false;
    }
  }

  private async deliver(job: QueuedMessage): Promise<Outcome> {
    const body = JSON.stringify(payloadFor(job.format, job.message, this.settings().externalURL));
    let last: { status?: number; error?: string } = {};
    for (let attempt = 1; ; attempt++) {
      const { retry } = this.settings();
      const secret = this.secret();
      if (!secret)
        return {
          outcome: 'failed',
          attempts: attempt - 1,
          error: `no webhook "${this.name}" in the alert secrets file — add webhooks.${this.name}.url there`,
        };
      last = await post(secret, body, retry.timeoutMs, this.stopped.signal);
      if (last.status !== undefined && last.status >= 200 && last.status < 300)
        return { outcome: 'delivered', attempts: attempt, httpStatus: last.status };
      if (this.stopped.signal.aborted || !retryable(last.status) || attempt >= retry.attempts) {
        const error = redact(last.error ?? `HTTP ${last.status}`, [secret]);
        return {
          outcome: 'failed',
          attempts: attempt,
          ...(last.status !== undefined ? { httpStatus: last.status } : {}),
          error,
        };
      }
      await sleep(backoffDelay(retry, attempt), this.stopped.signal);
    }
  }
}

/** One POST; never throws: a failure is `{error}` (with secrets possibly in it: redact before use). */
async function post(
  secret: WebhookSecret,
  body: string,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<{ status?: number; error?: string }> {
  try {
    const res = await fetch(secret.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'model-canary-router',
        ...(secret.token ? { authorization: `Bearer ${secret.token}` } : {}),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]),
    });
    // The body is of no use, and a receiver could send a large one: drop it unread.
    await res.body?.cancel().catch(() => undefined);
    return res.ok ? { status: res.status } : { status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { error: `no answer within ${timeoutMs} ms` };
    return { error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
