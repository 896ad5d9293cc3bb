/**
 * Events → the report, incrementally: the router feeds every event as it happens and asks
 * for a report at any moment; `model-canary analyze` feeds a log file. One implementation
 * for both, so the dashboard, the CLI and the rollout gates see the same numbers.
 *
 * Counting rules (contract, docs/architecture.md):
 * - the split, errors, latency and the A/B use non-shadow requests only;
 * - a proportion metric's rate is the share of a variant's requests whose latest feedback
 *   value is 1 (no feedback counts as not converted; feedback is idempotent, latest wins);
 * - a continuous metric's value per request is its latest feedback value, 0 without one;
 * - shadow requests feed the shadow agreement only.
 */
import type { Experiment } from '../spec/experiment';
import type { ExperimentEvent, FeedbackEvent, RequestEvent, WeightsEvent } from '../../shared/events';
import type {
  Comparison,
  Decision,
  GuardrailResult,
  Report,
  RolloutStatus,
  Timeline,
  VariantReport,
  WeightChange,
} from '../../shared/report';
import {
  chanceToBeatBaseline,
  holmAdjust,
  newcombeDiffCI,
  relativeLiftCI,
  sampleRatioMismatch,
  sampleSizePerArm,
  SequentialTest,
  defaultMixingVariance,
  twoProportionZTest,
  welchTTest,
} from '../stats';
import { DriftDetector, type ReferenceData } from '../drift';
import { LatencyRecorder } from '../metrics/latency';
import { GenerationalMap } from './generations';

export interface ReportBuilderOptions {
  /** The drift reference (the experiment's `drift.reference` CSV, parsed). */
  reference?: ReferenceData;
  /** How many recent primary predictions are kept to score shadow agreement. */
  agreementMemory?: number;
  /**
   * How many recent request ids are remembered (per generation, so up to twice as many) for
   * attributing feedback events that carry no variant, and for "latest feedback wins".
   * Default 1,000,000, like the router's `eventLog.idCacheSize`.
   */
  idMemory?: number;
  /**
   * The variant of a recent request id, from a caller that keeps its own index (the router):
   * the builder then keeps no id → variant map of its own.
   */
  variantOf?: (requestId: string) => string | undefined;
  /** Width of a timeline bucket (default 10 s) and how many recent buckets are kept (default 360). */
  bucketMs?: number;
  maxBuckets?: number;
}

/** Weight changes kept for the timeline. */
const MAX_WEIGHT_CHANGES = 500;

/** Baseline requests seen before the sequential test fixes its mixing variance and starts. */
export const SEQUENTIAL_WARMUP = 1000;

/** Requests below this many per variant never trigger a guardrail decision (too noisy). */
export const GUARDRAIL_MIN_REQUESTS = 100;

interface VariantState {
  name: string;
  role: 'baseline' | 'candidate';
  index: number;
  requests: number;
  errors: number;
  latency: LatencyRecorder;
  /** Expected requests under the weights in force when each request arrived (for SRM). */
  expected: number;
  /** Per metric: requests with feedback, sum and sum of squares of their latest values, and successes (value 1). */
  metrics: Map<string, { count: number; sum: number; sumSq: number; successes: number }>;
  /** Timeline bucket start → requests and errors in it. */
  buckets: Map<number, { requests: number; errors: number }>;
}

/** Builds the experiment report from events, one at a time. */
export class ReportBuilder {
  private readonly variants: VariantState[];
  private readonly byName = new Map<string, VariantState>();
  private weights: Map<string, number>;
  /** Recent request ids → variant index, for feedback events without a variant (older logs). */
  private readonly requestVariant: GenerationalMap<string, number> | undefined;
  private readonly variantOf: ((requestId: string) => string | undefined) | undefined;
  /** `${metric}\u0000${id}` → latest value, for recent requests. */
  private readonly latestFeedback: GenerationalMap<string, number>;
  private readonly sequential = new Map<string, SequentialTest>();
  /** Recent primary predictions, to score the shadow's agreement. */
  private readonly primaryPrediction: GenerationalMap<string, number | string>;
  private shadowRequests = 0;
  private shadowCompared = 0;
  private shadowAgreed = 0;
  private orphanFeedback = 0;
  private readonly drift: DriftDetector | undefined;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private readonly bucketMs: number;
  private readonly maxBuckets: number;
  private readonly weightHistory: WeightChange[] = [];
  private rollout: RolloutStatus | undefined;

  constructor(
    readonly experiment: Experiment,
    options: ReportBuilderOptions = {},
  ) {
    this.variants = experiment.spec.variants.map((v, index) => ({
      name: v.name,
      role: v.role,
      index,
      requests: 0,
      errors: 0,
      latency: new LatencyRecorder({ bucketMs: options.bucketMs, maxBuckets: options.maxBuckets }),
      expected: 0,
      metrics: new Map(),
      buckets: new Map(),
    }));
    this.bucketMs = options.bucketMs ?? 10_000;
    this.maxBuckets = options.maxBuckets ?? 360;
    for (const v of this.variants) this.byName.set(v.name, v);
    this.weights = new Map(experiment.spec.variants.map((v) => [v.name, v.weight]));
    const drift = experiment.spec.drift;
    this.drift = drift && options.reference ? new DriftDetector(drift, options.reference) : undefined;
    this.primaryPrediction = new GenerationalMap(options.agreementMemory ?? 100_000);
    const idMemory = options.idMemory ?? 1_000_000;
    this.variantOf = options.variantOf;
    this.requestVariant = this.variantOf ? undefined : new GenerationalMap(idMemory);
    this.latestFeedback = new GenerationalMap(idMemory);
  }

  /** Current configured weights (after any weight events). */
  get currentWeights(): Record<string, number> {
    return Object.fromEntries(this.weights);
  }

  /** Feedback events whose request id was never seen. */
  get orphanFeedbackCount(): number {
    return this.orphanFeedback;
  }

  /** Folds one event into the aggregates. Events of other experiments are ignored. */
  ingest(event: ExperimentEvent): void {
    if (event.experiment !== this.experiment.metadata.name) return;
    switch (event.type) {
      case 'request':
        return this.onRequest(event);
      case 'feedback':
        return this.onFeedback(event);
      case 'weights':
        return this.onWeights(event);
      case 'rollout':
        this.rollout = event.state;
        return;
    }
  }

  private onRequest(e: RequestEvent): void {
    if (e.shadow) return this.onShadow(e);
    const v = this.byName.get(e.variant);
    if (!v) return;
    this.firstTs = Math.min(this.firstTs, e.ts);
    this.lastTs = Math.max(this.lastTs, e.ts);
    v.requests++;
    const failed = isError(e);
    if (failed) v.errors++;
    else v.latency.record(e.ts, e.latencyMs);
    this.countInBucket(v, e.ts, failed);
    const total = this.totalWeight();
    if (total > 0) for (const s of this.variants) s.expected += (this.weights.get(s.name) ?? 0) / total;
    this.requestVariant?.set(e.id, v.index);
    if (this.experiment.spec.routing?.mirror && e.outputs?.predict !== undefined)
      this.primaryPrediction.set(e.id, e.outputs.predict);
    this.drift?.observe(v.name, e.ts, e.inputs, e.outputs);
  }

  private onShadow(e: RequestEvent): void {
    this.shadowRequests++;
    const primary = this.primaryPrediction.get(e.id);
    if (primary !== undefined && e.outputs?.predict !== undefined && !isError(e)) {
      this.shadowCompared++;
      if (String(primary) === String(e.outputs.predict)) this.shadowAgreed++;
    }
  }

  /** The variant a feedback event belongs to: named in it (new logs), else looked up by request id. */
  private feedbackVariant(e: FeedbackEvent): VariantState | undefined {
    if (e.variant) return this.byName.get(e.variant);
    if (this.variantOf) {
      const name = this.variantOf(e.id);
      return name === undefined ? undefined : this.byName.get(name);
    }
    const index = this.requestVariant?.get(e.id);
    return index === undefined ? undefined : this.variants[index];
  }

  private onFeedback(e: FeedbackEvent): void {
    const v = this.feedbackVariant(e);
    if (!v || !Number.isFinite(e.value)) {
      this.orphanFeedback++;
      return;
    }
    const key = `${e.metric}\u0000${e.id}`;
    const previous = this.latestFeedback.get(key);
    this.latestFeedback.set(key, e.value);
    let m = v.metrics.get(e.metric);
    if (!m) v.metrics.set(e.metric, (m = { count: 0, sum: 0, sumSq: 0, successes: 0 }));
    if (previous === undefined) m.count++;
    else {
      m.sum -= previous;
      m.sumSq -= previous * previous;
      if (previous === 1) m.successes--;
    }
    m.sum += e.value;
    m.sumSq += e.value * e.value;
    if (e.value === 1) m.successes++;
  }

  private onWeights(e: WeightsEvent): void {
    for (const [name, weight] of Object.entries(e.weights)) {
      if (this.byName.has(name) && Number.isFinite(weight) && weight >= 0) this.weights.set(name, weight);
    }
    this.weightHistory.push({ ts: e.ts, weights: this.currentWeights, source: e.source, reason: e.reason });
    if (this.weightHistory.length > MAX_WEIGHT_CHANGES) this.weightHistory.shift();
  }

  private countInBucket(v: VariantState, ts: number, failed: boolean): void {
    const start = Math.floor(ts / this.bucketMs) * this.bucketMs;
    let bucket = v.buckets.get(start);
    if (!bucket) {
      v.buckets.set(start, (bucket = { requests: 0, errors: 0 }));
      if (v.buckets.size > this.maxBuckets) v.buckets.delete(Math.min(...v.buckets.keys()));
    }
    bucket.requests++;
    if (failed) bucket.errors++;
  }

  private timeline(): Timeline {
    const starts = new Set<number>();
    for (const v of this.variants) for (const start of v.buckets.keys()) starts.add(start);
    const latency = new Map(
      this.variants.map((v) => [v.name, new Map(v.latency.series().map((b) => [b.start, b]))]),
    );
    const points = [...starts]
      .sort((a, b) => a - b)
      .slice(-this.maxBuckets)
      .map((ts) => ({
        ts,
        variants: Object.fromEntries(
          this.variants.map((v) => {
            const counts = v.buckets.get(ts) ?? { requests: 0, errors: 0 };
            const q = latency.get(v.name)?.get(ts);
            return [
              v.name,
              { ...counts, latencyMs: { p50: q?.p50 ?? NaN, p95: q?.p95 ?? NaN, p99: q?.p99 ?? NaN } },
            ];
          }),
        ),
      }));
    return { bucketMs: this.bucketMs, points, weights: [...this.weightHistory] };
  }

  private totalWeight(): number {
    let total = 0;
    for (const w of this.weights.values()) total += w;
    return total;
  }

  /** The report as of now (or `now`, epoch ms). */
  report(now: number = Date.now()): Report {
    const spec = this.experiment.spec;
    const metric = spec.metrics.primary;
    const totalRequests = this.variants.reduce((n, v) => n + v.requests, 0);
    const variants: VariantReport[] = this.variants.map((v) => ({
      name: v.name,
      role: v.role,
      weight: this.weights.get(v.name) ?? 0,
      observedShare: totalRequests > 0 ? v.requests / totalRequests : 0,
      requests: v.requests,
      errors: v.errors,
      errorRate: v.requests > 0 ? v.errors / v.requests : 0,
      latencyMs: v.latency.quantiles(),
      feedback: Object.fromEntries(
        [...v.metrics].map(([name, m]) => [
          name,
          {
            count: m.count,
            sum: m.sum,
            rate:
              v.requests > 0
                ? (metric.kind === 'proportion' && name === metric.name ? m.successes : m.sum) / v.requests
                : 0,
          },
        ]),
      ),
    }));

    const withTraffic = this.variants.filter((v) => (this.weights.get(v.name) ?? 0) > 0 || v.requests > 0);
    const srm = sampleRatioMismatch(
      withTraffic.map((v) => v.requests),
      withTraffic.map((v) => v.expected),
    );
    const guardrails = this.guardrails(variants);
    const comparisons = this.comparisons(variants, guardrails, srm.mismatch, now);
    const report: Report = {
      experiment: this.experiment.metadata.name,
      generatedAt: new Date(now).toISOString(),
      variants,
      srm,
      comparisons,
      guardrails,
      timeline: this.timeline(),
    };
    if (this.drift) report.drift = this.drift.report();
    if (this.rollout) report.rollout = this.rollout;
    const mirror = spec.routing?.mirror;
    if (mirror) {
      report.shadow = {
        variant: mirror.variant,
        requests: this.shadowRequests,
        agreement: this.shadowCompared > 0 ? this.shadowAgreed / this.shadowCompared : 0,
      };
    }
    return report;
  }

  private guardrails(variants: VariantReport[]): GuardrailResult[] {
    const limits = this.experiment.spec.metrics.guardrails;
    const out: GuardrailResult[] = [];
    for (const v of variants) {
      if (limits?.latencyP95Ms) {
        const value = v.latencyMs.p95;
        out.push({
          name: 'latencyP95Ms',
          variant: v.name,
          value,
          limit: limits.latencyP95Ms.max,
          ok: !(value > limits.latencyP95Ms.max),
        });
      }
      if (limits?.errorRate) {
        out.push({
          name: 'errorRate',
          variant: v.name,
          value: v.errorRate,
          limit: limits.errorRate.max,
          ok: v.errorRate <= limits.errorRate.max,
        });
      }
    }
    return out;
  }

  private comparisons(
    variants: VariantReport[],
    guardrails: GuardrailResult[],
    srmMismatch: boolean,
    now: number,
  ): Comparison[] {
    const metric = this.experiment.spec.metrics.primary;
    const alpha = this.experiment.spec.rollout?.alpha ?? 0.05;
    const baseline = this.variants.find((v) => v.role === 'baseline');
    if (!baseline) return [];
    const bState = baseline.metrics.get(metric.name);
    const candidates = this.variants.filter((v) => v.role === 'candidate');
    const raw = candidates.map((c) => {
      const cState = c.metrics.get(metric.name);
      const nb = baseline.requests;
      const nv = c.requests;
      if (metric.kind === 'proportion') {
        const xb = bState?.successes ?? 0;
        const xv = cState?.successes ?? 0;
        const seq = this.sequentialPValue(c.name, xb, nb, xv, nv);
        return {
          c,
          baselineRate: nb > 0 ? xb / nb : 0,
          variantRate: nv > 0 ? xv / nv : 0,
          ci95: newcombeDiffCI(xb, nb, xv, nv),
          relativeCi95: relativeLiftCI(xb, nb, xv, nv),
          pValue: twoProportionZTest(xb, nb, xv, nv).pValue,
          sequentialPValue: seq,
          chanceToBeatBaseline: chanceToBeatBaseline(xb, nb, xv, nv),
        };
      }
      const moments = (s: VariantState, m: typeof bState) => ({
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
        sequentialPValue: welch.pValue, // no always-valid test for continuous metrics yet; the fixed test stands in
        chanceToBeatBaseline: NaN,
      };
    });
    // Several candidates share one baseline: Holm keeps the family-wise error at alpha for decisions.
    const adjusted = holmAdjust(raw.map((r) => r.sequentialPValue));
    return raw.map((r, i): Comparison => {
      const { decision, reason } = this.decide(
        r,
        adjusted[i] ?? 1,
        alpha,
        guardrails,
        srmMismatch,
        baseline,
        now,
      );
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
        sequentialPValue: r.sequentialPValue,
        chanceToBeatBaseline: r.chanceToBeatBaseline,
        decision,
        reason,
      };
    });
  }

  /**
   * The always-valid p-value of a candidate. The mixing variance τ² is fixed once, as the
   * square of the minimum detectable effect (the same one the sample-size estimate uses),
   * from the baseline's rate after SEQUENTIAL_WARMUP baseline requests — never from the
   * observed lift; before that the test has not started and the p-value is 1.
   */
  private sequentialPValue(variant: string, xb: number, nb: number, xv: number, nv: number): number {
    let test = this.sequential.get(variant);
    if (!test) {
      if (nb < SEQUENTIAL_WARMUP || xb === 0) return 1;
      test = new SequentialTest({
        tau2: defaultMixingVariance(xb / nb, { absolute: this.minimumDetectableEffect(xb / nb) }),
      });
      this.sequential.set(variant, test);
    }
    try {
      return test.update(xb, nb, xv, nv).pValue;
    } catch {
      // Counts went down (a conversion was corrected to 0): restart the test on the new counts.
      test = new SequentialTest({
        tau2: defaultMixingVariance(xb / nb, { absolute: this.minimumDetectableEffect(xb / nb) }),
      });
      this.sequential.set(variant, test);
      return test.update(xb, nb, xv, nv).pValue;
    }
  }

  private decide(
    r: { c: VariantState; baselineRate: number; variantRate: number },
    adjustedSequentialP: number,
    alpha: number,
    guardrails: GuardrailResult[],
    srmMismatch: boolean,
    baseline: VariantState,
    now: number,
  ): { decision: Decision; reason: string } {
    // A limit the baseline breaches too is the environment's problem, not the candidate's.
    const baselineBroken = new Set(
      guardrails.filter((g) => g.variant === baseline.name && !g.ok).map((g) => g.name),
    );
    const broken = guardrails.filter((g) => g.variant === r.c.name && !g.ok && !baselineBroken.has(g.name));
    if (broken.length > 0 && r.c.requests >= GUARDRAIL_MIN_REQUESTS) {
      const g = broken[0]!;
      return {
        decision: 'rollback',
        reason: `guardrail ${g.name} breached: ${formatNumber(g.value)} > ${formatNumber(g.limit)}`,
      };
    }
    if (srmMismatch)
      return {
        decision: 'inconclusive',
        reason:
          'sample-ratio mismatch: the observed split does not match the weights, so the comparison cannot be trusted',
      };
    const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
    if (adjustedSequentialP < alpha) {
      return r.variantRate > r.baselineRate
        ? {
            decision: 'promote',
            reason: `${r.c.name} converts better (${pct(r.variantRate)} vs ${pct(r.baselineRate)}), always-valid p = ${formatNumber(adjustedSequentialP)} < ${alpha}`,
          }
        : {
            decision: 'rollback',
            reason: `${r.c.name} converts worse (${pct(r.variantRate)} vs ${pct(r.baselineRate)}), always-valid p = ${formatNumber(adjustedSequentialP)} < ${alpha}`,
          };
    }
    const mde = this.minimumDetectableEffect(r.baselineRate);
    const needed =
      r.baselineRate > 0 && r.baselineRate < 1
        ? sampleSizePerArm({
            baselineRate: r.baselineRate,
            minimumDetectableEffect: { absolute: mde },
            alpha,
          })
        : Infinity;
    const have = Math.min(r.c.requests, baseline.requests);
    if (have >= needed) {
      return {
        decision: 'inconclusive',
        reason: `no significant difference after ${have.toLocaleString('en-US')} samples per arm (enough to detect ±${pct(mde)})`,
      };
    }
    const elapsedS = Number.isFinite(this.firstTs) ? Math.max(1, (now - this.firstTs) / 1000) : 0;
    const eta =
      elapsedS > 0 && r.c.requests > 0 && Number.isFinite(needed)
        ? ` (~${Math.ceil(((needed - r.c.requests) * elapsedS) / r.c.requests)} s at the current rate)`
        : '';
    return {
      decision: 'continue',
      reason: Number.isFinite(needed)
        ? `not enough evidence yet: ${have.toLocaleString('en-US')} of ~${Math.ceil(needed).toLocaleString('en-US')} samples per arm${eta}`
        : `not enough evidence yet: ${have.toLocaleString('en-US')} samples per arm, too few to estimate how many are needed`,
    };
  }

  // The smallest absolute lift worth detecting: 10% relative, at least 0.5 percentage points.
  private minimumDetectableEffect(baselineRate: number): number {
    return Math.max(0.005, baselineRate * 0.1);
  }
}

function isError(e: RequestEvent): boolean {
  return e.status === 0 || e.status >= 500 || e.error !== undefined;
}

function formatNumber(x: number): string {
  return Math.abs(x) >= 0.001 || x === 0 ? String(Number(x.toPrecision(3))) : x.toExponential(1);
}
