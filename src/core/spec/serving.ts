/**
 * How many MLServer processes the local environment runs for each variant (`spec.serving`).
 *
 * A latency comparison is only fair at comparable load per process: with 95% of the traffic
 * on one process and 5% on another, the busy one queues and its p95 grows whatever the model.
 * With `spec.serving.workers: N`, a variant of weight share s runs clamp(round(s × N), 1, N)
 * processes, so each arm's load per process is within a small factor of the others'. Without
 * it every variant runs one process (the comparison is then at unequal load, and the report's
 * load per replica shows it). The sizing follows the experiment file's weights, as deployed; a
 * rollout that moves the weights later does not resize.
 */

/** The most MLServer processes `spec.serving.workers` may ask for. */
export const MAX_SERVING_WORKERS = 64;

/** What the sizing reads of an experiment (structural, so the schema module can import this one). */
export interface ServingInput {
  spec: {
    variants: readonly { name: string; weight: number }[];
    serving?: { workers: number };
  };
}

/**
 * MLServer processes per variant name (1 each without `spec.serving`). A graph variant's count
 * is its output step's; its other steps run one process each.
 */
export function variantWorkers(experiment: ServingInput): Record<string, number> {
  const { variants, serving } = experiment.spec;
  const total = variants.reduce((sum, v) => sum + Math.max(0, v.weight), 0);
  const out: Record<string, number> = {};
  for (const v of variants) {
    out[v.name] =
      !serving || !(total > 0)
        ? 1
        : Math.min(
            serving.workers,
            Math.max(1, Math.round((Math.max(0, v.weight) / total) * serving.workers)),
          );
  }
  return out;
}
