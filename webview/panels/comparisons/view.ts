/**
 * The A/B table: per variant its requests, conversions and rate, and per candidate the lift
 * with its 95% interval as a bar on an axis all rows share, the p-values and the decision.
 */
import { h, s } from '../../dom';
import {
  DASH,
  count,
  exact,
  interval,
  num,
  pValue,
  percent,
  plain,
  signedPercent,
  signedPoints,
} from '../../../src/shared/format';
import { reportPlanLine } from '../../../src/shared/planText';
import type { Report } from '../../../src/shared/report';
import { tableCell } from '../shared/tableCell';
import { variantLabel } from '../shared/variantLabel';
import { abTable, liftPosition, liftTone, type AbRow } from './shape';

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

function decisionBadge(decision: string): HTMLElement {
  return h('span', { class: `mc-badge mc-decision-${decision}` }, decision);
}

/** The requests of a row, and by protocol once any came over gRPC. */
function requestsCell(row: AbRow): HTMLTableCellElement {
  const http = row.requests - row.grpcRequests;
  if (!(row.grpcRequests > 0)) return tableCell(count(row.requests), `${exact(row.requests)}, all over HTTP`);
  const cell = tableCell(
    count(row.requests),
    `${exact(row.requests)}: ${exact(http)} over HTTP, ${exact(row.grpcRequests)} over gRPC`,
  );
  cell.append(
    h('div', { class: 'mc-muted mc-protocols' }, `HTTP ${count(http)} · gRPC ${count(row.grpcRequests)}`),
  );
  return cell;
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
    requestsCell(row),
    tableCell(count(row.conversions), `${exact(row.conversions)} (${count(row.feedback)} outcomes received)`),
    tableCell(rateText, exact(row.rate)),
  );
  if (!c) {
    tr.append(
      h(
        'td',
        { class: 'mc-cell-lift mc-muted' },
        row.role === 'baseline' ? 'reference' : 'no comparison yet',
      ),
      tableCell(DASH),
      tableCell(DASH),
      tableCell(DASH),
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
    tableCell(pValue(c.pValue), `two-sided z-test p = ${exact(c.pValue)}`),
    tableCell(
      pValue(c.sequentialPValue),
      `always-valid (mSPRT) p = ${exact(c.sequentialPValue)} — safe to peek` +
        (c.sequentialCi
          ? `\nalways-valid ${percent(1 - (c.sequentialAlpha ?? 0.05), 0)} confidence sequence of the absolute lift ${interval(c.sequentialCi, signedPoints)} — exact [${exact(c.sequentialCi[0])}, ${exact(c.sequentialCi[1])}]`
          : ''),
    ),
    tableCell(
      percent(c.chanceToBeatBaseline, 0),
      `P(${row.variant} beats ${c.baseline}) = ${exact(c.chanceToBeatBaseline)}`,
    ),
    h(
      'td',
      { class: 'mc-cell-decision' },
      decisionBadge(c.decision),
      h('div', { class: 'mc-reason' }, c.reason),
      ...(c.plan
        ? [
            h(
              'div',
              { class: 'mc-reason mc-muted' },
              reportPlanLine(c.plan, c.unit === 'user' ? 'users' : 'samples', c.timeToDecision),
            ),
          ]
        : []),
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
