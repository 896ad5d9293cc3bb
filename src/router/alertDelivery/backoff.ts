/**
 * When to try a webhook again: exponential backoff without jitter (one router, a handful of
 * webhooks: no thundering herd to spread), and which answers are worth another attempt.
 */
import type { RouterAlertsConfig } from '../../core/spec/alertsSpec';

export type RetrySettings = RouterAlertsConfig['retry'];

/** The wait before attempt n+1 (n ≥ 1): initial · 2^(n−1), capped at the maximum. */
export function backoffDelay(retry: RetrySettings, attempt: number): number {
  return Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** The waits between all attempts of one message (attempts − 1 of them). */
export function backoffSchedule(retry: RetrySettings): number[] {
  return Array.from({ length: Math.max(0, retry.attempts - 1) }, (_, i) => backoffDelay(retry, i + 1));
}

/**
 * True when another attempt may succeed: no answer (a network error or a timeout), 408, 429 or
 * a 5xx. Any other 4xx is the message's or the secret's fault and will not change by itself.
 */
export function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}
