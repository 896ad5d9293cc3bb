/** The sample-ratio check of the report, on its unit of analysis (users or requests). */
import type { SrmReport } from '../../shared/report';
import { sampleRatioMismatch } from '../stats';
import type { ArmUnits } from './units';
import type { VariantAggregates } from './variantAggregates';

/**
 * The sample-ratio check on the unit of analysis: users (each counted once, in the arm of its
 * first request, against the weights' shares when it arrived) when there is a sticky key,
 * else requests. Requests of a repeated user are not independent, so with users the
 * request-level chi-square is only shown beside it.
 */
export function sampleRatio(
  variants: readonly VariantAggregates[],
  weights: ReadonlyMap<string, number>,
  arms: readonly ArmUnits[] | undefined,
): SrmReport {
  const tested = (count: (v: VariantAggregates) => number) =>
    variants.filter((v) => (weights.get(v.name) ?? 0) > 0 || count(v) > 0);
  const requestArms = tested((v) => v.requests);
  const requests = sampleRatioMismatch(
    requestArms.map((v) => v.requests),
    requestArms.map((v) => v.expected),
  );
  const requestTotal = requestArms.reduce((n, v) => n + v.requests, 0);
  if (!arms) return { ...requests, unit: 'request', total: requestTotal };
  const userArms = tested((v) => arms[v.index]!.units);
  const users = sampleRatioMismatch(
    userArms.map((v) => arms[v.index]!.units),
    userArms.map((v) => arms[v.index]!.expected),
  );
  return {
    ...users,
    unit: 'user',
    total: userArms.reduce((n, v) => n + arms[v.index]!.units, 0),
    requestLevel: { chi2: requests.chi2, pValue: requests.pValue },
  };
}
