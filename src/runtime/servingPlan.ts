/**
 * The local environment's MLServer processes per model for one experiment (`spec.serving`,
 * ../core/spec/serving.ts), and what `deploy` tells the user about it.
 */
import { availableParallelism } from 'node:os';
import type { Experiment } from '../core/spec/experiment';
import { variantWorkers } from '../core/spec/serving';
import { sizingUnsupportedReason } from './mlserverWorkers';

/** MLServer processes per model: a variant's model gets its variant's count (the most, when shared). */
export function modelWorkers(experiment: Experiment): Map<string, number> {
  const perVariant = variantWorkers(experiment);
  const out = new Map<string, number>();
  for (const v of experiment.spec.variants)
    out.set(v.model, Math.max(out.get(v.model) ?? 1, perVariant[v.name] ?? 1));
  return out;
}

/** A progress line on how the variants are sized, or why their latencies are compared at unequal load. */
export function servingNote(experiment: Experiment, cores = availableParallelism()): string | undefined {
  const { variants, serving } = experiment.spec;
  if (variants.length < 2) return undefined;
  const workers = variantWorkers(experiment);
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const loads = variants.map((v) => (total > 0 ? v.weight / total : 0) / (workers[v.name] ?? 1));
  const uneven = Math.max(...loads) > 3 * Math.min(...loads.filter((l) => l > 0));
  const sizes = variants.map((v) => `${v.name} ${workers[v.name]}`).join(', ');
  if (!serving) {
    return uneven
      ? `every variant runs one MLServer process: at weights ${variants.map((v) => v.weight).join('/')} their latencies are compared at unequal load — set spec.serving.workers to size them (docs/experiments.md)`
      : undefined;
  }
  const reason = sizingUnsupportedReason();
  if (reason) return `MLServer processes not sized (asked: ${sizes}): ${reason}`;
  const processes = variants.reduce((sum, v) => sum + (workers[v.name] ?? 1), 0);
  // Past the cores, more processes share the CPU instead of adding capacity (docs/experiments.md).
  const crowded =
    processes > cores
      ? `; ${processes} processes on ${cores} cores share the CPU rather than add capacity, so under load the arms' latencies follow how the scheduler splits it (docs/experiments.md)`
      : '';
  return `MLServer processes sized to the traffic shares: ${sizes}${uneven ? ' (still uneven: raise spec.serving.workers for a fair latency comparison)' : ''}${crowded}`;
}
