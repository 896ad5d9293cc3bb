/**
 * The always-valid test of each candidate's primary metric, kept across looks: the mixture SPRT
 * with its confidence sequence (src/core/stats/alwaysValid.ts) on the difference of conversion
 * rates (proportion metrics) or of means (continuous metrics).
 */
import { absoluteEffect, AlwaysValidState, type Effect } from '../stats';
import type { MetricAggregates } from './variantAggregates';

/** Baseline requests seen before the sequential test fixes its mixing variance and starts. */
export const SEQUENTIAL_WARMUP = 1000;

/** The default smallest absolute lift worth detecting on a proportion (no spec.metrics.primary.minimumDetectableEffect): 10% relative, at least 0.5 percentage points. */
export function minimumDetectableEffect(baselineRate: number): number {
  return Math.max(0.005, baselineRate * 0.1);
}

/**
 * The default smallest difference of means worth detecting on a continuous metric: 10% of the
 * baseline's mean, or a tenth of its standard deviation when the mean is 0.
 */
export function minimumDetectableMeanEffect(mean: number, sd: number): number {
  return mean !== 0 ? Math.abs(mean) * 0.1 : Number.isFinite(sd) ? sd * 0.1 : 0;
}

/** What one arm contributes to a look: its requests and its primary metric's aggregates. */
export interface ArmLook {
  requests: number;
  metric: MetricAggregates | undefined;
}

export type MetricKind = 'proportion' | 'continuous';

interface Arm {
  n: number;
  mean: number;
  /** Unbiased sample variance (NaN below two requests). */
  variance: number;
}

/** Mean and variance of an arm's metric per request (0 without feedback; a success is 1 for proportions). */
function arm(kind: MetricKind, a: ArmLook): Arm {
  const n = a.requests;
  if (n === 0) return { n, mean: NaN, variance: NaN };
  if (kind === 'proportion') {
    const p = (a.metric?.successes ?? 0) / n;
    return { n, mean: p, variance: n > 1 ? p * (1 - p) : NaN };
  }
  const sum = a.metric?.sum ?? 0;
  const mean = sum / n;
  const m2 = Math.max(0, (a.metric?.sumSq ?? 0) - sum * mean);
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : NaN };
}

/** One always-valid test per candidate, started once the baseline has SEQUENTIAL_WARMUP requests. */
export class SequentialTests {
  private readonly tests = new Map<string, AlwaysValidState>();

  constructor(
    private readonly kind: MetricKind,
    private readonly alpha: number,
    /** The experiment's minimum detectable effect (spec.metrics.primary); undefined for the default rule. */
    private readonly effect?: Effect,
  ) {}

  /**
   * Takes a look at a candidate against the baseline. The mixing variance τ² is fixed once,
   * as the square of the minimum detectable effect, from the baseline alone after
   * SEQUENTIAL_WARMUP baseline requests — never from the observed lift; before that the test
   * has not started.
   */
  look(variant: string, baseline: ArmLook, candidate: ArmLook): void {
    const b = arm(this.kind, baseline);
    const v = arm(this.kind, candidate);
    let test = this.tests.get(variant);
    if (!test) {
      if (b.n < SEQUENTIAL_WARMUP) return;
      const delta = this.effect
        ? Math.abs(absoluteEffect(Math.abs(b.mean), this.effect))
        : this.kind === 'proportion'
          ? b.mean > 0
            ? minimumDetectableEffect(b.mean)
            : 0
          : minimumDetectableMeanEffect(b.mean, Math.sqrt(b.variance));
      if (!(delta > 0)) return;
      test = new AlwaysValidState(delta * delta, this.alpha);
      this.tests.set(variant, test);
    }
    if (v.n < 2 || b.n < 2) return;
    const estimate = v.mean - b.mean;
    const unpooled = v.variance / v.n + b.variance / b.n;
    if (this.kind === 'continuous') {
      const n = b.n + v.n;
      const mean = (b.mean * b.n + v.mean * v.n) / n;
      const m2 =
        (b.n - 1) * b.variance +
        (v.n - 1) * v.variance +
        b.n * (b.mean - mean) ** 2 +
        v.n * (v.mean - mean) ** 2;
      const pooled = (m2 / (n - 1)) * (1 / b.n + 1 / v.n);
      return test.look(estimate, Math.max(unpooled, pooled), unpooled);
    }
    // Proportions: the z-test's pooled variance under H0 for the p-value (Johari et al.).
    const pooled = (b.mean * b.n + v.mean * v.n) / (b.n + v.n);
    test.look(estimate, pooled * (1 - pooled) * (1 / b.n + 1 / v.n), unpooled);
  }

  /** A candidate's always-valid p-value and (1 − α) confidence sequence of the lift so far. */
  state(variant: string): { pValue: number; interval: [number, number] } {
    const test = this.tests.get(variant);
    return test ? { pValue: test.pValue, interval: test.interval } : { pValue: 1, interval: [NaN, NaN] };
  }
}
