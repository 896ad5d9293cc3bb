/**
 * Durations in experiment files, as people write them: `500ms`, `30s`, `10m`, `24h`, `7d`.
 * One number and one unit; no compound forms (`1h30m`), so a typo cannot silently mean
 * something else.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** The hint every duration error ends with. */
export const DURATION_HINT = 'write a number and a unit, like 500ms, 30s, 10m, 24h or 7d';

/** Milliseconds of a duration string, or an error message that says how to write one. */
export function parseDuration(text: string): { ms: number } | { error: string } {
  const m = PATTERN.exec(text.trim());
  if (!m) return { error: `"${text}" is not a duration — ${DURATION_HINT}` };
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (!(ms >= 1)) return { error: `"${text}" is shorter than a millisecond — ${DURATION_HINT}` };
  return { ms: Math.round(ms) };
}

/** A duration in milliseconds as the shortest of those units that says it exactly (1 h → "1h"). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
