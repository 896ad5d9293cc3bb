/**
 * Reading event-log lines defensively: a log may end in a torn line or hold lines written
 * by another version, so every line is checked and a bad one is reported, never fatal.
 */
import type { ExperimentEvent } from '../../shared/events';
import { checkEvent } from '../log/eventSchema';

export type ParsedLine = { ok: true; event: ExperimentEvent } | { ok: false; error: string };

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Parses one JSON Lines event; says what is wrong with a malformed one. A line these checks
 * accept must also pass the event schema the router replays with (src/core/log/eventSchema.ts),
 * so `analyze` and the router agree on what an event is.
 */
export function parseEventLine(line: string): ParsedLine {
  const parsed = shapeOf(line);
  if (!parsed.ok) return parsed;
  const checked = checkEvent(parsed.event);
  return checked.ok ? parsed : { ok: false, error: checked.reason };
}

/** JSON and the fields `analyze` needs, without the event schema. */
export function shapeOf(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, error: 'not a JSON object' };
  const e = value as Record<string, unknown>;
  if (!isStr(e.experiment)) return { ok: false, error: 'missing "experiment"' };
  if (!isNum(e.ts)) return { ok: false, error: 'missing numeric "ts"' };
  switch (e.type) {
    case 'request':
      if (!isStr(e.id)) return { ok: false, error: 'request without "id"' };
      if (!isStr(e.variant)) return { ok: false, error: 'request without "variant"' };
      if (!isNum(e.latencyMs)) return { ok: false, error: 'request without numeric "latencyMs"' };
      if (!isNum(e.status)) return { ok: false, error: 'request without numeric "status"' };
      if (e.assignment !== undefined && !isStr(e.assignment))
        return { ok: false, error: '"assignment" must be a string' };
      if (e.user !== undefined && !isStr(e.user)) return { ok: false, error: '"user" must be a string' };
      if (e.run !== undefined && !isStr(e.run)) return { ok: false, error: '"run" must be a string' };
      return { ok: true, event: value as ExperimentEvent };
    case 'feedback':
      if (!isStr(e.id)) return { ok: false, error: 'feedback without "id"' };
      if (!isStr(e.metric)) return { ok: false, error: 'feedback without "metric"' };
      if (!isNum(e.value)) return { ok: false, error: 'feedback without numeric "value"' };
      return { ok: true, event: value as ExperimentEvent };
    case 'label':
      if (!isStr(e.id)) return { ok: false, error: 'label without "id"' };
      if (!isNum(e.label) && typeof e.label !== 'string')
        return { ok: false, error: 'label without a numeric or string "label"' };
      return { ok: true, event: value as ExperimentEvent };
    case 'weights':
      if (typeof e.weights !== 'object' || e.weights === null)
        return { ok: false, error: 'weights without "weights"' };
      return { ok: true, event: value as ExperimentEvent };
    case 'rollout':
      if (typeof e.state !== 'object' || e.state === null)
        return { ok: false, error: 'rollout without "state"' };
      return { ok: true, event: value as ExperimentEvent };
    case 'run':
      if (!isStr(e.run)) return { ok: false, error: 'run without "run" id' };
      if (typeof e.weights !== 'object' || e.weights === null)
        return { ok: false, error: 'run without "weights"' };
      return { ok: true, event: value as ExperimentEvent };
    case 'alert':
      if (!isStr(e.webhook)) return { ok: false, error: 'alert without "webhook"' };
      if (e.status !== 'firing' && e.status !== 'resolved')
        return { ok: false, error: 'alert "status" must be "firing" or "resolved"' };
      if (!Array.isArray(e.keys) || !e.keys.every(isStr))
        return { ok: false, error: 'alert without a "keys" list of strings' };
      if (e.outcome !== 'delivered' && e.outcome !== 'failed' && e.outcome !== 'dropped')
        return { ok: false, error: 'alert "outcome" must be delivered, failed or dropped' };
      if (!isNum(e.attempts)) return { ok: false, error: 'alert without numeric "attempts"' };
      return { ok: true, event: value as ExperimentEvent };
    default:
      return { ok: false, error: `unknown type ${JSON.stringify(e.type)}` };
  }
}
