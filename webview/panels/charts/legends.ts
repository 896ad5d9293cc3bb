/**
 * The legends of the traffic, latency and error-rate charts: per variant the number that
 * matters (observed share, p95, error rate), and what each stroke means.
 */
import type { Report } from '../../../src/shared/report';
import type { Guardrails } from '../../charts';
import { count, ms, percent, plain, shares, shortPercent, splitNumber } from '../../../src/shared/format';
import { currentWeights, type ColourKey } from '../../variants';
import { keyView, legendView, lineSample } from '../shared/legend';

export interface ChartLegends {
  traffic: HTMLElement;
  latency: HTMLElement;
  errors: HTMLElement;
}

/** Builds each legend on demand, so only the ones whose key changed are rebuilt. */
export function chartLegends(
  report: Report,
  colours: Map<string, ColourKey>,
  order: string[],
  guardrails: Guardrails,
): { [K in keyof ChartLegends]: () => ChartLegends[K] } {
  const weights = shares(currentWeights(report));
  const byName = new Map(report.variants.map((v) => [v.name, v]));
  const colourOf = (n: string): ColourKey => colours.get(n) ?? 'neutral';
  return {
    traffic: () =>
      legendView(
        order.map((n) => ({
          colour: colourOf(n),
          name: n,
          value: `${percent(byName.get(n)?.observedShare, 1)} of ${splitNumber(weights[n] ?? 0)}%`,
          title: `${n}: observed share ${String(byName.get(n)?.observedShare)} of the requests; configured weight ${String(byName.get(n)?.weight)}`,
        })),
        [
          keyView(lineSample(undefined, 'mc-stroke-fg', true), 'observed'),
          keyView(lineSample('4 3'), 'configured'),
        ],
      ),
    latency: () =>
      legendView(
        order.map((n) => {
          const l = byName.get(n)?.latencyMs;
          return {
            colour: colourOf(n),
            name: n,
            value: `p95 ${ms(l?.p95)}`,
            title: `${n}: p50 ${ms(l?.p50)} · p95 ${ms(l?.p95)} · p99 ${ms(l?.p99)} (whole experiment)`,
          };
        }),
        [
          keyView(lineSample(undefined), 'p95'),
          keyView(lineSample(undefined, 'mc-stroke-fg mc-thin', true), 'p50–p99'),
          ...(guardrails.latencyP95Ms !== undefined
            ? [keyView(lineSample('6 4', 'mc-stroke-red'), `guardrail ${plain(guardrails.latencyP95Ms)} ms`)]
            : []),
        ],
      ),
    errors: () =>
      legendView(
        order.map((n) => {
          const v = byName.get(n);
          return {
            colour: colourOf(n),
            name: n,
            value: percent(v?.errorRate),
            title: `${n}: ${count(v?.errors)} errors in ${count(v?.requests)} requests`,
          };
        }),
        guardrails.errorRate !== undefined
          ? [keyView(lineSample('6 4', 'mc-stroke-red'), `guardrail ${shortPercent(guardrails.errorRate)}`)]
          : [],
      ),
  };
}
