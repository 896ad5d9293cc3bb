/**
 * Model guardrails (`spec.metrics.guardrails.model`): how far a candidate's model metric may
 * fall behind the baseline's. Each is judged on the 95% interval of the difference, once both
 * arms have `minLabels` scored labels:
 * - breached when the whole interval is beyond the allowed drop (or rise): the candidate is
 *   worse than allowed with confidence, so noise on a few hundred labels does not roll it back;
 * - within limits otherwise;
 * - pending while an arm is short of labels. A pending guardrail rolls nothing back but holds a
 *   promotion (decision.ts, the rollout's last step), and it fails once it has been pending
 *   `labelWaitSeconds` after both arms' first requests: ground truth that stops arriving stops
 *   the rollout rather than letting the candidate through unjudged.
 */
import { plain } from '../../shared/format';
import type { GuardrailResult } from '../../shared/report';
import type { ModelMetricsReport } from '../../shared/modelMetrics';
import type { Experiment } from '../spec/experiment';
import { HIGHER_IS_BETTER, type ModelMetricName } from '../spec/modelSpec';

const METRICS: readonly ModelMetricName[] = ['accuracy', 'auc', 'logLoss', 'brier', 'mae', 'rmse'];

const num = (x: number): string => plain(x);

/** One result per candidate and configured model guardrail (none without labels configured). */
export function modelGuardrailResults(
  experiment: Experiment,
  model: ModelMetricsReport | undefined,
  firstRequestOf: (variant: string) => number,
  now: number,
): GuardrailResult[] {
  const limits = experiment.spec.metrics.guardrails?.model;
  if (!limits || !model) return [];
  const out: GuardrailResult[] = [];
  for (const d of model.differences) {
    const metric = d.metric;
    const limit = limits[metric];
    if (!limit || !METRICS.includes(metric)) continue;
    const higher = HIGHER_IS_BETTER.has(metric);
    const allowed = 'maxDrop' in limit ? limit.maxDrop : limit.maxRise;
    const name = `model.${metric}`;
    const arms = [d.variant, d.baseline].map((v) => model.variants.find((m) => m.variant === v)?.scored ?? 0);
    const have = Math.min(...arms);
    const judged = have >= limits.minLabels && d.ci95.every(Number.isFinite);
    // The wait starts once both arms have traffic (a candidate ramped up late waits from then).
    const since = Math.max(firstRequestOf(d.variant), firstRequestOf(d.baseline));
    const waitedS = Number.isFinite(since) ? (now - since) / 1000 : 0;
    const base = { name, variant: d.variant, value: d.difference, limit: higher ? -allowed : allowed };
    if (!judged) {
      const short = `${have} of ${limits.minLabels} scored labels per arm`;
      if (waitedS > limits.labelWaitSeconds)
        out.push({
          ...base,
          ok: false,
          detail: `${name}: only ${short} after ${Math.round(waitedS)} s (labelWaitSeconds ${limits.labelWaitSeconds}) — ground truth is not arriving; post labels (model-canary label) or remove the guardrail`,
        });
      else out.push({ ...base, ok: true, pending: true, detail: `${name}: waiting for labels (${short})` });
      continue;
    }
    const [lo, hi] = d.ci95;
    const breached = higher ? hi < -allowed : lo > allowed;
    const ci = `${num(d.difference)} [${num(lo)}, ${num(hi)}]`;
    const bound = higher ? `a drop of at most ${num(allowed)}` : `a rise of at most ${num(allowed)}`;
    out.push({
      ...base,
      ok: !breached,
      detail: breached
        ? `${name} of ${d.variant} − ${d.baseline} = ${ci}: worse than ${bound}, the whole 95% interval beyond it`
        : `${name} of ${d.variant} − ${d.baseline} = ${ci}, ${bound} allowed`,
    });
  }
  return out;
}
