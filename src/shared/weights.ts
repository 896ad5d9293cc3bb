/**
 * The weights rule, written once (docs/router-api.md, "Weights"). The router applies it to
 * every PUT; the Kubernetes runtime applies it to the ConfigMap; the CLI, the palette's input
 * box and the dashboard's split editor check input with it before sending.
 *
 *   - a weight is a finite number ≥ 0, and every name is a variant of the experiment;
 *   - a partial split keeps the weights of the variants it does not name (on every runtime);
 *   - the baseline stays in the experiment: a split can give it 0, never remove it;
 *   - the resulting weights add up to something positive (and finite).
 * Weights are relative: {v1: 3, v2: 1} routes 75% / 25%.
 */

export interface WeightedVariant {
  name: string;
  weight: number;
  role?: 'baseline' | 'candidate';
}

/** Input that breaks the rule; the message says what to send instead. */
export class WeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsError';
  }
}

/** The full weights after applying `requested` (possibly partial) to the current ones; throws WeightsError. */
export function resolveWeights(
  experiment: string,
  current: readonly WeightedVariant[],
  requested: Record<string, unknown>,
): Record<string, number> {
  const names = current.map((v) => v.name);
  const next: Record<string, number> = Object.fromEntries(current.map((v) => [v.name, v.weight]));
  const entries = Object.entries(requested);
  if (entries.length === 0)
    throw new WeightsError(`name at least one variant, e.g. ${names.map((n) => `${n}=50`).join(' ')}`);
  for (const [name, weight] of entries) {
    if (!names.includes(name))
      throw new WeightsError(`unknown variant "${name}" — experiment ${experiment} has ${names.join(', ')}`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
      throw new WeightsError(`${name}: the weight must be a number ≥ 0, got ${JSON.stringify(weight)}`);
    next[name] = weight;
  }
  const total = Object.values(next).reduce((a, b) => a + b, 0);
  if (!(total > 0) || !Number.isFinite(total))
    throw new WeightsError(
      `the weights must add up to something positive and finite (e.g. ${names[0] ?? 'v1'}=95 ${names[1] ?? 'v2'}=5)`,
    );
  return next;
}

/** Parses `v1=75 v2=25` (spaces or commas between pairs) into weights; throws WeightsError. */
export function parseSplit(text: string): Record<string, number> {
  const weights: Record<string, number> = {};
  const pairs = text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at) : '';
    const raw = at > 0 ? pair.slice(at + 1) : '';
    const weight = raw.trim() === '' ? NaN : Number(raw);
    if (!name) throw new WeightsError(`"${pair}" is not <variant>=<weight>, e.g. v1=75`);
    if (!Number.isFinite(weight) || weight < 0)
      throw new WeightsError(`"${pair}": the weight must be a number ≥ 0`);
    weights[name] = weight;
  }
  if (pairs.length === 0) throw new WeightsError('give <variant>=<weight> pairs, e.g. v1=75 v2=25');
  return weights;
}

/** `v1=75 v2=25`, in the variants' order. */
export function formatSplit(weights: Record<string, number>): string {
  return Object.entries(weights)
    .map(([n, w]) => `${n}=${w}`)
    .join(' ');
}
