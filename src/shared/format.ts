/**
 * Numbers formatted for people: 0.0004 not 4e-4, +18.9% not 0.189, 1,940 not 1940, and
 * "—" for what is not there (NaN in memory, null after JSON). Pure: no DOM, tested in node.
 * The full-precision value goes into a title tooltip (`exact`).
 */
import type { ExcludedTraffic, Report } from './report';

export const DASH = '—';
/** Typographic minus: lines up with "+" in tables. */
const MINUS = '\u2212';

/** The number, or NaN for null, undefined, strings, ±Infinity. */
export function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : NaN;
}

const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

const groups = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1,940 — counts of requests, samples, conversions. */
export function count(x: unknown): string {
  return ok(x) ? groups.format(Math.round(x)).replace('-', MINUS) : DASH;
}

/** Digits after the point for a share: enough to see a small rate (0.14%), no more. */
function shareDigits(pct: number): number {
  const a = Math.abs(pct);
  if (a === 0 || a >= 10) return 1;
  if (a >= 0.1) return 2;
  return 3;
}

/** 0.189 → "18.9%"; small shares keep their significant digits (0.0014 → "0.14%"). */
export function percent(x: unknown, digits?: number): string {
  if (!ok(x)) return DASH;
  const pct = x * 100;
  const d = digits ?? shareDigits(pct);
  return `${pct.toFixed(d).replace('-', MINUS)}%`;
}

/** A share in prose, without trailing zeros: 0.01 → "1%", 0.0143 → "1.43%". */
export function shortPercent(x: unknown): string {
  if (!ok(x)) return DASH;
  return `${String(Number((x * 100).toPrecision(3))).replace('-', MINUS)}%`;
}

/** 0.189 → "+18.9%", −0.05 → "−5.0%" (lifts). */
export function signedPercent(x: unknown, digits = 1): string {
  if (!ok(x)) return DASH;
  const text = (Math.abs(x) * 100).toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)}%`;
  return `${x > 0 ? '+' : MINUS}${text}%`;
}

/** Percentage points for absolute lifts: 0.0086 → "+0.86 pp". */
export function signedPoints(x: unknown, digits = 2): string {
  if (!ok(x)) return DASH;
  const text = (Math.abs(x) * 100).toFixed(digits);
  if (Number(text) === 0) return `${(0).toFixed(digits)} pp`;
  return `${x > 0 ? '+' : MINUS}${text} pp`;
}

/**
 * p-values the way a paper prints them: two significant digits, never exponent notation,
 * "<0.0001" below that (the exact value is in the tooltip).
 */
export function pValue(x: unknown): string {
  if (!ok(x)) return DASH;
  if (x < 0.0001) return '<0.0001';
  if (x >= 0.1) return x.toFixed(2);
  if (x >= 0.01) return x.toFixed(3);
  return x.toFixed(4);
}

/** Latencies: "0.42 ms", "4.2 ms", "42 ms", "1.2 s". */
export function ms(x: unknown): string {
  if (!ok(x) || x < 0) return DASH;
  if (x >= 1000) return `${(x / 1000).toFixed(x >= 10_000 ? 0 : 1)} s`;
  if (x >= 100) return `${Math.round(x)} ms`;
  if (x >= 1) return `${x.toFixed(1)} ms`;
  return `${x.toFixed(2)} ms`;
}

/** A test statistic or any other plain number: 3 significant digits, no exponent. */
export function plain(x: unknown): string {
  if (!ok(x)) return DASH;
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1000 ? groups.format(x) : a >= 0.001 ? String(Number(x.toPrecision(3))) : x.toFixed(6);
  return s.replace('-', MINUS);
}

/** An interval of lifts: "(+3.9%, +36.1%)". */
export function interval(ci: readonly unknown[] | null | undefined, fmt = signedPercent): string {
  if (!ci || ci.length !== 2 || !ok(ci[0]) || !ok(ci[1])) return DASH;
  return `(${fmt(ci[0])}, ${fmt(ci[1])})`;
}

/** The exact value for a tooltip ("not a number" for what the report could not compute). */
export function exact(x: unknown): string {
  if (typeof x === 'number') return Number.isFinite(x) ? String(x) : 'not computed (no data)';
  return x === null || x === undefined ? 'not computed (no data)' : String(x);
}

/** Weights as shares of their total: {v1: 95, v2: 5} → {v1: 0.95, v2: 0.05}. */
export function shares(weights: Record<string, unknown>): Record<string, number> {
  const entries = Object.entries(weights).map(([k, v]) => [k, Math.max(0, num(v) || 0)] as const);
  const total = entries.reduce((s, [, v]) => s + v, 0);
  return Object.fromEntries(entries.map(([k, v]) => [k, total > 0 ? v / total : 0]));
}

/** A share of a split, short: 95, 5, 2.5, 33.3 (no % sign; the caller adds it). */
export function splitNumber(share: number): string {
  const pct = share * 100;
  if (!Number.isFinite(pct)) return DASH;
  const rounded = Math.round(pct * 10) / 10;
  return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
}

/** "v1 95% · v2 5%" for a set of weights, in the given order. */
export function splitText(weights: Record<string, unknown>, order?: readonly string[]): string {
  const s = shares(weights);
  const names = order ? order.filter((n) => n in s) : Object.keys(s);
  return names.map((n) => `${n} ${splitNumber(s[n] ?? 0)}%`).join(' · ');
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local wall-clock time: "14:03:09" (or "14:03" when seconds do not matter). */
export function clock(ts: unknown, seconds = true): string {
  if (!ok(ts)) return DASH;
  const d = new Date(ts);
  return seconds
    ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Local date and time: "2026-12-06 14:03". */
export function dateTime(ts: unknown): string {
  if (!ok(ts)) return DASH;
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ts, false)}`;
}

/** One run of an experiment: "20261206T140309-1a2b3c · started 2026-12-06 14:03 · deploy · current". */
export function runText(run: { id: string; startedAt: number; reason?: string }, current: boolean): string {
  return [run.id, `started ${dateTime(run.startedAt)}`, run.reason, current ? 'current' : undefined]
    .filter(Boolean)
    .join(' · ');
}

/** "just now", "12 s ago", "3 min ago", "2 h ago". */
export function ago(ts: unknown, now: number): string {
  if (!ok(ts)) return DASH;
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 2) return 'just now';
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min ago`;
  return `${Math.round(m / 60)} h ago`;
}

/** A duration for axis spans and ETAs: "45 s", "12 min", "3.5 h". */
export function duration(msSpan: unknown): string {
  if (!ok(msSpan) || msSpan < 0) return DASH;
  const s = msSpan / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * What was left out of the experiment, in words: "412 forced requests, 3 debug requests
 * (x-smoke-test), 1,500 shadow requests and 12 feedback events for them, excluded"; undefined
 * when nothing was.
 */
export function excludedText(excluded: ExcludedTraffic | undefined): string | undefined {
  if (!excluded) return undefined;
  const parts: string[] = [];
  const plural = (n: number, what: string): string => `${count(n)} ${what}${n === 1 ? '' : 's'}`;
  if (excluded.forced > 0) parts.push(plural(excluded.forced, 'forced request'));
  if (excluded.debug > 0) {
    const headers = Object.keys(excluded.headers);
    parts.push(plural(excluded.debug, 'debug request') + (headers.length ? ` (${headers.join(', ')})` : ''));
  }
  if (excluded.other > 0) parts.push(plural(excluded.other, 'request') + ' of an unknown assignment');
  if (excluded.shadow > 0) parts.push(plural(excluded.shadow, 'shadow request'));
  if (parts.length === 0) return undefined;
  const feedback =
    excluded.feedback > 0 ? ` and ${plural(excluded.feedback, 'feedback event')} for them` : '';
  return `${parts.join(', ')}${feedback}, excluded from the split, the SRM, the A/B and drift`;
}

/** The unit of analysis in a sentence, with how well users stayed in their arm ("" for older reports). */
export function unitsText(report: Pick<Report, 'units' | 'srm'>): string {
  const u = report.units;
  if (!u) return '';
  if (u.unit === 'request') return 'Unit of analysis: the request (the experiment has no sticky key)';
  const plural = (n: number, what: string): string => `${count(n)} ${what}${n === 1 ? '' : 's'}`;
  const parts = [
    `Unit of analysis: the user (${u.key ?? 'sticky key'}), ${plural(u.users, 'user')}` +
      (u.requestsWithoutUser > 0
        ? ` and ${plural(u.requestsWithoutUser, 'request')} without one (a unit each)`
        : ''),
  ];
  const requestLevel = report.srm.requestLevel;
  if (requestLevel)
    parts.push(
      `the SRM counts users (request-level p = ${pValue(requestLevel.pValue)}, not used: a user's requests are not independent)`,
    );
  if (u.crossovers > 0)
    parts.push(
      `${plural(u.crossovers, 'user')} later routed to another arm (${plural(u.crossoverRequests, 'request')} left out of the A/B)`,
    );
  if (u.unexplainedCrossovers > 0)
    parts.push(
      `${plural(u.unexplainedCrossovers, 'user')} changed arm with the weights unchanged — stickiness is broken`,
    );
  if (u.evicted > 0)
    parts.push(`${plural(u.evicted, 'idle user')} dropped from memory (a returning one counts again)`);
  return parts.join('; ');
}

/**
 * The attribution rule in force, and with a window, matured against pending units per variant
 * (src/core/analysis/attribution.ts). Empty for reports of versions without the section.
 */
export function attributionText(report: Pick<Report, 'attribution'>): string {
  const a = report.attribution;
  if (!a) return '';
  const units = a.unit === 'user' ? 'users' : 'requests';
  if (a.rule !== 'window' || !a.variants)
    return `Attribution: feedback counts as it arrives (no metrics.primary.window), so ${units} whose feedback is still on its way count as not converted — biased against a newly ramped variant when feedback is delayed`;
  const from = a.unit === 'user' ? ' from each user’s first request' : '';
  const arms = Object.entries(a.variants).map(
    ([name, c]) => `${name} ${count(c.matured)} matured · ${count(c.pending)} pending`,
  );
  const all = Object.values(a.variants);
  const late = all.reduce((n, c) => n + c.late, 0);
  const overflow = all.reduce((n, c) => n + c.overflow, 0);
  const parts = [
    `Attribution window ${a.window ?? ''}${from}: the A/B counts matured ${units} only — ${arms.join('; ')}`,
  ];
  if (late > 0) parts.push(`${count(late)} late feedback not counted`);
  if (overflow > 0)
    parts.push(
      `${count(overflow)} ${units} arrived while ${count(a.capacity)} were pending and are left out of the A/B`,
    );
  return parts.join('; ');
}
