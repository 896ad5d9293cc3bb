/**
 * The domains of the values users and callers give, written once (SECURITY.md, "Input domains"):
 * the experiment file, the router config, the router's API and the event log's schema use them.
 *
 *   - names (experiments, endpoints, variants) are DNS-1123 labels: they become URLs, Kubernetes
 *     object names and metric labels, and Kubernetes applies the rule to them anyway;
 *   - a weight is a finite number ≥ 0, and a split's weights add up to a finite positive number
 *     (1e308 + 1e308 is Infinity, which would send everything to the last variant);
 *   - a rollout step is a percentage in [0.01, 100] (a smaller share routes no request a gate
 *     could count);
 *   - a timestamp is epoch milliseconds a Date can hold (|t| ≤ 8.64e15);
 *   - a latency is ≥ 0.
 */
import { z } from 'zod';

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MESSAGE = 'must be lowercase letters, digits and "-" (a DNS-1123 label)';

/** Names that end up in URLs, Kubernetes object names and metric labels. */
export const nameSchema = z.string().regex(DNS_LABEL, DNS_LABEL_MESSAGE).max(63);

export const weightSchema = z.number().min(0);

/** True when weights add up to a finite positive number. */
export function weightsAddUp(weights: readonly number[]): boolean {
  const total = weights.reduce((a, b) => a + b, 0);
  return total > 0 && Number.isFinite(total);
}
export const WEIGHTS_SUM_MESSAGE = 'weights must add up to something positive and finite (e.g. 95 and 5)';

export const MIN_ROLLOUT_STEP = 0.01;
export const rolloutStepSchema = z
  .number()
  .min(MIN_ROLLOUT_STEP, `a step is a percentage of traffic from ${MIN_ROLLOUT_STEP} to 100`)
  .max(100, 'a step is a percentage of traffic from 0.01 to 100');

/** True for a rollout step in [MIN_ROLLOUT_STEP, 100]. */
export function validRolloutStep(x: unknown): x is number {
  return typeof x === 'number' && x >= MIN_ROLLOUT_STEP && x <= 100;
}

/** The largest epoch-ms value a Date holds. */
export const MAX_TIMESTAMP = 8.64e15;

/** True for epoch milliseconds a Date can hold. */
export function validTimestamp(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x) <= MAX_TIMESTAMP;
}
