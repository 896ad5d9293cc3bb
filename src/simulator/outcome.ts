/**
 * The outcome model that turns a model's score into a business result, for the sample
 * scenario: a customer is offered the promotion when the model's score passes a threshold,
 * and converts when offered and their ground-truth label says they would — with noise.
 *
 *   offered   = score >= threshold
 *   P(convert | offered, label 1) = convertIfPositive   (default 0.9: some still walk away)
 *   P(convert | offered, label 0) = convertIfNegative   (default 0.03: a few are persuaded)
 *   P(convert | not offered)      = organic             (default 0: no offer, no promotion conversion)
 *
 * So a model that ranks the true converters above the threshold more often converts more.
 */

export interface OutcomeModel {
  threshold: number;
  convertIfPositive: number;
  convertIfNegative: number;
  organic: number;
}

export const DEFAULT_OUTCOME: OutcomeModel = {
  threshold: 0.5,
  convertIfPositive: 0.9,
  convertIfNegative: 0.03,
  organic: 0,
};

/** Whether this customer converts, given the served model's score and their ground truth. */
export function converts(
  model: OutcomeModel,
  score: number,
  label: number | undefined,
  random: () => number,
): { offered: boolean; converted: boolean } {
  const offered = score >= model.threshold;
  const p = !offered ? model.organic : label === 1 ? model.convertIfPositive : model.convertIfNegative;
  return { offered, converted: random() < p };
}
