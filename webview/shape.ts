/**
 * From a report to what the dashboard shows: variant colours, the verdict in words, the SRM
 * banner, A/B table rows, the drift heatmap, the timeline of events, and the weights the
 * controls send. Pure: no DOM; tested in node.
 */
import type { DriftSample } from '../src/shared/protocol';
import type {
  Comparison,
  Decision,
  DriftReport,
  FeatureDrift,
  Report,
  WeightChange,
  RolloutStatus,
} from '../src/shared/report';
import {
  count,
  interval,
  ms,
  num,
  pValue,
  shares,
  shortPercent,
  signedPercent,
  splitNumber,
  splitText,
} from './format';

// ── variants and colours ────────────────────────────────────────────────────────────────

/** Theme colour keys (--vscode-charts-*); the baseline is the neutral one, red means trouble. */
export type ColourKey = 'neutral' | 'blue' | 'orange' | 'purple' | 'green' | 'yellow';
const CANDIDATE_COLOURS: readonly ColourKey[] = ['blue', 'orange', 'purple', 'green', 'yellow'];

/** A/B variants, baseline first, in the report's (configuration) order otherwise. */
export function variantOrder(report: Report): string[] {
  const base = report.variants.filter((v) => v.role === 'baseline').map((v) => v.name);
  return [...base, ...report.variants.filter((v) => v.role !== 'baseline').map((v) => v.name)];
}

/**
 * One colour per variant, the same on every chart and in every table: the baseline neutral,
 * candidates and the shadow in configuration order.
 */
export function variantColours(report: Report): Map<string, ColourKey> {
  const colours = new Map<string, ColourKey>();
  let i = 0;
  for (const name of variantOrder(report)) {
    const v = report.variants.find((x) => x.name === name);
    colours.set(
      name,
      v?.role === 'baseline' ? 'neutral' : CANDIDATE_COLOURS[i++ % CANDIDATE_COLOURS.length]!,
    );
  }
  const shadow = report.shadow?.variant;
  if (shadow && !colours.has(shadow)) colours.set(shadow, CANDIDATE_COLOURS[i % CANDIDATE_COLOURS.length]!);
  return colours;
}

/** The configured weights of the A/B variants. */
export function currentWeights(report: Report): Record<string, number> {
  return Object.fromEntries(report.variants.map((v) => [v.name, num(v.weight) || 0]));
}

/** The header's split: "v1 95% · v2 5% · v3 shadow". */
export function headerSplit(report: Report): string {
  const text = splitText(currentWeights(report), variantOrder(report));
  const shadow = report.shadow?.variant;
  return shadow ? `${text} · ${shadow} shadow` : text;
}

/** The primary metric the comparisons are about (undefined before any comparison). */
export function primaryMetric(report: Report): string | undefined {
  return report.comparisons[0]?.metric;
}

/** Feedback received for the metric, over all variants. */
export function feedbackCount(report: Report, metric: string | undefined): number {
  if (!metric) return 0;
  return report.variants.reduce((n, v) => n + (num(v.feedback?.[metric]?.count) || 0), 0);
}

/** Whether the metric looks like a proportion (rates in [0, 1]) — conversion, click, … */
export function isProportion(report: Report): boolean {
  return report.comparisons.every(
    (c) => !(num(c.variantRate) > 1 || num(c.baselineRate) > 1 || num(c.variantRate) < 0),
  );
}

// ── verdict ─────────────────────────────────────────────────────────────────────────────

export type Tone = 'good' | 'bad' | 'wait' | 'warn' | 'neutral';

/** One line of the verdict: a headline, the number that decides it, and the evidence. */
export interface Verdict {
  variant?: string;
  tone: Tone;
  /** "v2: promote? not yet" */
  headline: string;
  /** The deciding number in words: "1,940 of ~6,100 samples per arm". */
  deciding: string;
  /** The evidence: "conversion +18.9% (+3.9%, +36.1%)". */
  detail: string;
  /** The report's own reason, for the tooltip. */
  reason?: string;
}

export interface VerdictContext {
  routerUrl?: string;
  endpoint?: string;
}

/** Where feedback goes, for the empty states. */
export function feedbackHint(experiment: string, ctx: VerdictContext = {}): string {
  const base = (ctx.routerUrl ?? '').replace(/\/+$/, '');
  return `send it to POST ${base}/api/v1/experiments/${encodeURIComponent(experiment)}/feedback or run Simulate Traffic`;
}

/** Where requests go, for the empty states. */
export function trafficHint(experiment: string, ctx: VerdictContext = {}): string {
  const base = (ctx.routerUrl ?? '').replace(/\/+$/, '');
  const endpoint = encodeURIComponent(ctx.endpoint ?? experiment);
  return `send requests to POST ${base}/v2/models/${endpoint}/infer or run Simulate Traffic`;
}

const GUARDRAIL_WORDS: Record<string, { label: string; fmt: (x: number) => string }> = {
  latencyP95Ms: { label: 'p95 latency', fmt: ms },
  errorRate: { label: 'error rate', fmt: shortPercent },
};

/** "p95 latency 61 ms is over the 50 ms guardrail". */
export function guardrailText(g: { name: string; value: number; limit: number }): string {
  const w = GUARDRAIL_WORDS[g.name] ?? { label: g.name, fmt: (x: number) => String(x) };
  return `${w.label} ${w.fmt(g.value)} is over the ${w.fmt(g.limit)} guardrail`;
}

function liftText(c: Comparison): string {
  return `${c.metric} ${signedPercent(c.relativeLift)} ${interval(c.relativeCi95)}`;
}

/** Pulls "1,940 of ~6,100" and the ETA out of the analysis's "not enough evidence" reason. */
export function samplesNeeded(reason: string): { have: string; need: string; eta?: string } | undefined {
  const m = /([\d,]+) of ~([\d,]+) samples/.exec(reason);
  if (!m) return undefined;
  const eta = /~(\d+) s at the current rate/.exec(reason);
  const seconds = eta ? Number(eta[1]) : NaN;
  const etaText = Number.isFinite(seconds)
    ? seconds < 90
      ? `~${seconds} s`
      : seconds < 5400
        ? `~${Math.round(seconds / 60)} min`
        : `~${(seconds / 3600).toFixed(1)} h`
    : undefined;
  return { have: m[1]!, need: m[2]!, ...(etaText ? { eta: etaText } : {}) };
}

/** The observed and configured split as "93.1/6.9" and "95/5" (variants with traffic). */
export function splitPair(report: Report): { observed: string; configured: string } {
  const active = report.variants.filter((v) => num(v.weight) > 0 || num(v.requests) > 0);
  const w = shares(Object.fromEntries(active.map((v) => [v.name, num(v.weight) || 0])));
  const order = variantOrder(report).filter((n) => active.some((v) => v.name === n));
  return {
    observed: order
      .map((n) => {
        const share = num(active.find((v) => v.name === n)?.observedShare);
        return Number.isFinite(share) ? (share * 100).toFixed(1) : '—';
      })
      .join('/'),
    configured: order.map((n) => splitNumber(w[n] ?? 0)).join('/'),
  };
}

/** The SRM banner, when the observed split does not match the configured one. */
export function srmBanner(report: Report): string | undefined {
  if (!report.srm?.mismatch) return undefined;
  const { observed, configured } = splitPair(report);
  return `SRM p = ${pValue(report.srm.pValue)}: observed split ${observed} does not match ${configured} — results can't be trusted until the routing is fixed`;
}

/**
 * "Can I promote?" in words, one line per candidate, with the number that decides it. The
 * order of precedence follows the analysis: a breached guardrail, then SRM, then the test.
 */
export function verdicts(report: Report, ctx: VerdictContext = {}): Verdict[] {
  const candidates = report.variants.filter((v) => v.role === 'candidate');
  const baseline = report.variants.find((v) => v.role === 'baseline');
  const totalRequests = report.variants.reduce((n, v) => n + (num(v.requests) || 0), 0);
  if (totalRequests === 0)
    return [
      {
        tone: 'neutral',
        headline: 'no traffic yet',
        deciding: '0 requests',
        detail: trafficHint(report.experiment, ctx),
      },
    ];
  if (candidates.length === 0)
    return [
      {
        tone: 'neutral',
        headline: `${baseline?.name ?? 'the baseline'} serves all traffic`,
        deciding: 'no candidate',
        detail: 'add a candidate variant to the experiment and deploy it to compare',
      },
    ];
  const metric = primaryMetric(report);
  if (!metric || feedbackCount(report, metric) === 0)
    return [
      {
        tone: 'neutral',
        headline: 'no feedback yet',
        deciding: `${count(totalRequests)} requests, 0 outcomes`,
        detail: feedbackHint(report.experiment, ctx),
      },
    ];
  return report.comparisons.map((c) => verdictFor(report, c));
}

function verdictFor(report: Report, c: Comparison): Verdict {
  const reason = c.reason;
  const broken = report.guardrails.find((g) => g.variant === c.variant && !g.ok);
  if (c.decision === 'rollback' && broken)
    return {
      variant: c.variant,
      tone: 'bad',
      headline: `${c.variant}: roll back`,
      deciding: guardrailText(broken),
      detail: liftText(c),
      reason,
    };
  if (report.srm?.mismatch)
    return {
      variant: c.variant,
      tone: 'warn',
      headline: `${c.variant}: can't tell`,
      deciding: `SRM p = ${pValue(report.srm.pValue)}`,
      detail: 'the observed split does not match the weights — fix the routing before reading the results',
      reason,
    };
  const byDecision: Record<Decision, () => Verdict> = {
    promote: () => ({
      variant: c.variant,
      tone: 'good',
      headline: `${c.variant}: ready to promote`,
      deciding: `always-valid p = ${pValue(c.sequentialPValue)}`,
      detail: liftText(c),
      reason,
    }),
    rollback: () => ({
      variant: c.variant,
      tone: 'bad',
      headline: `${c.variant}: roll back`,
      deciding: `always-valid p = ${pValue(c.sequentialPValue)}`,
      detail: liftText(c),
      reason,
    }),
    continue: () => {
      const need = samplesNeeded(reason);
      return {
        variant: c.variant,
        tone: 'wait',
        headline: `${c.variant}: promote? not yet`,
        deciding: need
          ? `${need.have} of ~${need.need} samples needed${need.eta ? ` (${need.eta} at the current rate)` : ''}`
          : reason,
        detail: liftText(c),
        reason,
      };
    },
    inconclusive: () => {
      const m = /after ([\d,]+) samples per arm/.exec(reason);
      return {
        variant: c.variant,
        tone: 'neutral',
        headline: `${c.variant}: no difference`,
        deciding: m ? `no significant difference after ${m[1]} samples per arm` : reason,
        detail: liftText(c),
        reason,
      };
    },
  };
  return (byDecision[c.decision] ?? byDecision.continue)();
}

// ── A/B table ───────────────────────────────────────────────────────────────────────────

export interface AbRow {
  variant: string;
  role: 'baseline' | 'candidate';
  model?: string;
  colour: ColourKey;
  requests: number;
  /** Conversions (or the metric's sum for means). */
  conversions: number;
  feedback: number;
  rate: number;
  /** Candidates only. */
  comparison?: Comparison;
}

export interface AbTable {
  metric: string | undefined;
  proportion: boolean;
  rows: AbRow[];
  /** Half-width of the shared lift axis (relative lift), so the bars of all rows compare. */
  scale: number;
}

/** Rows of the A/B table (baseline first) and the shared scale of the lift bars. */
export function abTable(report: Report, models: Record<string, string> = {}): AbTable {
  const metric = primaryMetric(report);
  const colours = variantColours(report);
  const rows: AbRow[] = variantOrder(report).map((name) => {
    const v = report.variants.find((x) => x.name === name)!;
    const fb = metric ? v.feedback?.[metric] : undefined;
    const requests = num(v.requests);
    const rate = num(fb?.rate);
    const comparison = report.comparisons.find((c) => c.variant === name);
    return {
      variant: name,
      role: v.role,
      ...(models[name] !== undefined ? { model: models[name] } : {}),
      colour: colours.get(name) ?? 'neutral',
      requests,
      conversions: Number.isFinite(rate) && Number.isFinite(requests) ? Math.round(rate * requests) : NaN,
      feedback: num(fb?.count),
      // No requests, no rate: "—" for every arm alike (the comparison's 0 would read "0.0%").
      rate: !(requests > 0) ? NaN : Number.isFinite(rate) ? rate : num(comparison?.variantRate),
      ...(comparison ? { comparison } : {}),
    };
  });
  let scale = 0;
  for (const c of report.comparisons)
    for (const x of [c.relativeLift, ...(c.relativeCi95 ?? [])]) {
      const a = Math.abs(num(x));
      if (Number.isFinite(a) && a > scale) scale = a;
    }
  return {
    metric,
    proportion: isProportion(report),
    rows,
    scale: scale > 0 ? niceCeil(scale * 1.1) : 0.1,
  };
}

/** 0.37 → 0.4, 1.3 → 1.5: a round axis end. */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 0.1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10]) if (x <= m * p + 1e-12) return m * p;
  return 10 * p;
}

/** Position (0..1) of a lift on the lift bar's axis [-scale, +scale]. */
export function liftPosition(x: number, scale: number): number {
  if (!Number.isFinite(x) || !(scale > 0)) return 0.5;
  return Math.min(1, Math.max(0, 0.5 + x / (2 * scale)));
}

/** The interval says better (all above zero), worse (all below) or can't tell. */
export function liftTone(ci: readonly number[] | undefined): 'good' | 'bad' | 'neutral' {
  const lo = num(ci?.[0]);
  const hi = num(ci?.[1]);
  if (lo > 0) return 'good';
  if (hi < 0) return 'bad';
  return 'neutral';
}

// ── drift ───────────────────────────────────────────────────────────────────────────────

export type DriftLevel = 'drift' | 'near' | 'ok' | 'none';

/**
 * A feature's p-value against the per-feature threshold: drifting (the analysis flagged it,
 * or p below the threshold), near (within 10× of it), ok, or none (no test result).
 */
export function driftLevel(
  f: Pick<FeatureDrift, 'pValue' | 'statistic' | 'drift'>,
  threshold: number,
): DriftLevel {
  if (f.drift) return 'drift';
  const p = num(f.pValue);
  const t = num(threshold);
  if (Number.isFinite(p)) {
    if (Number.isFinite(t) && p < t) return 'drift';
    if (Number.isFinite(t) && p < Math.min(1, t * 10)) return 'near';
    return 'ok';
  }
  return Number.isFinite(num(f.statistic)) ? 'ok' : 'none';
}

export interface HeatCell {
  feature: string;
  variant: string;
  level: DriftLevel;
  /** What the cell says: the p-value, or the distance for tests without one. */
  text: string;
  title: string;
}

export interface Heatmap {
  features: string[];
  variants: string[];
  /** rows[feature][variant]; undefined where the variant has no result for the feature. */
  rows: (HeatCell | undefined)[][];
  threshold: number;
}

/** Features × variants with the p-value coloured against the threshold. */
export function heatmap(drift: DriftReport, order: readonly string[] = []): Heatmap {
  const features: string[] = [];
  const variantSet = new Set<string>();
  for (const f of drift.features) {
    if (!features.includes(f.name)) features.push(f.name);
    variantSet.add(f.variant);
  }
  const variants = [
    ...order.filter((v) => variantSet.has(v)),
    ...[...variantSet].filter((v) => !order.includes(v)),
  ];
  const threshold = num(drift.threshold);
  const rows = features.map((name) =>
    variants.map((variant): HeatCell | undefined => {
      const f = drift.features.find((x) => x.name === name && x.variant === variant);
      if (!f) return undefined;
      const p = num(f.pValue);
      const level = driftLevel(f, threshold);
      const text = Number.isFinite(p) ? pValue(p) : `${f.test} ${formatStat(f.statistic)}`;
      const verdict =
        level === 'drift'
          ? 'drifting'
          : level === 'near'
            ? 'close to the threshold'
            : level === 'ok'
              ? 'no drift'
              : 'no result';
      const title = `${name} on ${variant}: ${f.test}${Number.isFinite(p) ? ` p = ${String(p)}` : ''}, statistic ${String(
        f.statistic,
      )}; threshold ${String(threshold)} (${drift.correction}) — ${verdict}`;
      return { feature: name, variant, level, text, title };
    }),
  );
  return { features, variants, rows, threshold };
}

function formatStat(x: unknown): string {
  const n = num(x);
  return Number.isFinite(n) ? String(Number(n.toPrecision(3))) : '—';
}

/** Appends the report's drift p-values (once per report time), keeping `perKey` per feature × variant. */
export function pushDrift(
  samples: readonly DriftSample[],
  report: Report,
  ts: number,
  perKey = 240,
): DriftSample[] {
  const features = report.drift?.features ?? [];
  if (features.length === 0) return samples as DriftSample[];
  if (samples.some((s) => s.ts === ts)) return samples as DriftSample[];
  const next = [...samples];
  for (const f of features) {
    const p = num(f.pValue);
    next.push({ ts, feature: f.name, variant: f.variant, pValue: Number.isFinite(p) ? p : null });
  }
  return capPerKey(next, perKey);
}

/** Merges drift histories (the host's and the webview's), without duplicates, oldest first. */
export function mergeDrift(
  a: readonly DriftSample[],
  b: readonly DriftSample[],
  perKey = 240,
): DriftSample[] {
  const seen = new Set<string>();
  const all: DriftSample[] = [];
  for (const s of [...a, ...b]) {
    const key = `${s.ts}\u0000${s.feature}\u0000${s.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(s);
  }
  all.sort((x, y) => x.ts - y.ts);
  return capPerKey(all, perKey);
}

function capPerKey(samples: DriftSample[], perKey: number): DriftSample[] {
  const counts = new Map<string, number>();
  const keep: boolean[] = new Array<boolean>(samples.length).fill(false);
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i]!;
    const key = `${s.feature}\u0000${s.variant}`;
    const n = counts.get(key) ?? 0;
    if (n < perKey) keep[i] = true;
    counts.set(key, n + 1);
  }
  return samples.filter((_, i) => keep[i]);
}

/** One feature's p-value history per variant: [ts, p][] each. */
export function featureHistory(
  samples: readonly DriftSample[],
  feature: string,
): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const s of samples) {
    if (s.feature !== feature || s.pValue === null || !Number.isFinite(s.pValue)) continue;
    const list = out.get(s.variant) ?? [];
    list.push([s.ts, s.pValue]);
    out.set(s.variant, list);
  }
  return out;
}

// ── timeline of events ──────────────────────────────────────────────────────────────────

export type EventKind = 'weights' | 'decision' | 'srm' | 'guardrail' | 'drift' | 'rollout';

export interface DashEvent {
  ts: number;
  kind: EventKind;
  text: string;
  reason?: string;
}

/** Rollout transitions as events: "Progressing → Progressing at 25%", with the gate's reason. */
export function rolloutEvents(rollout: RolloutStatus | undefined): DashEvent[] {
  return (rollout?.history ?? []).map((t) => ({
    ts: t.ts,
    kind: 'rollout' as const,
    text: `rollout ${t.from} → ${t.to}${t.weight >= 0 ? ` at ${t.weight}%` : ''}`,
    reason: t.reason,
  }));
}

/** Weight changes as events: "v1 95% · v2 5% → v1 75% · v2 25%", with source and reason. */
export function weightEvents(changes: readonly WeightChange[], order: readonly string[]): DashEvent[] {
  const sorted = [...changes].sort((a, b) => a.ts - b.ts);
  return sorted.map((c, i) => {
    const before = sorted[i - 1];
    const to = splitText(c.weights, order.length ? order : undefined);
    const text = before
      ? `${splitText(before.weights, order.length ? order : undefined)} → ${to}`
      : `split ${to}`;
    const reason = [c.source, c.reason]
      .filter((x): x is string => typeof x === 'string' && x.length > 0)
      .join(': ');
    return { ts: c.ts, kind: 'weights' as const, text, ...(reason ? { reason } : {}) };
  });
}

/**
 * What changed between two reports, as events: decisions, SRM, guardrails, dataset drift.
 * The dashboard keeps them, so the timeline tells the story even without a server history.
 */
export function reportEvents(prev: Report | undefined, next: Report, ts: number): DashEvent[] {
  if (!prev || prev.experiment !== next.experiment) return [];
  const out: DashEvent[] = [];
  for (const c of next.comparisons) {
    const before = prev.comparisons.find((x) => x.variant === c.variant);
    if (before && before.decision !== c.decision)
      out.push({
        ts,
        kind: 'decision',
        text: `${c.variant}: ${before.decision} → ${c.decision}`,
        reason: c.reason,
      });
  }
  if (!prev.srm?.mismatch && next.srm?.mismatch)
    out.push({ ts, kind: 'srm', text: 'sample-ratio mismatch detected', reason: srmBanner(next) ?? '' });
  if (prev.srm?.mismatch && !next.srm?.mismatch)
    out.push({
      ts,
      kind: 'srm',
      text: 'sample ratio back in line',
      reason: `SRM p = ${pValue(next.srm.pValue)}`,
    });
  for (const g of next.guardrails) {
    const before = prev.guardrails.find((x) => x.name === g.name && x.variant === g.variant);
    if (before && before.ok && !g.ok)
      out.push({ ts, kind: 'guardrail', text: `${g.variant}: guardrail breached`, reason: guardrailText(g) });
    if (before && !before.ok && g.ok)
      out.push({
        ts,
        kind: 'guardrail',
        text: `${g.variant}: ${GUARDRAIL_WORDS[g.name]?.label ?? g.name} back within its guardrail`,
      });
  }
  if (prev.drift && next.drift && !prev.drift.datasetDrift && next.drift.datasetDrift) {
    const drifting = next.drift.features.filter((f) => f.drift).map((f) => `${f.name}@${f.variant}`);
    out.push({ ts, kind: 'drift', text: 'input drift detected', reason: drifting.join(', ') });
  }
  return out;
}

/** Newest first, without duplicates, at most `limit`. */
export function mergeEvents(a: readonly DashEvent[], b: readonly DashEvent[], limit = 200): DashEvent[] {
  const seen = new Set<string>();
  const out: DashEvent[] = [];
  for (const e of [...a, ...b].sort((x, y) => y.ts - x.ts)) {
    const key = `${e.ts}\u0000${e.kind}\u0000${e.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
    if (out.length >= limit) break;
  }
  return out;
}

// ── controls ────────────────────────────────────────────────────────────────────────────

/** The current split in whole percent, adding up to exactly 100 (the baseline takes the rest). */
export function editableSplit(report: Report): Record<string, number> {
  const order = variantOrder(report);
  const s = shares(currentWeights(report));
  const baseline = order[0];
  const out: Record<string, number> = {};
  let rest = 100;
  for (const name of order.slice(1)) {
    out[name] = Math.round((s[name] ?? 0) * 100);
    rest -= out[name];
  }
  if (baseline !== undefined) out[baseline] = Math.max(0, rest);
  return out;
}

/**
 * Moves one candidate's share to `value` percent; the baseline takes what is left, and a
 * candidate can never take more than the other candidates leave.
 */
export function withCandidateShare(
  split: Record<string, number>,
  baseline: string,
  candidate: string,
  value: number,
): Record<string, number> {
  if (candidate === baseline || !(candidate in split)) return { ...split };
  const others = Object.entries(split)
    .filter(([n]) => n !== baseline && n !== candidate)
    .reduce((s, [, v]) => s + v, 0);
  const v = Math.round(Math.min(100 - others, Math.max(0, Number.isFinite(value) ? value : 0)));
  return { ...split, [candidate]: v, [baseline]: 100 - others - v };
}

/** Promotion at once (the browser's Promote): the candidate takes all traffic. */
export function promoteWeights(report: Report, candidate: string): Record<string, number> {
  return Object.fromEntries(report.variants.map((v) => [v.name, v.name === candidate ? 100 : 0]));
}

/** Roll back: the baseline takes all traffic. */
export function rollbackWeights(report: Report): Record<string, number> {
  return Object.fromEntries(report.variants.map((v) => [v.name, v.role === 'baseline' ? 100 : 0]));
}

/** Whether two splits are the same (as shares). */
export function sameSplit(a: Record<string, number>, b: Record<string, number>): boolean {
  const sa = shares(a);
  const sb = shares(b);
  const names = new Set([...Object.keys(sa), ...Object.keys(sb)]);
  for (const n of names) if (Math.abs((sa[n] ?? 0) - (sb[n] ?? 0)) > 1e-9) return false;
  return true;
}
