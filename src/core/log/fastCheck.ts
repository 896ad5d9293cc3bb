/**
 * A hand-written check of the common event lines (requests, feedback and labels), for replay
 * and `analyze` at disk speed. It is conservative: it accepts a line only when both the event
 * schema (./eventSchema.ts, zod) and analyze's shape checks (src/core/analysis/events.ts) surely
 * accept it. Everything else (rarer event types, an odd field) goes to those checks, which keep
 * their precise messages, so a poisoned line is quarantined and reported exactly as before.
 */
import type { ExperimentEvent } from '../../shared/events';
import { MAX_TIMESTAMP } from '../spec/domains';

type Fields = Record<string, unknown>;

const isName = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const isFinite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isNonNegative = (v: unknown): boolean => isFinite(v) && (v as number) >= 0;
const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';
/** Optional, and a non-empty string when present (analyze's shape check refuses ""). */
const optName = (v: unknown): boolean => v === undefined || isName(v);

function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFeatureRecord(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const k in v) {
    const x = v[k];
    if (typeof x !== 'string' && !isFinite(x)) return false;
  }
  return true;
}

function isOutputs(v: unknown): boolean {
  if (!isObject(v)) return false;
  const { predict, proba } = v;
  return (
    (predict === undefined || typeof predict === 'string' || isFinite(predict)) &&
    (proba === undefined || isFinite(proba))
  );
}

function isSteps(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const s of v as unknown[]) {
    if (!isObject(s)) return false;
    if (!isName(s.name) || !isNonNegative(s.latencyMs) || !Number.isSafeInteger(s.status)) return false;
    if (!optString(s.error)) return false;
  }
  return true;
}

function isRequest(e: Fields): boolean {
  return (
    isName(e.id) &&
    isName(e.variant) &&
    isNonNegative(e.latencyMs) &&
    Number.isSafeInteger(e.status) &&
    (e.shadow === undefined || typeof e.shadow === 'boolean') &&
    optName(e.assignment) &&
    optName(e.user) &&
    optName(e.run) &&
    optString(e.debugHeader) &&
    optString(e.error) &&
    (e.protocol === undefined || e.protocol === 'grpc') &&
    (e.inputs === undefined || isFeatureRecord(e.inputs)) &&
    (e.modelInputs === undefined || isFeatureRecord(e.modelInputs)) &&
    (e.outputs === undefined || isOutputs(e.outputs)) &&
    (e.steps === undefined || isSteps(e.steps))
  );
}

/**
 * The event, when `value` (a parsed line) is surely a valid request, feedback or label event;
 * undefined when the full checks must decide.
 */
export function fastEvent(value: unknown): ExperimentEvent | undefined {
  if (!isObject(value)) return undefined;
  const ts = value.ts;
  if (typeof ts !== 'number' || !(ts >= -MAX_TIMESTAMP && ts <= MAX_TIMESTAMP)) return undefined;
  if (!isName(value.experiment)) return undefined;
  switch (value.type) {
    case 'request':
      return isRequest(value) ? (value as unknown as ExperimentEvent) : undefined;
    case 'feedback':
      return isName(value.id) &&
        isName(value.metric) &&
        isFinite(value.value) &&
        optString(value.variant) &&
        optString(value.run)
        ? (value as unknown as ExperimentEvent)
        : undefined;
    case 'label':
      return isName(value.id) &&
        (isFinite(value.label) || typeof value.label === 'string') &&
        optString(value.variant) &&
        optString(value.run)
        ? (value as unknown as ExperimentEvent)
        : undefined;
    default:
      return undefined;
  }
}
