/**
 * The report's guardrails: each variant's p95 latency and error rate against the experiment's
 * limits, with each arm's load per model-server replica beside its latency.
 *
 * A latency comparison is only fair at comparable load. With 95% of the traffic on one model
 * server and 5% on another, the busy one queues and its p95 grows whatever the model: a
 * latency breach of the baseline while it carries at least `CONFOUNDING_LOAD_RATIO` times the
 * load per replica of an arm within the limit is reported as confounded (`ok`, with the reason)
 * rather than breached, so neither the verdict nor the alerts blame it. A candidate's breach is
 * never excused: it will carry that load once it is rolled out. An arm's replicas are its
 * MLServer processes in the local environment, sized to its traffic share by `spec.serving`
 * (../spec/serving.ts; one without it). The Kubernetes stack ships experiment files without
 * `spec.serving`, so there each arm counts one replica (its Deployment's, or its autoscaler's
 * first).
 */
import type { GuardrailResult, VariantReport } from '../../shared/report';
import type { Experiment } from '../spec/experiment';
import { variantWorkers } from '../spec/serving';

/** How much more load per replica makes an arm's latency breach a matter of load, not of the model. */
export const CONFOUNDING_LOAD_RATIO = 3;

/**
 * One result per variant and configured limit; sets each variant's `loadPerReplica` (requests
 * per second per replica since `firstTs`, epoch ms, when known).
 */
export function guardrailResults(
  experiment: Experiment,
  variants: readonly VariantReport[],
  elapsed?: { firstTs: number | undefined; now: number },
): GuardrailResult[] {
  const seconds = elapsed?.firstTs === undefined ? 0 : (elapsed.now - elapsed.firstTs) / 1000;
  const replicas = variantWorkers(experiment);
  if (seconds > 0)
    for (const v of variants) v.loadPerReplica = v.requests / (replicas[v.name] ?? 1) / seconds;
  const limits = experiment.spec.metrics.guardrails;
  const out: GuardrailResult[] = [];
  for (const v of variants) {
    if (limits?.latencyP95Ms) {
      const value = v.latencyMs.p95;
      const max = limits.latencyP95Ms.max;
      const result: GuardrailResult = {
        name: 'latencyP95Ms',
        variant: v.name,
        value,
        limit: max,
        ok: !(value > max),
      };
      if (!result.ok) {
        const confounded = loadConfounding(v, variants, max);
        if (confounded) Object.assign(result, { ok: true, confounded });
      }
      out.push(result);
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

/** Why `v`'s latency breach says more about its load than its model, or undefined. */
function loadConfounding(
  v: VariantReport,
  variants: readonly VariantReport[],
  max: number,
): string | undefined {
  const load = v.loadPerReplica;
  if (v.role !== 'baseline' || load === undefined || !(load > 0)) return undefined;
  const lighter = variants
    .filter((o) => o !== v && o.requests > 0 && o.loadPerReplica !== undefined && !(o.latencyMs.p95 > max))
    .sort((a, b) => a.loadPerReplica! - b.loadPerReplica!)[0];
  if (!lighter || load < CONFOUNDING_LOAD_RATIO * lighter.loadPerReplica!) return undefined;
  const ratio = load / lighter.loadPerReplica!;
  return (
    `${v.name}'s p95 ${round(v.latencyMs.p95)} ms is over ${max} ms while it carries ${round(ratio)}× ${lighter.name}'s load ` +
    `per model-server replica (${round(load)} vs ${round(lighter.loadPerReplica!)} req/s): a matter of load, not of the model — ` +
    `compare at equal weights or give ${v.name} more replicas (spec.serving.workers in the local environment)`
  );
}

function round(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}
