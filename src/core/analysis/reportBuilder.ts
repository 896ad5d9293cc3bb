/**
 * Events → the report, incrementally: the router feeds every event as it happens and asks
 * for a report at any moment; `model-canary analyze` feeds a log file. One implementation
 * for both, so the dashboard, the CLI and the rollout gates see the same numbers.
 *
 * Counting rules (contract, docs/contracts.md):
 * - the split, errors, latency, the A/B and the drift windows use randomised requests only
 *   (weighted or sticky); forced, debug and shadow requests, and feedback for them, are
 *   counted beside them (./assignment.ts);
 * - a proportion metric's rate is the share of a variant's requests whose latest feedback
 *   value is 1 (without a window, no feedback counts as not converted; latest feedback wins);
 * - a continuous metric's value per request is its latest feedback value, 0 without one;
 * - with a sticky key the A/B and the SRM count users, not requests (./units.ts);
 * - with an attribution window (`metrics.primary.window`) the A/B counts a unit only once its
 *   window has passed on the log's clock, with the feedback that came within it (./attribution.ts);
 * - shadow requests feed the shadow agreement only;
 * - a label is scored against its request's recorded prediction (./modelMetrics.ts).
 */
import type { Experiment } from '../spec/experiment';
import type {
  ExperimentEvent,
  FeedbackEvent,
  RequestEvent,
  RunEvent,
  WeightsEvent,
} from '../../shared/events';
import type { Report, RolloutStatus, RunInfo, VariantReport, WeightChange } from '../../shared/report';
import { DriftDetector } from '../drift';
import type { ReportBuilderOptions } from './builderOptions';
import { ExcludedCounter, exclusionOf } from './assignment';
import { decisionAlpha, plannedEffect } from '../spec/planning';
import { RequestWindows, attributionReport, attributionWindowMs } from './attribution';
import { compareCandidates } from './comparisons';
import { FeedbackMemory } from './feedbackMemory';
import { IdScalars } from './idMemories';
import { IdTable } from './idTable';
import { guardrailResults } from './guardrails';
import { modelGuardrailResults } from './modelGuardrails';
import { ModelMetricsTracker } from './modelMetrics';
import { SequentialTests, type ArmLook } from './sequentialTests';
import { sampleRatio } from './sampleRatio';
import { buildTimeline, countInBucket } from './timeline';
import { UnitTracker, requestUnits } from './units';
import {
  emptyVariantAggregates,
  isError,
  recordFeedbackValue,
  variantReport,
  type VariantAggregates,
} from './variantAggregates';

export { GUARDRAIL_MIN_REQUESTS } from './decision';
export { SEQUENTIAL_WARMUP } from './sequentialTests';
export type { ReportBuilderOptions } from './builderOptions';

/** Weight changes kept for the timeline. */
const MAX_WEIGHT_CHANGES = 500;

/** Builds the experiment report from events, one at a time. */
export class ReportBuilder {
  private readonly variants: VariantAggregates[];
  private readonly byName = new Map<string, VariantAggregates>();
  private weights: Map<string, number>;
  /** Recent request ids → variant index, for feedback events without a variant (older logs). */
  private readonly requestVariant: IdScalars | undefined;
  private readonly variantOf: ((requestId: string) => string | undefined) | undefined;
  /** (metric, request id) → latest value, for recent requests. */
  private readonly latestFeedback: FeedbackMemory;
  private readonly sequential: SequentialTests;
  private readonly baseline: VariantAggregates | undefined;
  private readonly candidates: VariantAggregates[];
  /** Recent primary predictions, to score the shadow's agreement. */
  private readonly primaryPrediction: IdScalars;
  private shadowRequests = 0;
  private shadowCompared = 0;
  private shadowAgreed = 0;
  private orphanFeedback = 0;
  private readonly excluded: ExcludedCounter;
  private readonly drift: DriftDetector | undefined;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private readonly bucketMs: number;
  private readonly maxBuckets: number;
  private readonly weightHistory: WeightChange[] = [];
  private rollout: RolloutStatus | undefined;
  /** The run this builder covers (undefined: the events before the first run), and the run in force at the log's current position. */
  private readonly runId: string | undefined;
  private position: string | undefined;
  private runInfo: RunInfo | undefined;
  /** Users as the unit of analysis, when the experiment has a sticky key. */
  private readonly units: UnitTracker | undefined;
  /** The attribution window (ms), the log's clock it runs on, and the matured requests when the unit is the request. */
  private readonly windowMs: number | undefined;
  private clock = -Infinity;
  private readonly requestWindows: RequestWindows | undefined;
  /** Model metrics from labels (./modelMetrics.ts), when the experiment declares `spec.metrics.model`. */
  private readonly model: ModelMetricsTracker | undefined;
  /** The weights' shares (`shares()`), until the weights change. */
  declare private sharesNow: number[] | undefined;

  constructor(
    readonly experiment: Experiment,
    options: ReportBuilderOptions = {},
  ) {
    // Derived from the weights: not checkpointed, recomputed after a restore.
    Object.defineProperty(this, 'sharesNow', { value: undefined, writable: true, enumerable: false });
    this.runId = options.run;
    this.variants = emptyVariantAggregates(experiment, options);
    this.bucketMs = options.bucketMs ?? 10_000;
    this.maxBuckets = options.maxBuckets ?? 360;
    for (const v of this.variants) this.byName.set(v.name, v);
    this.baseline = this.variants.find((v) => v.role === 'baseline');
    this.candidates = this.variants.filter((v) => v.role === 'candidate');
    this.weights = new Map(experiment.spec.variants.map((v) => [v.name, v.weight]));
    const drift = experiment.spec.drift;
    this.drift = drift && options.reference ? new DriftDetector(drift, options.reference) : undefined;
    const ids = new IdTable(); // one table of request ids for every id memory below (./idTable.ts)
    this.primaryPrediction = new IdScalars(ids, options.agreementMemory ?? 100_000);
    const idMemory = options.idMemory ?? 1_000_000;
    this.variantOf = options.variantOf;
    this.requestVariant = this.variantOf ? undefined : new IdScalars(ids, idMemory);
    this.latestFeedback = new FeedbackMemory(ids, idMemory);
    this.excluded = new ExcludedCounter(idMemory, ids);
    const sticky = experiment.spec.routing?.sticky;
    this.windowMs = attributionWindowMs(experiment);
    if (this.windowMs !== undefined && !sticky)
      this.requestWindows = new RequestWindows(
        this.variants.length,
        this.windowMs,
        options.unitMemory?.pending,
      );
    this.units = sticky
      ? new UnitTracker(
          this.variants.length,
          experiment.spec.metrics.primary.kind,
          sticky.header,
          options.unitMemory,
          this.windowMs,
          ids,
        )
      : undefined;
    const model = experiment.spec.metrics.model;
    this.model =
      model && new ModelMetricsTracker(model, this.variants, this.baseline?.index ?? 0, idMemory, ids);
    this.sequential = new SequentialTests(
      experiment.spec.metrics.primary.kind,
      decisionAlpha(experiment),
      plannedEffect(experiment),
    );
  }

  /** Current configured weights (after any weight events). */
  get currentWeights(): Record<string, number> {
    return Object.fromEntries(this.weights);
  }

  /** Feedback events whose request id was never seen. */
  get orphanFeedbackCount(): number {
    return this.orphanFeedback;
  }

  /**
   * Folds one event into the aggregates. Events of other experiments, and of other runs than the
   * one this builder covers, are ignored: a line's run is its `run` field, else the run started
   * last before it in the log.
   */
  ingest(event: ExperimentEvent): void {
    if (event.experiment !== this.experiment.metadata.name) return;
    this.tick(event.ts);
    if (event.type === 'run') {
      this.position = event.run;
      if (event.run === this.runId && this.runInfo?.id !== event.run) this.onRun(event); // once per id (replicas)
      return;
    }
    const run =
      (event.type === 'request' || event.type === 'feedback' || event.type === 'label'
        ? event.run
        : undefined) ?? this.position;
    if (run !== this.runId) return;
    if (event.type === 'detector') return this.drift?.verdict(event);
    switch (event.type) {
      case 'request':
        return this.onRequest(event);
      case 'feedback':
        return this.onFeedback(event);
      case 'label':
        return this.model?.label(event, this.excluded.has(event.id), this.feedbackVariant(event)?.index);
      case 'weights':
        return this.onWeights(event);
      case 'rollout':
        this.rollout = event.state;
        return;
    }
  }

  private onRequest(e: RequestEvent): void {
    const exclusion = exclusionOf(e);
    if (e.shadow || exclusion === 'shadow') {
      this.excluded.request(e, 'shadow');
      return this.onShadow(e);
    }
    const v = this.byName.get(e.variant);
    if (!v) return;
    if (exclusion) {
      this.excluded.request(e, exclusion);
      // A forced call still has a class the shadow can be compared with.
      if (this.experiment.spec.routing?.mirror && e.outputs?.predict !== undefined)
        this.primaryPrediction.set(e.id, e.outputs.predict);
      return;
    }
    this.firstTs = Math.min(this.firstTs, e.ts);
    this.lastTs = Math.max(this.lastTs, e.ts);
    v.requests++;
    v.recordDetails(e);
    const failed = isError(e);
    if (failed) v.errors++;
    else v.latency.record(e.ts, e.latencyMs);
    countInBucket(v, e.ts, failed, this.bucketMs, this.maxBuckets);
    const shares = this.shares();
    for (let i = 0; i < shares.length; i++) this.variants[i]!.expected += shares[i]!;
    this.requestVariant?.set(e.id, v.index);
    if (this.experiment.spec.routing?.mirror && e.outputs?.predict !== undefined)
      this.primaryPrediction.set(e.id, e.outputs.predict);
    this.drift?.observe(v.name, e.ts, e.inputs, e.outputs, e.modelInputs);
    this.model?.request(e, v.index);
    // Under a window a request changes no compared arm until it matures (tick); with users as
    // the unit, neither does a crossover request.
    if (this.requestWindows) this.requestWindows.request(e.id, v.index, e.ts);
    else if (!this.units || this.units.request(e, v.index, shares)) this.sequentialLook(v);
  }

  /** The log's clock moved to `ts`: units whose window ended before it mature, each with a look. */
  private tick(ts: number): void {
    if (this.windowMs === undefined || !(ts > this.clock)) return;
    this.clock = ts;
    this.units?.advance(ts, this.matured);
    this.requestWindows?.advance(ts, this.matured);
  }

  private readonly matured = (arm: number): void => this.sequentialLook(this.variants[arm]!);

  /** A compared arm as the A/B sees it: users or requests, and the primary metric's sums over them. */
  private arm(v: VariantAggregates): ArmLook {
    if (this.units) return this.units.look(v.index);
    if (this.requestWindows) return this.requestWindows.look(v.index);
    return { requests: v.requests, metric: v.metrics.get(this.experiment.spec.metrics.primary.name) };
  }

  /**
   * The always-valid test looks after every event that changes a compared arm (a request, or
   * feedback on the primary metric), never when a report is asked for: its running minimum
   * then depends on the log alone, so the live router, a restarted router and `analyze` on
   * the same log reach the same p-value, interval and decision.
   */
  private sequentialLook(changed: VariantAggregates): void {
    const baseline = this.baseline;
    if (!baseline) return;
    for (const c of changed === baseline ? this.candidates : [changed])
      this.sequential.look(c.name, this.arm(baseline), this.arm(c));
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
  private feedbackVariant(e: Pick<FeedbackEvent, 'id' | 'variant' | 'run'>): VariantAggregates | undefined {
    // Feedback without a run inside a run is for a request of before the runs: only an id this run saw counts.
    if (e.variant && (e.run !== undefined || this.runId === undefined)) return this.byName.get(e.variant);
    if (this.variantOf) {
      const name = this.variantOf(e.id);
      return name === undefined ? undefined : this.byName.get(name);
    }
    const index = this.requestVariant?.get(e.id) as number | undefined;
    return index === undefined ? undefined : this.variants[index];
  }

  private onFeedback(e: FeedbackEvent): void {
    if (this.excluded.feedback(e.id)) return;
    const v = this.feedbackVariant(e);
    if (!v || !Number.isFinite(e.value)) {
      this.orphanFeedback++;
      return;
    }
    const previous = this.latestFeedback.get(e.metric, e.id);
    this.latestFeedback.set(e.metric, e.id, e.value);
    recordFeedbackValue(v, e.metric, e.value, previous);
    if (e.metric !== this.experiment.spec.metrics.primary.name) return;
    if (this.requestWindows) return this.requestWindows.feedback(e.id, e.ts, e.value, v.index);
    if (!this.units) return this.sequentialLook(v);
    const arm = this.units.feedback(e.id, e.value, previous, e.ts);
    if (arm !== undefined) this.sequentialLook(this.variants[arm]!);
  }

  /** The start of the run this builder covers: its weights, and when and why it started. */
  private onRun(e: RunEvent): void {
    this.runInfo = { id: e.run, startedAt: e.ts, ...(e.reason ? { reason: e.reason } : {}) };
    this.weights = new Map(this.experiment.spec.variants.map((v) => [v.name, v.weight]));
    this.sharesNow = undefined;
    this.onWeights({
      type: 'weights',
      ts: e.ts,
      experiment: e.experiment,
      weights: e.weights,
      source: 'run',
    });
  }

  private onWeights(e: WeightsEvent): void {
    for (const [name, weight] of Object.entries(e.weights)) {
      if (this.byName.has(name) && Number.isFinite(weight) && weight >= 0) this.weights.set(name, weight);
    }
    this.sharesNow = undefined;
    this.units?.weightsChanged(e.ts);
    this.weightHistory.push({ ts: e.ts, weights: this.currentWeights, source: e.source, reason: e.reason });
    if (this.weightHistory.length > MAX_WEIGHT_CHANGES) this.weightHistory.shift();
  }

  /** Each variant's share of the weights now; computed once per weight change, not per request. */
  private shares(): number[] {
    if (this.sharesNow) return this.sharesNow;
    const total = this.totalWeight();
    return (this.sharesNow = this.variants.map((s) =>
      total > 0 ? (this.weights.get(s.name) ?? 0) / total : 0,
    ));
  }

  private totalWeight(): number {
    let total = 0;
    for (const w of this.weights.values()) total += w;
    return total;
  }

  /** The report as of now (or `now`, epoch ms). */
  report(now: number = Date.now()): Report {
    const spec = this.experiment.spec;
    const totalRequests = this.variants.reduce((n, v) => n + v.requests, 0);
    const units = this.units;
    const variants: VariantReport[] = this.variants.map((v) => {
      const r = variantReport(v, this.weights.get(v.name) ?? 0, totalRequests, spec.metrics.primary);
      if (units) r.users = units.arms[v.index]!.units;
      return r;
    });
    const srm = sampleRatio(this.variants, this.weights, this.units?.arms);
    const modelMetrics = this.model?.report();
    const guardrails = guardrailResults(this.experiment, variants, { firstTs: this.firstTs, now }).concat(
      modelGuardrailResults(this.experiment, modelMetrics, (v) => this.model!.firstRequestOf(v), now),
    );
    const comparisons = compareCandidates(this.experiment, this.variants, {
      guardrails,
      srmMismatch: srm.mismatch,
      sequential: this.sequential,
      arm: (v) => this.arm(v),
      perRequest: units && ((v) => units.arms[v.index]!),
      firstTs: this.firstTs,
      now,
      weights: this.currentWeights,
    });
    const report: Report = {
      experiment: this.experiment.metadata.name,
      generatedAt: new Date(now).toISOString(),
      ...(this.runInfo ? { run: { ...this.runInfo } } : {}),
      variants,
      srm,
      comparisons,
      guardrails,
      excluded: this.excluded.report(),
      timeline: buildTimeline(this.variants, this.bucketMs, this.maxBuckets, this.weightHistory),
    };
    report.units = units?.report() ?? requestUnits();
    report.attribution = attributionReport(
      this.windowMs,
      report.units.unit,
      this.variants.map((v) => v.name),
      units?.windowCounts ?? this.requestWindows?.counts,
    );
    if (this.drift) report.drift = this.drift.report();
    if (this.rollout) report.rollout = this.rollout;
    if (modelMetrics) report.modelMetrics = modelMetrics;
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
}
