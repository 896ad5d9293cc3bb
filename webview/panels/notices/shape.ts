/** The SRM banner's words: the observed split against the configured one. Pure: no DOM. */
import type { Report } from '../../../src/shared/report';
import { num, pValue, shares, splitNumber } from '../../../src/shared/format';
import { variantOrder } from '../../variants';

/** The observed and configured split as "93.1/6.9" and "95/5" (variants with traffic). */
export function splitPair(report: Report): { observed: string; configured: string } {
  const active = report.variants.filter((v) => num(v.weight) > 0 || num(v.requests) > 0);
  const w = shares(Object.fromEntries(active.map((v) => [v.name, num(v.weight) || 0])));
  const order = variantOrder(report).filter((n) => active.some((v) => v.name === n));
  return {
    observed: order
      .map((n) => {
        const share = num(active.find((v) => v.name === n)?.observedShare);
        return Number.isFinite(share) ? (share * 100).toFixed(1) : '—';
      })
      .join('/'),
    configured: order.map((n) => splitNumber(w[n] ?? 0)).join('/'),
  };
}

/** The SRM banner, when the observed split does not match the configured one. */
export function srmBanner(report: Report): string | undefined {
  if (!report.srm?.mismatch) return undefined;
  const { observed, configured } = splitPair(report);
  return `SRM p = ${pValue(report.srm.pValue)}: observed split ${observed} does not match ${configured} — results can't be trusted until the routing is fixed`;
}
