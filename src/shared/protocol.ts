/**
 * Messages between the extension host and the dashboard webview: one typed protocol for
 * both sides. The webview speaks first (`ready`), so the host never posts into the void;
 * the host answers with a `state` and sends a new one whenever the report changes.
 *
 * Every message is untrusted input on the receiving side: check it with `isWebviewToHost`
 * (host) or `isHostToWebview` (webview) before acting on it. The browser build of the
 * dashboard speaks the same protocol to an in-page transport that talks HTTP to the router.
 */
import type { Decision, Report } from './report';

/** What the dashboard asks of its host. */
export type WebviewToHost =
  /** The webview is listening: send the current `state`. */
  | { type: 'ready' }
  /** Fetch the report now instead of waiting for the next refresh. */
  | { type: 'refresh' }
  /** Set the configured split; variants left out keep their weight. Confirmed by the user already. */
  | { type: 'setWeights'; experiment: string; weights: Record<string, number> }
  /** Promote a candidate (the host decides how: in steps, or at once). Confirmed by the user already. */
  | { type: 'promote'; experiment: string; variant: string }
  /** Send all traffic back to the baseline. Confirmed by the user already. */
  | { type: 'rollback'; experiment: string }
  /** Run Simulate Traffic for the experiment (offered in empty states). */
  | { type: 'simulateTraffic'; experiment: string }
  /** Show the Model Canary output (router and model-server logs). */
  | { type: 'openLogs' };

export type WebviewToHostType = WebviewToHost['type'];

/** The actions whose outcome the host reports back with `actionResult`. */
export type DashboardAction = 'setWeights' | 'promote' | 'rollback' | 'simulateTraffic' | 'openLogs';

/** One p-value of one feature for one variant at one time (drift history). */
export interface DriftSample {
  ts: number;
  feature: string;
  variant: string;
  /** null when the test has no p-value (distance tests) or the value was NaN. */
  pValue: number | null;
}

/** History the host kept (e.g. across panel restores); the webview merges it with its own. */
export interface DashboardHistory {
  drift: DriftSample[];
}

/** Everything the dashboard draws. */
export interface DashboardState {
  experiment: string;
  /** Where it runs, in the user's words: "local processes", "kind-model-canary", … */
  environment: string;
  /** null while there is no report yet (not deployed, router starting). */
  report: Report | null;
  /** Why there is no report, or anything else the user should know first. */
  notice?: string;
  /** The router's base URL, for the hints in empty states (e.g. http://127.0.0.1:8090). */
  routerUrl?: string;
  /** The inference endpoint clients call: /v2/models/{endpoint}/infer. */
  endpoint?: string;
  /** Model served by each variant (variant name → model name). */
  models?: Record<string, string>;
  history?: DashboardHistory;
}

/** What the host tells the dashboard. */
export type HostToWebview =
  | ({ type: 'state' } & DashboardState)
  /** Something failed that is not tied to an action (router unreachable, report failed). */
  | { type: 'error'; message: string }
  /** The outcome of an action the webview asked for. */
  | { type: 'actionResult'; action: DashboardAction; ok: boolean; message: string };

export type HostToWebviewType = HostToWebview['type'];

const DECISIONS: readonly Decision[] = ['promote', 'rollback', 'continue', 'inconclusive'];
const ACTIONS: readonly DashboardAction[] = [
  'setWeights',
  'promote',
  'rollback',
  'simulateTraffic',
  'openLogs',
];

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1000;
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
/** A number, or null: JSON turns NaN (an empty arm) into null. */
const isNum = (v: unknown): boolean => v === null || typeof v === 'number';
const isOpt = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || check(v);
const isArrayOf = (v: unknown, check: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(check);
const isRecordOf = (v: unknown, check: (x: unknown) => boolean): boolean =>
  isObj(v) && Object.values(v).every(check);
const isPair = (v: unknown): boolean => Array.isArray(v) && v.length === 2 && v.every(isNum);

/** Weights a user may ask for: at least one variant, finite and ≥ 0, adding up to something. */
function isWeights(v: unknown): v is Record<string, number> {
  if (!isObj(v)) return false;
  const entries = Object.entries(v);
  if (entries.length === 0) return false;
  let total = 0;
  for (const [name, w] of entries) {
    if (name.length === 0 || typeof w !== 'number' || !Number.isFinite(w) || w < 0) return false;
    total += w;
  }
  return total > 0;
}

/** Narrows a message from the webview (the host's side of the protocol). */
export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (!isObj(value)) return false;
  switch (value.type) {
    case 'ready':
    case 'refresh':
    case 'openLogs':
      return true;
    case 'setWeights':
      return isName(value.experiment) && isWeights(value.weights);
    case 'promote':
      return isName(value.experiment) && isName(value.variant);
    case 'rollback':
    case 'simulateTraffic':
      return isName(value.experiment);
    default:
      return false;
  }
}

/** @deprecated use `isWebviewToHost` (kept for callers written against the first cut). */
export const isWebviewMessage = isWebviewToHost;

function isLatency(v: unknown): boolean {
  return isObj(v) && isNum(v.p50) && isNum(v.p95) && isNum(v.p99);
}

function isVariantReport(v: unknown): boolean {
  return (
    isObj(v) &&
    isName(v.name) &&
    (v.role === 'baseline' || v.role === 'candidate') &&
    isNum(v.weight) &&
    isNum(v.observedShare) &&
    isNum(v.requests) &&
    isNum(v.errors) &&
    isNum(v.errorRate) &&
    isLatency(v.latencyMs) &&
    isRecordOf(v.feedback, (m) => isObj(m) && isNum(m.count) && isNum(m.sum) && isNum(m.rate))
  );
}

function isComparison(v: unknown): boolean {
  return (
    isObj(v) &&
    isName(v.variant) &&
    isName(v.baseline) &&
    isStr(v.metric) &&
    isNum(v.baselineRate) &&
    isNum(v.variantRate) &&
    isNum(v.absoluteLift) &&
    isNum(v.relativeLift) &&
    isPair(v.ci95) &&
    isPair(v.relativeCi95) &&
    isNum(v.pValue) &&
    isNum(v.sequentialPValue) &&
    isNum(v.chanceToBeatBaseline) &&
    DECISIONS.includes(v.decision as Decision) &&
    isStr(v.reason)
  );
}

function isDrift(v: unknown): boolean {
  return (
    isObj(v) &&
    isStr(v.reference) &&
    isNum(v.window) &&
    (v.correction === 'bonferroni' || v.correction === 'fdr') &&
    isNum(v.threshold) &&
    isArrayOf(
      v.features,
      (f) =>
        isObj(f) &&
        isName(f.name) &&
        isName(f.variant) &&
        isStr(f.test) &&
        isNum(f.statistic) &&
        isNum(f.pValue) &&
        isBool(f.drift),
    ) &&
    isArrayOf(
      v.prediction,
      (p) =>
        isObj(p) &&
        isName(p.variant) &&
        isStr(p.test) &&
        isNum(p.statistic) &&
        isNum(p.pValue) &&
        isBool(p.drift),
    ) &&
    isBool(v.datasetDrift)
  );
}

function isTimeline(v: unknown): boolean {
  return (
    isObj(v) &&
    isNum(v.bucketMs) &&
    isArrayOf(
      v.points,
      (p) =>
        isObj(p) &&
        typeof p.ts === 'number' &&
        isRecordOf(
          p.variants,
          (s) => isObj(s) && isNum(s.requests) && isNum(s.errors) && isLatency(s.latencyMs),
        ),
    ) &&
    isArrayOf(
      v.weights,
      (w) =>
        isObj(w) &&
        typeof w.ts === 'number' &&
        isRecordOf(w.weights, isNum) &&
        isOpt(w.source, isStr) &&
        isOpt(w.reason, isStr),
    )
  );
}

/** Checks the shape of a report (from the host, or fetched from a router): fields, not values. */
export function isReport(value: unknown): value is Report {
  return (
    isObj(value) &&
    isName(value.experiment) &&
    isStr(value.generatedAt) &&
    isArrayOf(value.variants, isVariantReport) &&
    isObj(value.srm) &&
    isNum(value.srm.chi2) &&
    isNum(value.srm.pValue) &&
    isBool(value.srm.mismatch) &&
    isArrayOf(value.comparisons, isComparison) &&
    isArrayOf(
      value.guardrails,
      (g) =>
        isObj(g) && isStr(g.name) && isName(g.variant) && isNum(g.value) && isNum(g.limit) && isBool(g.ok),
    ) &&
    isOpt(value.drift, isDrift) &&
    isOpt(value.shadow, (s) => isObj(s) && isName(s.variant) && isNum(s.requests) && isNum(s.agreement)) &&
    isOpt(value.timeline, isTimeline)
  );
}

function isHistory(v: unknown): boolean {
  return (
    isObj(v) &&
    isArrayOf(
      v.drift,
      (s) =>
        isObj(s) && typeof s.ts === 'number' && isName(s.feature) && isName(s.variant) && isNum(s.pValue),
    )
  );
}

/** Narrows a message from the host (the webview's side of the protocol). */
export function isHostToWebview(value: unknown): value is HostToWebview {
  if (!isObj(value)) return false;
  switch (value.type) {
    case 'state':
      return (
        isName(value.experiment) &&
        isStr(value.environment) &&
        (value.report === null || isReport(value.report)) &&
        isOpt(value.notice, isStr) &&
        isOpt(value.routerUrl, isStr) &&
        isOpt(value.endpoint, isStr) &&
        isOpt(value.models, (m) => isRecordOf(m, isStr)) &&
        isOpt(value.history, isHistory)
      );
    case 'error':
      return isStr(value.message);
    case 'actionResult':
      return ACTIONS.includes(value.action as DashboardAction) && isBool(value.ok) && isStr(value.message);
    default:
      return false;
  }
}
