/**
 * The report's comparisons: each candidate against the baseline on the primary metric — rates,
 * lift with confidence intervals, fixed and always-valid p-values — and its decision.
 */
import type { Comparison, GuardrailResult } from '../../shared/report';
import type { Experiment } from '../spec/experiment';
import {
  chanceToBeatBaseline,
  clusteredDiff,
  type ClusterSums,
  holmAdjust,
  newcombeDiffCI,
  relativeLiftCI,
  twoProportionZTest,
  welchTTest,
} from '../stats';
import { decisionAlpha } from '../spec/planning';
import { decide } from './decision';
import { livePlan } from './livePlan';
import type { ArmLook, SequentialTests } from './sequentialTests';
import type { MetricAggregates, VariantAggregates } from './variantAggregates';

/** What the comparisons are made with besides the counts. */
export interface ComparisonContext {
  guardrails: readonly GuardrailResult[];
  srmMismatch: boolean;
  sequential: SequentialTests;
  /** An arm as the A/B counts it: its units (users or requests) and the primary metric summed over them. */
  arm: (v: VariantAggregates) => ArmLook;
  /** With users as the unit: an arm's per-user sums, for the primary metric per request (delta method). */
  perRequest?: ((v: VariantAggregates) => ClusterSums) | undefined;
  /** Timestamp of the first request. */
  firstTs: number;
  now: number;
  /** The weights in force (their ratio is the plan's split); the spec's when absent. */
  weights?: Record<string, number>;
}

/** One comparison per candidate; none without a baseline. */
export function compareCandidates(
  experiment: Experiment,
  variants: readonly VariantAggregates[],
  ctx: ComparisonContext,
): Comparison[] {
  const metric = experiment.spec.metrics.primary;
  const alpha = decisionAlpha(experiment);
  const baseline = variants.find((v) => v.role === 'baseline');
  if (!baseline) return [];
  const b = ctx.arm(baseline);
  const bState = b.metric;
  const nb = b.requests;
  const candidates = variants.filter((v) => v.role === 'candidate');
  const raw = candidates.map((c) => {
    const { requests: nv, metric: cState } = ctx.arm(c);
    if (metric.kind === 'proportion') {
      const xb = bState?.successes ?? 0;
      const xv = cState?.successes ?? 0;
      return {
        c,
        baselineRate: nb > 0 ? xb / nb : 0,
        variantRate: nv > 0 ? xv / nv : 0,
        ci95: newcombeDiffCI(xb, nb, xv, nv),
        relativeCi95: relativeLiftCI(xb, nb, xv, nv),
        pValue: twoProportionZTest(xb, nb, xv, nv).pValue,
        chanceToBeatBaseline: chanceToBeatBaseline(xb, nb, xv, nv),
      };
    }
    const moments = (n: number, m: MetricAggregates | undefined) => ({
      n,
      mean: n > 0 ? (m?.sum ?? 0) / n : 0,
      m2: n > 0 ? Math.max(0, (m?.sumSq ?? 0) - (m?.sum ?? 0) ** 2 / n) : 0,
    });
    const welch = welchTTest(moments(nb, bState), moments(nv, cState));
    const baselineRate = moments(nb, bState).mean;
    const variantRate = moments(nv, cState).mean;
    return {
      c,
      baselineRate,
      variantRate,
      ci95: welch.ci95,
      relativeCi95: (baselineRate !== 0
        ? [welch.ci95[0] / baselineRate, welch.ci95[1] / baselineRate]
        : [NaN, NaN]) as [number, number],
      pValue: welch.pValue,
      chanceToBeatBaseline: NaN,
    };
  });
  // The looks were taken as events arrived (ReportBuilder); a report only reads the state.
  const sequential = raw.map((r) => ctx.sequential.state(r.c.name));
  // Several candidates share one baseline: Holm keeps the family-wise error at alpha for decisions.
  const adjusted = holmAdjust(sequential.map((s) => s.pValue));
  return raw.map((r, i): Comparison => {
    const live = livePlan(experiment, baseline, r.c, {
      baseline: b,
      candidate: ctx.arm(r.c),
      weights: ctx.weights,
      firstTs: ctx.firstTs,
      now: ctx.now,
    });
    const { decision, reason } = decide({
      candidate: r.c,
      baseline,
      baselineRate: r.baselineRate,
      variantRate: r.variantRate,
      kind: metric.kind,
      adjustedSequentialP: adjusted[i] ?? 1,
      alpha,
      guardrails: ctx.guardrails,
      srmMismatch: ctx.srmMismatch,
      baselineSamples: nb,
      candidateSamples: ctx.arm(r.c).requests,
      samplesAre: ctx.perRequest ? 'users' : 'samples',
      plan: live?.plan,
      secondsLeft: live?.timeToDecision?.atPower,
    });
    const perRequest = ctx.perRequest && perRequestComparison(ctx.perRequest(baseline), ctx.perRequest(r.c));
    return {
      variant: r.c.name,
      baseline: baseline.name,
      metric: metric.name,
      baselineRate: r.baselineRate,
      variantRate: r.variantRate,
      absoluteLift: r.variantRate - r.baselineRate,
      relativeLift: r.baselineRate > 0 ? r.variantRate / r.baselineRate - 1 : NaN,
      ci95: r.ci95,
      relativeCi95: r.relativeCi95,
      pValue: r.pValue,
      sequentialPValue: sequential[i]!.pValue,
      sequentialCi: sequential[i]!.interval,
      sequentialAlpha: alpha,
      chanceToBeatBaseline: r.chanceToBeatBaseline,
      decision,
      reason,
      unit: ctx.perRequest ? 'user' : 'request',
      ...(live ? { plan: live.plan } : {}),
      ...(live?.timeToDecision ? { timeToDecision: live.timeToDecision } : {}),
      ...(perRequest ? { perRequest } : {}),
    };
  });
}

/** The primary metric per request under user-level assignment, with its delta-method interval. */
function perRequestComparison(b: ClusterSums, v: ClusterSums): Comparison['perRequest'] {
  const d = clusteredDiff(b, v);
  return {
    baselineRate: b.requests > 0 ? b.y / b.requests : NaN,
    variantRate: v.requests > 0 ? v.y / v.requests : NaN,
    absoluteLift: d.estimate,
    ci95: d.ci95,
    pValue: d.pValue,
  };
}
