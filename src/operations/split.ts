/**
 * `split` / Set Traffic Split / the dashboard's split editor: one meaning on every runtime, the
 * rule of shared/weights.ts. A partial split keeps the unnamed variants' weights.
 */
import type { OperationOptions, Runtime } from '../runtime/runtime';
import { WeightsError, resolveWeights } from '../shared/weights';
import { usageError } from './errors';

export interface SplitInput {
  experiment: string;
  /** Some or all variants' new weights. */
  weights: Record<string, number>;
}

export interface SplitResult {
  experiment: string;
  /** Every variant's weight now in force. */
  weights: Record<string, number>;
}

export async function splitTraffic(
  runtime: Runtime,
  input: SplitInput,
  options: OperationOptions = {},
): Promise<SplitResult> {
  // Checked here first so every runtime answers bad input with the same words.
  const report = await runtime.report(input.experiment, options);
  try {
    resolveWeights(input.experiment, report.variants, input.weights);
  } catch (err) {
    if (err instanceof WeightsError) throw usageError(err.message);
    throw err;
  }
  const weights = await runtime.setWeights(input.experiment, input.weights, options);
  return { experiment: input.experiment, weights };
}
