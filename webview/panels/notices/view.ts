/**
 * Banners above the verdict: the transport's error, the host's notice, the SRM warning
 * when the observed split does not match the weights, the unit of analysis with a sticky key,
 * matured against pending units under an attribution window, and latency guardrails that an
 * arm exceeds only because it carries several times another's load.
 */
import { h } from '../../dom';
import type { Report } from '../../../src/shared/report';
import { attributionText, excludedText, unitsText } from '../../../src/shared/format';
import { srmBanner } from './shape';

export function bannerView(kind: 'warn' | 'error' | 'info', text: string, title?: string): HTMLElement {
  const icon = kind === 'info' ? 'ℹ' : '⚠';
  return h(
    'div',
    { class: `mc-banner mc-banner-${kind}`, role: kind === 'info' ? 'status' : 'alert', title: title ?? '' },
    h('span', { class: 'mc-banner-icon', 'aria-hidden': 'true' }, icon),
    h('span', {}, text),
  );
}

/** The error from the transport, and the host's notice once there is a report to show it over. */
export function noticeBanners(
  error: string | undefined,
  notice: string | undefined,
  hasReport: boolean,
): HTMLElement[] {
  const items: HTMLElement[] = [];
  if (error) items.push(bannerView('error', error));
  if (notice && hasReport) items.push(bannerView('info', notice));
  return items;
}

/** The sample-ratio-mismatch warning (or nothing while the split matches), and the traffic left out of the experiment. */
export function srmBannerView(report: Report): HTMLElement[] {
  const srm = srmBanner(report);
  const excluded = excludedText(report.excluded);
  // Users as the unit (a sticky key): say so, and warn when a user was seen in two arms at the same weights.
  const units = report.units?.unit === 'user' ? unitsText(report) : '';
  const attribution = report.attribution?.rule === 'window' ? attributionText(report) : '';
  return [
    ...(srm ? [bannerView('warn', srm, `chi² = ${report.srm.chi2}, p = ${report.srm.pValue}`)] : []),
    ...(units ? [bannerView(report.units!.unexplainedCrossovers > 0 ? 'warn' : 'info', units)] : []),
    ...(attribution ? [bannerView('info', attribution)] : []),
    ...(excluded ? [bannerView('info', excluded)] : []),
    ...report.guardrails
      .filter((g) => g.confounded)
      .map((g) => bannerView('info', `Latency not compared: ${g.confounded}`)),
  ];
}
