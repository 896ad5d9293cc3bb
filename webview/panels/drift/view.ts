/**
 * The input-drift panel: the features × variants heatmap of p-values against the threshold,
 * and the p-value history of the selected (or most drifting) feature.
 */
import { h, s } from '../../dom';
import { DASH, clock, count, num, pValue } from '../../../src/shared/format';
import type { DriftSample } from '../../../src/shared/protocol';
import type { Report } from '../../../src/shared/report';
import type { ColourKey } from '../../variants';
import { legendView } from '../shared/legend';
import { variantLabel } from '../shared/variantLabel';
import { featureHistory, heatmap, type Heatmap } from './shape';
import { detectorsView } from './detectors';

export function heatmapView(
  map: Heatmap,
  colours: Map<string, ColourKey>,
  selected: string | undefined,
  onSelect: (feature: string) => void,
): HTMLElement {
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'feature'),
    ...map.variants.map((v) => h('th', { scope: 'col' }, variantLabel(v, colours.get(v) ?? 'neutral'))),
  );
  const rows = map.features.map((f, i) =>
    h(
      'tr',
      { class: f === selected ? 'mc-selected' : '' },
      h('th', { scope: 'row', class: 'mc-feature' }, f),
      ...map.variants.map((_, j) => {
        const c = map.rows[i]?.[j];
        if (!c) return h('td', { class: 'mc-heat mc-heat-none' }, DASH);
        return h(
          'td',
          { class: `mc-heat mc-heat-${c.level}`, title: c.title },
          h(
            'button',
            {
              type: 'button',
              class: 'mc-heat-button',
              'aria-label': c.title,
              'aria-pressed': f === selected ? 'true' : 'false',
              onclick: () => onSelect(f),
            },
            c.text,
          ),
        );
      }),
    ),
  );
  return h('table', { class: 'mc-table mc-heatmap' }, h('thead', {}, head), h('tbody', {}, ...rows));
}

export function heatLegend(threshold: number): HTMLElement {
  const item = (level: string, text: string): HTMLElement =>
    h('span', { class: 'mc-key' }, h('span', { class: `mc-swatch mc-heat-${level}` }), text);
  return h(
    'div',
    { class: 'mc-legend' },
    item('drift', `p < ${pValue(threshold)} drifting`),
    item('near', `< ${pValue(Math.min(1, threshold * 10))} close`),
    item('ok', 'no drift'),
  );
}

/** A feature's p-value history per variant: −log10(p) over time, threshold line drawn. */
export function historyView(
  samples: readonly DriftSample[],
  feature: string,
  threshold: number,
  colours: Map<string, ColourKey>,
): HTMLElement {
  const series = featureHistory(samples, feature);
  const W = 480;
  const H = 90;
  const pad = 4;
  const all = [...series.values()].flat();
  if (all.length < 2)
    return h(
      'p',
      { class: 'mc-empty' },
      `${feature}: the p-value history builds up while this dashboard is open (one point per report).`,
    );
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const yOf = (p: number): number => Math.min(6, -Math.log10(Math.max(p, 1e-6)));
  const yMax = Math.max(yOf(threshold) * 1.4, ...all.map((p) => yOf(p[1])), 1);
  const px = (t: number): number => pad + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * pad);
  const py = (p: number): number => H - pad - (yOf(p) / yMax) * (H - 2 * pad);
  const svg = s('svg', {
    class: 'mc-history',
    viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': `p-value history of ${feature}`,
  });
  const ty = py(threshold);
  svg.appendChild(
    s('line', {
      x1: pad,
      y1: ty,
      x2: W - pad,
      y2: ty,
      class: 'mc-threshold',
      'vector-effect': 'non-scaling-stroke',
    }),
  );
  for (const [variant, points] of series) {
    const d = points.map(([t, p], i) => `${i ? 'L' : 'M'}${px(t).toFixed(1)} ${py(p).toFixed(1)}`).join(' ');
    svg.appendChild(
      s('path', {
        d,
        class: `mc-history-line mc-stroke-${colours.get(variant) ?? 'neutral'}`,
        'vector-effect': 'non-scaling-stroke',
      }),
    );
  }
  return h(
    'div',
    { class: 'mc-history-box' },
    h(
      'div',
      { class: 'mc-history-title' },
      h('strong', {}, feature),
      ` p-value over time (higher = more drift; dashed = threshold ${pValue(threshold)}) · ${clock(t0)}–${clock(t1)}`,
    ),
    svg,
    legendView(
      [...series.keys()].map((v) => ({
        colour: colours.get(v) ?? 'neutral',
        name: v,
        value: pValue(series.get(v)?.at(-1)?.[1]),
      })),
    ),
  );
}

export function driftView(
  report: Report,
  samples: readonly DriftSample[],
  colours: Map<string, ColourKey>,
  order: string[],
  selected: string | undefined,
  onSelect: (f: string) => void,
): HTMLElement {
  const d = report.drift;
  const panel = h('section', { class: 'mc-panel mc-drift', 'aria-label': 'Input drift' });
  if (!d) {
    panel.append(
      h('h2', {}, 'Input drift'),
      h(
        'p',
        { class: 'mc-empty' },
        'drift is not watched for this experiment — add spec.drift with a reference dataset (e.g. data/reference.csv) to the experiment file',
      ),
    );
    return panel;
  }
  panel.append(
    h(
      'h2',
      {},
      'Input drift',
      d.features.length === 0
        ? null
        : d.datasetDrift
          ? h('span', { class: 'mc-badge mc-decision-rollback' }, 'drift')
          : h('span', { class: 'mc-badge mc-badge-ok' }, 'stable'),
    ),
    h(
      'p',
      { class: 'mc-sub' },
      `per-feature p-value vs threshold ${pValue(d.threshold)} (${d.correction === 'bonferroni' ? 'Bonferroni' : 'Benjamini–Hochberg'}) · window ${count(d.window)} · reference ${d.reference}`,
    ),
  );
  if (d.detectors) panel.append(detectorsView(d.detectors));
  if (d.features.length === 0) {
    panel.append(
      h(
        'p',
        { class: 'mc-empty' },
        `no drift results yet — each variant needs requests in its window (${count(d.window)}) before the tests run`,
      ),
    );
    return panel;
  }
  const map = heatmap(d, order);
  const pick =
    selected && map.features.includes(selected)
      ? selected
      : (d.features.filter((f) => f.drift).sort((a, b) => num(a.pValue) - num(b.pValue))[0]?.name ??
        map.features[0]);
  panel.append(
    h('div', { class: 'mc-scroll' }, heatmapView(map, colours, pick, onSelect)),
    heatLegend(map.threshold),
  );
  if (pick) panel.append(historyView(samples, pick, map.threshold, colours));
  return panel;
}
