/** The report's guardrails: each variant's p95 latency and error rate against the experiment's limits. */
import type { GuardrailResult, VariantReport } from '../../shared/report';
import type { Experiment } from '../spec/experiment';

/** One result per variant and configured limit. */
export function guardrailResults(
  experiment: Experiment,
  variants: readonly VariantReport[],
): GuardrailResult[] {
  const limits = experiment.spec.metrics.guardrails;
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
