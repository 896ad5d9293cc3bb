/**
 * The event log's line schema (docs/contracts.md, "Event log"), in zod: every replayed line is
 * checked against it, so a line that is JSON but not an event (`null`, a weights event with
 * `weights: null`, a negative latency) is quarantined instead of reaching the report builders.
 *
 * Older logs still load: every field added after the first release is optional here, as it is
 * in src/shared/events.ts. A line of a type this version does not know (written by a newer
 * router) passes when it has the common envelope (`type`, `ts`, `experiment`); the consumers
 * ignore it.
 */
import { z } from 'zod';
import type { ExperimentEvent } from '../../shared/events';
import { MAX_TIMESTAMP } from '../spec/domains';
import { fastEvent } from './fastCheck';

// zod's number() refuses NaN and ±Infinity itself; built-in checks are much faster than refine().
const finite = z.number();
const nonNegative = z.number().min(0, 'must be ≥ 0');
/** Epoch milliseconds a Date can hold. */
const timestamp = z
  .number()
  .min(-MAX_TIMESTAMP, 'must be a valid epoch-ms timestamp')
  .max(MAX_TIMESTAMP, 'must be a valid epoch-ms timestamp');
const name = z.string().min(1);

/** A split: finite weights ≥ 0 adding up to a finite positive number. */
const weights = z.record(z.string(), nonNegative).refine((w) => {
  const total = Object.values(w).reduce((a, b) => a + b, 0);
  return total > 0 && Number.isFinite(total);
}, 'weights must add up to a finite positive number');

const envelope = { ts: timestamp, experiment: name };

const request = z.looseObject({
  type: z.literal('request'),
  ...envelope,
  id: name,
  variant: name,
  latencyMs: nonNegative,
  status: z.number().int(),
  shadow: z.boolean().optional(),
  // A value this version does not know (a newer router's) is reported apart, not refused.
  assignment: z.string().optional(),
  user: z.string().optional(),
  debugHeader: z.string().optional(),
  run: z.string().optional(),
  inputs: z
    .custom<Record<string, number | string>>(isFeatureRecord, 'must map names to numbers or strings')
    .optional(),
  outputs: z
    .custom<{ predict?: number | string; proba?: number }>(isOutputs, 'must be {predict?, proba?}')
    .optional(),
  // A graph's model input for drift (drift.modelInput); absent otherwise and in older logs.
  modelInputs: z
    .custom<Record<string, number | string>>(isFeatureRecord, 'must map names to numbers or strings')
    .optional(),
  error: z.string().optional(),
  protocol: z.literal('grpc').optional(),
  // A graph variant's steps (docs/graphs.md); absent for a single model and in older logs.
  steps: z
    .array(
      z.looseObject({
        name,
        latencyMs: nonNegative,
        status: z.number().int(),
        error: z.string().optional(),
      }),
    )
    .optional(),
});

const feedback = z.looseObject({
  type: z.literal('feedback'),
  ...envelope,
  id: name,
  metric: name,
  value: finite,
  variant: z.string().optional(),
  run: z.string().optional(),
});

const label = z.looseObject({
  type: z.literal('label'),
  ...envelope,
  id: name,
  label: z.union([finite, z.string()]),
  variant: z.string().optional(),
  run: z.string().optional(),
});

const weightsEvent = z.looseObject({
  type: z.literal('weights'),
  ...envelope,
  weights,
  source: z.string().optional(),
  reason: z.string().optional(),
});

const rolloutState = z.looseObject({
  state: z.string(),
  baseline: z.string(),
  candidate: z.string(),
  stepIndex: z.number().int(),
  steps: z.array(
    z.number().gt(0, 'a rollout step must be in (0, 100]').max(100, 'a rollout step must be in (0, 100]'),
  ),
  stepStartedAt: finite,
  stepStartRequests: finite,
  awaitingApproval: z.boolean(),
  approved: z.boolean(),
  reason: z.string(),
  gates: z.array(z.looseObject({ name: z.string(), ok: z.boolean(), detail: z.string() })),
  history: z.array(z.looseObject({ ts: finite, from: z.string(), to: z.string() })),
});

const rollout = z.looseObject({
  type: z.literal('rollout'),
  ...envelope,
  action: z.enum(['start', 'pause', 'resume', 'approve', 'abort', 'evaluate']),
  state: rolloutState,
});

const run = z.looseObject({
  type: z.literal('run'),
  ...envelope,
  run: name,
  reason: z.string().optional(),
  weights: z.record(z.string(), nonNegative),
});

const KNOWN = { request, feedback, label, weights: weightsEvent, rollout, run } as const;
const other = z.looseObject({ type: z.string().min(1), ...envelope });

/** A flat record of finite numbers and strings (a request's sampled features); checked by hand for speed on replay. */
function isFeatureRecord(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) return false;
  }
  return true;
}

/** A request's recorded outputs: class (number or string) and score, both optional. */
function isOutputs(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const { predict, proba } = v as { predict?: unknown; proba?: unknown };
  const finiteOrAbsent = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isFinite(x));
  return (typeof predict === 'string' || finiteOrAbsent(predict)) && finiteOrAbsent(proba);
}

export type LineCheck = { ok: true; event: ExperimentEvent } | { ok: false; reason: string };

/**
 * Checks one parsed line; the reason names the first wrong field. The common lines pass a
 * hand-written check (./fastCheck.ts) that zod would pass too; the rest go to zod.
 */
export function checkEvent(value: unknown): LineCheck {
  const fast = fastEvent(value);
  return fast ? { ok: true, event: fast } : checkEventSchema(value);
}

/** Checks one parsed line against the zod schema alone. */
export function checkEventSchema(value: unknown): LineCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: `not an event object (got ${value === null ? 'null' : typeof value})` };
  const type = (value as { type?: unknown }).type;
  const schema =
    typeof type === 'string' && Object.hasOwn(KNOWN, type) ? KNOWN[type as keyof typeof KNOWN] : other;
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, event: value as ExperimentEvent };
  const issue = result.error.issues[0]!;
  const at = issue.path.length ? issue.path.map(String).join('.') : 'the event';
  return { ok: false, reason: `${typeof type === 'string' ? `${type} event: ` : ''}${at}: ${issue.message}` };
}

/** Parses and checks one line of a segment. */
export function checkLine(line: string): LineCheck {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  return checkEvent(value);
}
