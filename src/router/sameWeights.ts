/** Weight maps compared: equal weights, and the same variants as an experiment's. */
import type { ExperimentRuntime } from './config';

export function sameWeights(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export function sameVariants(weights: Readonly<Record<string, number>>, exp: ExperimentRuntime): boolean {
  const names = Object.keys(weights);
  return names.length === exp.variants.length && exp.variants.every((v) => v.name in weights);
}
