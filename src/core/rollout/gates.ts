/**
 * The gates that can stop a progressing rollout, in the order they are checked: guardrails
 * (→ RolledBack), sample-ratio mismatch (→ Paused), drift (→ Paused, or only a warning) and the
 * primary metric (→ RolledBack). Each gives its result for the dashboard and, when it fails, the
 * reason of the transition it calls for.
 */
import type { Comparison, Report, VariantReport } from '../../shared/report';
import { formatLift, formatValue } from './format';
import type { RolloutSpec } from './spec';
import type { GateResult, RolloutState } from './state';

/** The sample-ratio gate judges only once the smallest arm expects this many requests. */
export const SRM_MIN_EXPECTED = 100;

/** What a gate decided: its result, and when it failed, why the rollout stops. */
export interface GateCheck {
  gate: GateResult;
  /** Set when the gate failed: the reason of the transition it calls for. */
  stopReason?: string;
}

/**
 * A variant's matured units under an attribution window (the units the A/B counts), or undefined
 * without a window: then every unit counts from its first request.
 */
export function maturedUnits(report: Report, variant: string): number | undefined {
  const a = report.attribution;
  return a?.rule === 'window' ? (a.variants?.[variant]?.matured ?? 0) : undefined;
}

/** True when the candidate's always-valid p-value is below alpha. */
export function isSignificant(c: Comparison | undefined, alpha: number): boolean {
  return c !== undefined && Number.isFinite(c.sequentialPValue) && c.sequentialPValue < alpha;
}

/** Guardrails of the candidate: error rate and p95 latency, absolute and as a ratio to the baseline's. */
export function guardrailsGate(
  state: RolloutState,
  spec: RolloutSpec,
  report: Report,
  candidate: VariantReport,
  baseline: VariantReport,
): GateCheck {
  // A limit the baseline breaches as well says the environment is slow or failing, not the
  // candidate: rolling the candidate back would not help, so it only shows in the gate.
  const baselineBroken = new Set(
    report.guardrails.filter((g) => g.variant === state.baseline && !g.ok).map((g) => g.name),
  );
  const shared = report.guardrails.filter(
    (g) => g.variant === state.candidate && !g.ok && baselineBroken.has(g.name),
  );
  const broken = report.guardrails.filter(
    (g) => g.variant === state.candidate && !g.ok && !baselineBroken.has(g.name),
  );
  const ratio = spec.latencyP95Ratio;
  const latencyRatio = baseline.latencyMs.p95 > 0 ? candidate.latencyMs.p95 / baseline.latencyMs.p95 : NaN;
  const enough = candidate.requests - state.stepStartRequests >= Math.min(100, spec.minSamplesPerStep);
  const ratioBroken = ratio !== undefined && enough && Number.isFinite(latencyRatio) && latencyRatio > ratio;
  const detail = broken.length
    ? broken.map((g) => g.detail ?? `${g.name} ${formatValue(g.value)} > ${formatValue(g.limit)}`).join('; ')
    : ratioBroken
      ? `p95 latency ${formatValue(latencyRatio)}× the baseline's (limit ${ratio}×)`
      : shared.length
        ? `the baseline breaches ${shared.map((g) => g.name).join(', ')} too — an environment problem, not the candidate's`
        : 'all within limits';
  const breached = (broken.length && enough) || ratioBroken;
  return {
    gate: { name: 'guardrails', ok: !breached, detail },
    ...(breached ? { stopReason: `guardrail breached: ${detail}` } : {}),
  };
}

/**
 * Sample-ratio mismatch — judged once the smallest arm expects SRM_MIN_EXPECTED units: users
 * when the experiment has a sticky key (the report's SRM counts each user once, so replaying
 * the same users many times does not fake a mismatch), requests otherwise. Requests are logged
 * when they complete, so early on a slow variant's in-flight requests are missing from the
 * counts; with enough traffic that bias is too small to flag.
 */
export function srmGate(report: Report): GateCheck {
  const unit = report.srm.unit === 'user' ? 'users' : 'requests';
  const total = report.srm.total ?? report.variants.reduce((n, v) => n + v.requests, 0);
  const weightSum = report.variants.reduce((n, v) => n + v.weight, 0);
  const smallestShare = Math.min(
    ...report.variants.filter((v) => v.weight > 0).map((v) => v.weight / weightSum),
  );
  const srmJudged = total * smallestShare >= SRM_MIN_EXPECTED;
  const srmBroken = report.srm.mismatch && srmJudged;
  const p = `p = ${formatValue(report.srm.pValue)} on ${unit}`;
  return {
    gate: {
      name: 'srm',
      ok: !srmBroken,
      detail: `${p}${srmJudged ? '' : ` (too few ${unit} to judge yet)`}`,
    },
    ...(srmBroken
      ? {
          stopReason: `halted: sample-ratio mismatch (${p}) — the observed split does not match the weights, so the data cannot be trusted`,
        }
      : {}),
  };
}

/** Dataset drift on the candidate or the baseline: holds the rollout when `spec.drift` is 'pause'. */
export function driftGate(state: RolloutState, spec: RolloutSpec, report: Report): GateCheck {
  const drifting =
    report.drift?.features
      .filter(
        (f) =>
          (f.variant === state.candidate || f.variant === state.baseline) &&
          f.drift &&
          (Number.isFinite(f.pValue) ? f.pValue < spec.driftPValue : true),
      )
      .map((f) => `${f.name}@${f.variant}`) ?? [];
  const pause = drifting.length > 0 && spec.drift === 'pause';
  return {
    gate: {
      name: 'drift',
      ok: !pause,
      detail: drifting.length ? `drifting: ${drifting.join(', ')}` : 'no drift',
    },
    ...(pause
      ? { stopReason: `paused: input drift (${drifting.join(', ')}) — check the data, then resume` }
      : {}),
  };
}

/** The primary metric: a candidate significantly worse than the baseline is rolled back. */
export function metricGate(
  state: RolloutState,
  spec: RolloutSpec,
  comparison: Comparison | undefined,
): GateCheck {
  const worse = isSignificant(comparison, spec.alpha) && (comparison?.absoluteLift ?? 0) < 0;
  return {
    gate: {
      name: 'metric',
      ok: !worse,
      detail: comparison
        ? `${comparison.metric} ${formatLift(comparison.absoluteLift)}, always-valid p = ${formatValue(comparison.sequentialPValue)}`
        : 'no comparison yet',
    },
    ...(worse
      ? {
          stopReason: `${state.candidate} is significantly worse on ${comparison!.metric} (${formatLift(comparison!.absoluteLift)}, always-valid p = ${formatValue(comparison!.sequentialPValue)})`,
        }
      : {}),
  };
}
