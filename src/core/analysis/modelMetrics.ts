/**
 * Model metrics from delayed ground truth: each randomised request's recorded prediction
 * (`outputs.predict`, `outputs.proba`) is kept, bounded, until its label arrives; the label is
 * then scored into its variant's running sums. The latest label of a request wins: the entry
 * of its previous label carries what was added, which is taken back first. Memory: two
 * generational maps of request ids (predictions and labels, `idMemory` each, like the
 * builder's feedback memory) and one fixed AUC histogram per variant. A label whose request's
 * prediction has left memory, or had none recorded (not sampled), is counted but not scored.
 * docs/model-metrics.md.
 */
import type { LabelEvent, RequestEvent } from '../../shared/events';
import type {
  ModelEstimate,
  ModelMetricDifference,
  ModelMetricsReport,
  VariantModelMetrics,
} from '../../shared/modelMetrics';
import type { ModelSpec } from '../spec/modelSpec';
import { wilsonInterval, newcombeDiffCI } from '../stats';
import { AucHistogram, LossSums, differenceOf, rmseFromSquares, type Estimate } from '../stats/modelStats';
import { PredictionMemory } from './idMemories';
import { IdTable } from './idTable';

/** What a request predicted, and the variant it was routed to. */
interface Prediction {
  variant: number;
  predict?: number | string;
  proba?: number;
}

/** A scored label's entry: the prediction it was scored against, so a newer label can replace it. */
interface Scored extends Prediction {
  label: number | string;
}

/** Scores are clipped away from 0 and 1 so one confident miss costs a finite log-loss. */
const EPSILON = 1e-15;

class VariantSums {
  labels = 0;
  scored = 0;
  correct = 0;
  classified = 0;
  readonly logLoss = new LossSums();
  readonly brier = new LossSums();
  readonly auc = new AucHistogram();
  readonly absolute = new LossSums();
  readonly squared = new LossSums();
}

/** Folds labels into per-variant model metrics. */
export class ModelMetricsTracker {
  private readonly predictions: PredictionMemory;
  private readonly latest: PredictionMemory;
  private readonly sums: VariantSums[];
  private readonly variantNames: readonly string[];
  /** Each variant's first randomised request (epoch ms): a guardrail's wait for labels starts there. */
  private readonly firstRequest: number[];
  private excludedLabels = 0;
  private unattributedLabels = 0;

  constructor(
    private readonly spec: ModelSpec,
    variants: readonly { name: string }[],
    private readonly baseline: number,
    idMemory: number,
    ids = new IdTable(),
  ) {
    this.predictions = new PredictionMemory(ids, idMemory);
    this.latest = new PredictionMemory(ids, idMemory);
    this.variantNames = variants.map((v) => v.name);
    this.sums = variants.map(() => new VariantSums());
    this.firstRequest = variants.map(() => Infinity);
  }

  /** Remembers a randomised request's prediction (the builder calls it for those only). */
  request(e: RequestEvent, variant: number): void {
    this.firstRequest[variant] = Math.min(this.firstRequest[variant]!, e.ts);
    const o = e.outputs;
    if (!o || (o.predict === undefined && o.proba === undefined)) return;
    this.predictions.set(e.id, { variant, predict: o.predict, proba: o.proba });
  }

  /**
   * Scores a label; `variant` is the builder's attribution of its request (undefined: none in
   * this run). A label for an excluded (forced, debug) request is counted beside the metrics.
   */
  label(e: LabelEvent, excluded: boolean, variant: number | undefined): void {
    if (excluded) {
      this.excludedLabels++;
      return;
    }
    const previous = this.latest.get(e.id) as Scored | undefined;
    const prediction = this.predictions.get(e.id) ?? previous;
    const v = prediction?.variant ?? variant;
    if (v === undefined) {
      this.unattributedLabels++;
      return;
    }
    const s = this.sums[v]!;
    if (previous) this.score(s, previous, -1);
    else s.labels++;
    const entry: Scored = {
      variant: v,
      label: e.label,
      predict: prediction?.predict,
      proba: prediction?.proba,
    };
    this.latest.set(e.id, entry);
    this.score(s, entry, 1);
  }

  /** Adds (weight 1) or takes back (−1) one label's contribution. */
  private score(s: VariantSums, x: Scored, weight: 1 | -1): void {
    if (this.spec.task === 'regression') {
      const label = typeof x.label === 'number' ? x.label : Number(x.label);
      const predicted = typeof x.predict === 'number' ? x.predict : Number(x.predict);
      if (x.predict === undefined || !Number.isFinite(label) || !Number.isFinite(predicted)) return;
      const error = predicted - label;
      s.scored += weight;
      s.absolute.add(Math.abs(error), weight);
      s.squared.add(error * error, weight);
      return;
    }
    let scored = false;
    if (x.predict !== undefined) {
      scored = true;
      s.classified += weight;
      if (String(x.predict) === String(x.label)) s.correct += weight;
    }
    if (x.proba !== undefined && Number.isFinite(x.proba)) {
      scored = true;
      const y = String(x.label) === String(this.spec.positiveClass) ? 1 : 0;
      const p = Math.min(1 - EPSILON, Math.max(EPSILON, x.proba));
      s.logLoss.add(-(y === 1 ? Math.log(p) : Math.log(1 - p)), weight);
      s.brier.add((x.proba - y) ** 2, weight);
      s.auc.add(x.proba, y === 1, weight);
    }
    if (scored) s.scored += weight;
  }

  /** When the variant named got its first randomised request (Infinity: none yet). */
  firstRequestOf(variant: string): number {
    return this.firstRequest[this.variantNames.indexOf(variant)] ?? Infinity;
  }

  /** The report's section: per variant, and each candidate against the baseline. */
  report(): ModelMetricsReport {
    const estimates = this.sums.map((s) => this.estimates(s));
    const variants = this.sums.map((s, i): VariantModelMetrics => {
      const e = estimates[i]!;
      const out: VariantModelMetrics = { variant: this.variantNames[i]!, labels: s.labels, scored: s.scored };
      for (const [k, est] of Object.entries(e))
        (out as unknown as Record<string, ModelEstimate>)[k] = shown(est);
      if (this.spec.task === 'classification') {
        out.positives = s.auc.positives;
        out.negatives = s.auc.negatives;
      }
      return out;
    });
    const differences: ModelMetricDifference[] = [];
    const base = this.sums[this.baseline];
    this.sums.forEach((s, i) => {
      if (i === this.baseline || !base) return;
      for (const metric of Object.keys(estimates[i]!) as ModelMetricDifference['metric'][]) {
        const d =
          metric === 'accuracy'
            ? accuracyDifference(base, s)
            : differenceOf(estimates[i]![metric]!, estimates[this.baseline]![metric]!);
        differences.push({
          variant: this.variantNames[i]!,
          baseline: this.variantNames[this.baseline]!,
          metric,
          difference: d.value,
          ci95: d.ci95,
        });
      }
    });
    return {
      task: this.spec.task,
      ...(this.spec.task === 'classification' ? { positiveClass: this.spec.positiveClass } : {}),
      variants,
      differences,
      excludedLabels: this.excludedLabels,
      unattributedLabels: this.unattributedLabels,
    };
  }

  private estimates(s: VariantSums): Partial<Record<ModelMetricDifference['metric'], Estimate>> {
    if (this.spec.task === 'regression') return { mae: s.absolute.mean(), rmse: rmseFromSquares(s.squared) };
    return { accuracy: accuracyOf(s), auc: s.auc.auc(), logLoss: s.logLoss.mean(), brier: s.brier.mean() };
  }
}

function accuracyOf(s: VariantSums): Estimate {
  if (s.classified < 1) return { value: NaN, ci95: [NaN, NaN], se: NaN };
  const p = s.correct / s.classified;
  return {
    value: p,
    ci95: wilsonInterval(s.correct, s.classified),
    se: Math.sqrt((p * (1 - p)) / s.classified),
  };
}

/** Accuracy difference with Newcombe's hybrid score interval (the report's interval for rates). */
function accuracyDifference(base: VariantSums, s: VariantSums): Estimate {
  const value = s.correct / s.classified - base.correct / base.classified;
  return { value, ci95: newcombeDiffCI(base.correct, base.classified, s.correct, s.classified), se: NaN };
}

const shown = (e: Estimate): ModelEstimate => ({ value: e.value, ci95: e.ci95 });
