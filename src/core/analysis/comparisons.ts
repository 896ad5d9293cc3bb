/**
 * The report's comparisons: each candidate against the baseline on the primary metric — rates,
 * lift with confidence intervals, fixed and always-valid p-values — and its decision.
 */
import type { Comparison, GuardrailResult } from '../../shared/report';
import type { Experiment } from '../spec/experiment';
import {
  chanceToBeatBaseline,
  holmAdjust,
  newcombeDiffCI,
  relativeLiftCI,
  twoProportionZTest,
  welchTTest,
} from '../stats';
import { decide } from './decision';
import type { SequentialTests } from './sequentialTests';
import type { MetricAggregates, VariantAggregates } from './variantAggregates';

/** What the comparisons are made with besides the counts. */
export interface ComparisonContext {
  guardrails: readonly GuardrailResult[];
  srmMismatch: boolean;
  sequential: SequentialTests;
  /** Timestamp of the first request. */
  firstTs: number;
  now: number;
}

/** One comparison per candidate; none without a baseline. */
export function compareCandidates(
  experiment: Experiment,
  variants: readonly VariantAggregates[],
  ctx: ComparisonContext,
): Comparison[] {
  const metric = experiment.spec.metrics.primary;
  const alpha = experiment.spec.rollout?.alpha ?? 0.05;
  const baseline = variants.find((v) => v.role === 'baseline');
  if (!baseline) return [];
  const bState = baseline.metrics.get(metric.name);
  const candidates = variants.filter((v) => v.role === 'candidate');
  const raw = candidates.map((c) => {
    const cState = c.metrics.get(metric.name);
    const nb = baseline.requests;
    const nv = c.requests;
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
    const moments = (s: VariantAggregates, m: MetricAggregates | undefined) => ({
      n: s.requests,
      mean: s.requests > 0 ? (m?.sum ?? 0) / s.requests : 0,
      m2: s.requests > 0 ? Math.max(0, (m?.sumSq ?? 0) - (m?.sum ?? 0) ** 2 / s.requests) : 0,
    });
    const welch = welchTTest(moments(baseline, bState), moments(c, cState));
    const baselineRate = moments(baseline, bState).mean;
    const variantRate = moments(c, cState).mean;
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
      firstTs: ctx.firstTs,
      now: ctx.now,
    });
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
    };
  });
}
