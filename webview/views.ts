/**
 * The dashboard's sections as DOM built from view models (shape.ts): verdict, SRM banner,
 * chart legends, the A/B table with lift bars, the drift heatmap and history, prediction
 * drift and shadow agreement, and the timeline. Data only ever becomes text or attributes.
 */
import { h, s } from './dom';
import {
  DASH,
  clock,
  count,
  exact,
  interval,
  num,
  pValue,
  percent,
  plain,
  signedPercent,
  signedPoints,
} from './format';
import type { DriftSample } from '../src/shared/protocol';
import type { Report, RolloutStatus } from '../src/shared/report';
import {
  abTable,
  featureHistory,
  heatmap,
  liftPosition,
  liftTone,
  type AbRow,
  type ColourKey,
  type DashEvent,
  type Heatmap,
  type Verdict,
} from './shape';

export const chip = (colour: ColourKey): HTMLElement =>
  h('span', { class: `mc-chip mc-bg-${colour}`, 'aria-hidden': 'true' });

/** A variant's name with its colour. */
export function variantLabel(name: string, colour: ColourKey, extra?: string): HTMLElement {
  return h(
    'span',
    { class: 'mc-variant' },
    chip(colour),
    h('span', { class: 'mc-variant-name' }, name),
    extra ? h('span', { class: 'mc-muted' }, extra) : null,
  );
}

// ── verdict and banners ────────────────────────────────────────────────────────────────

export function verdictView(
  list: Verdict[],
  colours: Map<string, ColourKey>,
  action?: HTMLElement,
): HTMLElement {
  const lines = list.map((v) =>
    h(
      'div',
      { class: `mc-verdict-line mc-tone-${v.tone}`, title: v.reason ?? '' },
      v.variant ? chip(colours.get(v.variant) ?? 'neutral') : null,
      h('strong', { class: 'mc-verdict-headline' }, v.headline),
      ' — ',
      h('span', { class: 'mc-verdict-deciding' }, v.deciding),
      v.detail ? h('span', { class: 'mc-verdict-detail' }, ` · ${v.detail}`) : null,
    ),
  );
  return h(
    'section',
    { class: 'mc-verdict', 'aria-label': 'Verdict' },
    h('span', { class: 'mc-verdict-label' }, 'Verdict'),
    h('div', { class: 'mc-verdict-lines' }, ...lines, action ?? null),
  );
}

export function bannerView(kind: 'warn' | 'error' | 'info', text: string, title?: string): HTMLElement {
  const icon = kind === 'info' ? 'ℹ' : '⚠';
  return h(
    'div',
    { class: `mc-banner mc-banner-${kind}`, role: kind === 'info' ? 'status' : 'alert', title: title ?? '' },
    h('span', { class: 'mc-banner-icon', 'aria-hidden': 'true' }, icon),
    h('span', {}, text),
  );
}

// ── chart panels ───────────────────────────────────────────────────────────────────────

/** A little line sample for legends (solid, dashed, dotted; area). */
export function lineSample(dash: string | undefined, cls = 'mc-stroke-fg', area = false): SVGSVGElement {
  return s(
    'svg',
    { class: 'mc-line-sample', width: 22, height: 10, viewBox: '0 0 22 10', 'aria-hidden': 'true' },
    area
      ? s('rect', {
          x: 1,
          y: 2,
          width: 20,
          height: 7,
          class: `mc-fill-soft ${cls.replace('stroke', 'fill')}`,
        })
      : null,
    s('line', {
      x1: 1,
      y1: area ? 2 : 5,
      x2: 21,
      y2: area ? 2 : 5,
      class: cls,
      'stroke-width': 2,
      'stroke-dasharray': dash ?? null,
    }),
  );
}

export interface LegendItem {
  colour?: ColourKey;
  name: string;
  value?: string;
  title?: string;
}

export function legendView(items: LegendItem[], keys: Node[] = []): HTMLElement {
  return h(
    'div',
    { class: 'mc-legend' },
    ...items.map((i) =>
      h(
        'span',
        { class: 'mc-legend-item', title: i.title ?? '' },
        i.colour ? chip(i.colour) : null,
        h('span', { class: 'mc-variant-name' }, i.name),
        i.value ? h('span', { class: 'mc-legend-value' }, i.value) : null,
      ),
    ),
    keys.length ? h('span', { class: 'mc-legend-keys' }, ...keys) : null,
  );
}

export function keyView(sample: Node, text: string): HTMLElement {
  return h('span', { class: 'mc-key' }, sample, text);
}

// ── A/B table ──────────────────────────────────────────────────────────────────────────

const WIDTH = 170;
const HEIGHT = 18;

/** The lift bars' shared axis, for the column header: −40% · 0 · +40%. */
export function liftAxis(scale: number): SVGSVGElement {
  const x = (v: number): number => 4 + liftPosition(v, scale) * (WIDTH - 8);
  const label = (v: number, anchor: string): SVGTextElement =>
    s(
      'text',
      { x: x(v), y: 10, 'text-anchor': anchor, class: 'mc-axis-label' },
      v === 0 ? '0' : signedPercent(v, 0),
    );
  return s(
    'svg',
    { class: 'mc-liftaxis', width: WIDTH, height: 12, viewBox: `0 0 ${WIDTH} 12`, 'aria-hidden': 'true' },
    label(-scale, 'start'),
    label(0, 'middle'),
    label(scale, 'end'),
  );
}

/** The lift's 95% interval as a horizontal bar around zero (inline SVG, shared scale). */
export function liftBar(lift: number, ci: readonly number[], scale: number): SVGSVGElement {
  const x = (v: number): number => 4 + liftPosition(v, scale) * (WIDTH - 8);
  const lo = num(ci[0]);
  const hi = num(ci[1]);
  const tone = liftTone([lo, hi]);
  const svg = s('svg', {
    class: 'mc-liftbar',
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': `lift ${signedPercent(lift)}, 95% interval ${interval([lo, hi])}`,
  });
  svg.appendChild(s('line', { x1: 4, y1: HEIGHT / 2, x2: WIDTH - 4, y2: HEIGHT / 2, class: 'mc-axis' }));
  svg.appendChild(s('line', { x1: x(0), y1: 1, x2: x(0), y2: HEIGHT - 1, class: 'mc-zero' }));
  if (Number.isFinite(lo) && Number.isFinite(hi)) {
    const x0 = x(lo);
    const x1 = x(hi);
    svg.appendChild(
      s('rect', {
        x: x0,
        y: 5,
        width: Math.max(1.5, x1 - x0),
        height: HEIGHT - 10,
        rx: 2,
        class: `mc-ci mc-ci-${tone}`,
      }),
    );
    if (lo < -scale)
      svg.appendChild(s('path', { d: `M4 ${HEIGHT / 2} l5 -4 v8 z`, class: `mc-ci-${tone} mc-ci-arrow` }));
    if (hi > scale)
      svg.appendChild(
        s('path', { d: `M${WIDTH - 4} ${HEIGHT / 2} l-5 -4 v8 z`, class: `mc-ci-${tone} mc-ci-arrow` }),
      );
  }
  if (Number.isFinite(lift))
    svg.appendChild(
      s('circle', { cx: x(lift), cy: HEIGHT / 2, r: 3.2, class: `mc-ci-point mc-ci-point-${tone}` }),
    );
  return svg;
}

function cell(text: string, title?: string, cls = 'mc-num'): HTMLTableCellElement {
  return h('td', { class: cls, title: title ?? '' }, text);
}

function decisionBadge(decision: string): HTMLElement {
  return h('span', { class: `mc-badge mc-decision-${decision}` }, decision);
}

function abRowView(row: AbRow, scale: number, proportion: boolean): HTMLTableRowElement {
  const c = row.comparison;
  const rateText = proportion ? percent(row.rate) : plain(row.rate);
  const name = h(
    'td',
    { class: 'mc-cell-variant' },
    variantLabel(row.variant, row.colour),
    row.role === 'baseline' ? h('span', { class: 'mc-tag' }, 'baseline') : null,
    row.model !== undefined ? h('div', { class: 'mc-model mc-muted', title: row.model }, row.model) : null,
  );
  const tr = h(
    'tr',
    { class: row.role === 'baseline' ? 'mc-row-baseline' : '' },
    name,
    cell(count(row.requests), exact(row.requests)),
    cell(count(row.conversions), `${exact(row.conversions)} (${count(row.feedback)} outcomes received)`),
    cell(rateText, exact(row.rate)),
  );
  if (!c) {
    tr.append(
      h(
        'td',
        { class: 'mc-cell-lift mc-muted' },
        row.role === 'baseline' ? 'reference' : 'no comparison yet',
      ),
      cell(DASH),
      cell(DASH),
      cell(DASH),
      h('td', { class: 'mc-cell-decision' }),
    );
    return tr;
  }
  const liftTitle = `relative lift ${exact(c.relativeLift)}, 95% CI [${exact(c.relativeCi95[0])}, ${exact(c.relativeCi95[1])}] (log risk ratio)\nabsolute lift ${signedPoints(c.absoluteLift)} ${interval(c.ci95, signedPoints)} (Newcombe) — exact ${exact(c.absoluteLift)} [${exact(c.ci95[0])}, ${exact(c.ci95[1])}]`;
  tr.append(
    h(
      'td',
      { class: 'mc-cell-lift', title: liftTitle },
      liftBar(num(c.relativeLift), [num(c.relativeCi95[0]), num(c.relativeCi95[1])], scale),
      h('span', { class: `mc-lift-text mc-text-${liftTone(c.relativeCi95)}` }, signedPercent(c.relativeLift)),
      h('span', { class: 'mc-muted mc-lift-ci' }, ` ${interval(c.relativeCi95)}`),
    ),
    cell(pValue(c.pValue), `two-sided z-test p = ${exact(c.pValue)}`),
    cell(pValue(c.sequentialPValue), `always-valid (mSPRT) p = ${exact(c.sequentialPValue)} — safe to peek`),
    cell(
      percent(c.chanceToBeatBaseline, 0),
      `P(${row.variant} beats ${c.baseline}) = ${exact(c.chanceToBeatBaseline)}`,
    ),
    h(
      'td',
      { class: 'mc-cell-decision' },
      decisionBadge(c.decision),
      h('div', { class: 'mc-reason' }, c.reason),
    ),
  );
  return tr;
}

export function abView(
  report: Report,
  models: Record<string, string>,
  emptyText: string | undefined,
): HTMLElement {
  const t = abTable(report, models);
  const metric = t.metric ?? 'the primary metric';
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'variant'),
    h('th', { scope: 'col', class: 'mc-num' }, 'requests'),
    h('th', { scope: 'col', class: 'mc-num' }, t.proportion ? 'conversions' : 'sum'),
    h('th', { scope: 'col', class: 'mc-num' }, t.proportion ? 'rate' : 'mean'),
    h(
      'th',
      { scope: 'col', class: 'mc-th-lift' },
      h('div', {}, 'lift vs baseline, 95% CI'),
      liftAxis(t.scale),
    ),
    h('th', { scope: 'col', class: 'mc-num', title: 'two-sided z-test' }, 'p-value'),
    h(
      'th',
      { scope: 'col', class: 'mc-num', title: 'mixture SPRT: stays valid when you look every few seconds' },
      'always-valid p',
    ),
    h('th', { scope: 'col', class: 'mc-num' }, 'chance to beat'),
    h('th', { scope: 'col' }, 'decision'),
  );
  const body = h('tbody', {}, ...t.rows.map((r) => abRowView(r, t.scale, t.proportion)));
  const table = h('table', { class: 'mc-table mc-ab-table' }, h('thead', {}, head), body);
  return h(
    'section',
    { class: 'mc-panel mc-ab', 'aria-label': 'A/B results' },
    h('h2', {}, `A/B on ${metric}`),
    emptyText ? h('p', { class: 'mc-empty' }, emptyText) : null,
    h('div', { class: 'mc-scroll' }, table),
  );
}

// ── drift ──────────────────────────────────────────────────────────────────────────────

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

export function predictionView(report: Report, colours: Map<string, ColourKey>): HTMLElement {
  const panel = h(
    'section',
    { class: 'mc-panel mc-prediction', 'aria-label': 'Prediction drift and shadow' },
    h('h2', {}, 'Predictions'),
  );
  const preds = report.drift?.prediction ?? [];
  if (preds.length === 0) {
    panel.append(
      h(
        'p',
        { class: 'mc-empty' },
        report.drift
          ? 'no prediction drift result yet — it needs a window of predictions per variant'
          : 'prediction drift is watched with input drift (spec.drift)',
      ),
    );
  } else {
    panel.append(
      h(
        'table',
        { class: 'mc-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'variant'),
            h('th', { scope: 'col' }, 'test'),
            h('th', { scope: 'col', class: 'mc-num' }, 'statistic'),
            h('th', { scope: 'col', class: 'mc-num' }, 'p-value'),
            h('th', { scope: 'col' }, ''),
          ),
        ),
        h(
          'tbody',
          {},
          ...preds.map((p) =>
            h(
              'tr',
              {},
              h('td', {}, variantLabel(p.variant, colours.get(p.variant) ?? 'neutral')),
              h('td', {}, p.test),
              cell(plain(p.statistic), exact(p.statistic)),
              cell(pValue(p.pValue), exact(p.pValue)),
              h(
                'td',
                {},
                p.drift
                  ? h('span', { class: 'mc-badge mc-decision-rollback' }, 'shifted')
                  : h('span', { class: 'mc-badge mc-badge-ok' }, 'stable'),
              ),
            ),
          ),
        ),
      ),
    );
  }
  const sh = report.shadow;
  const box = h('div', { class: 'mc-shadow' }, h('h3', {}, 'Shadow'));
  if (!sh)
    box.append(
      h(
        'p',
        { class: 'mc-empty' },
        'no shadow — add routing.mirror to the experiment to compare a model on live traffic without serving its answers',
      ),
    );
  else if (!(num(sh.requests) > 0))
    box.append(
      h('p', { class: 'mc-empty' }, `${sh.variant} gets a copy of the traffic; no mirrored requests yet`),
    );
  else {
    const a = num(sh.agreement);
    const W = 200;
    box.append(
      h(
        'div',
        { class: 'mc-shadow-line' },
        variantLabel(sh.variant, colours.get(sh.variant) ?? 'neutral'),
        h('span', { class: 'mc-big', title: exact(sh.agreement) }, percent(a, 1)),
        h(
          'span',
          { class: 'mc-muted' },
          ` agreement with the served prediction over ${count(sh.requests)} mirrored requests`,
        ),
      ),
      s(
        'svg',
        { class: 'mc-meter', width: W, height: 8, viewBox: `0 0 ${W} 8`, 'aria-hidden': 'true' },
        s('rect', { x: 0, y: 0, width: W, height: 8, rx: 4, class: 'mc-meter-track' }),
        s('rect', {
          x: 0,
          y: 0,
          width: Number.isFinite(a) ? Math.max(0, Math.min(1, a)) * W : 0,
          height: 8,
          rx: 4,
          class: `mc-fill-${colours.get(sh.variant) ?? 'neutral'}`,
        }),
      ),
    );
  }
  panel.append(box);
  return panel;
}

// ── timeline ───────────────────────────────────────────────────────────────────────────

const KIND_LABEL: Record<DashEvent['kind'], string> = {
  rollout: 'rollout',
  weights: 'split',
  decision: 'decision',
  srm: 'SRM',
  guardrail: 'guardrail',
  drift: 'drift',
};

export function timelineView(events: DashEvent[], limit = 30): HTMLElement {
  const panel = h(
    'section',
    { class: 'mc-panel mc-timeline', 'aria-label': 'Timeline' },
    h('h2', {}, 'Timeline'),
  );
  if (events.length === 0) {
    panel.append(
      h(
        'p',
        { class: 'mc-empty' },
        'no changes yet — weight changes, decisions, SRM and guardrail alerts appear here with their reasons',
      ),
    );
    return panel;
  }
  panel.append(
    h(
      'ol',
      { class: 'mc-events' },
      ...events.slice(0, limit).map((e) =>
        h(
          'li',
          { class: `mc-event mc-event-${e.kind}` },
          h(
            'time',
            {
              class: 'mc-event-time',
              datetime: new Date(e.ts).toISOString(),
              title: new Date(e.ts).toLocaleString(),
            },
            clock(e.ts),
          ),
          h('span', { class: `mc-badge mc-kind-${e.kind}` }, KIND_LABEL[e.kind]),
          h('span', { class: 'mc-event-text' }, e.text),
          e.reason ? h('span', { class: 'mc-event-reason' }, e.reason) : null,
        ),
      ),
    ),
  );
  if (events.length > limit)
    panel.append(h('p', { class: 'mc-muted' }, `${count(events.length - limit)} older entries not shown`));
  return panel;
}

// ── rollout ────────────────────────────────────────────────────────────────────────────

/** The progressive rollout: state, step, reason, and the gates of the last evaluation. */
export function rolloutView(rollout: RolloutStatus): HTMLElement {
  const step = rollout.stepIndex >= 0 ? rollout.steps[rollout.stepIndex] : undefined;
  const stateClass = /RolledBack|Failed/.test(rollout.state)
    ? 'mc-bad'
    : /Succeeded/.test(rollout.state)
      ? 'mc-good'
      : 'mc-neutral';
  return h(
    'section',
    { class: 'mc-panel mc-rollout', 'aria-label': 'Rollout' },
    h('h2', {}, 'Rollout'),
    h(
      'p',
      { class: 'mc-rollout-head' },
      h('span', { class: `mc-badge ${stateClass}` }, rollout.state),
      ` ${rollout.candidate} against ${rollout.baseline}`,
      step !== undefined ? ` · step ${rollout.stepIndex + 1} of ${rollout.steps.length} (${step}%)` : '',
      rollout.awaitingApproval ? ' · waiting for approval' : '',
    ),
    h('p', { class: 'mc-rollout-reason' }, rollout.reason),
    h(
      'ul',
      { class: 'mc-gates' },
      ...rollout.gates.map((g) =>
        h(
          'li',
          { class: `mc-gate ${g.ok ? 'mc-good' : 'mc-bad'}` },
          h(
            'span',
            { class: 'mc-gate-mark', 'aria-label': g.ok ? 'passed' : 'not passed' },
            g.ok ? '✓' : '✗',
          ),
          h('span', { class: 'mc-gate-name' }, g.name),
          h('span', { class: 'mc-gate-detail' }, g.detail),
        ),
      ),
    ),
  );
}
