/**
 * The predictions panel: prediction drift per variant, how often the shadow agrees with the
 * prediction that was served, and the model metrics from labels (./modelMetrics.ts).
 */
import { h, s } from '../../dom';
import { count, exact, num, pValue, percent, plain } from '../../../src/shared/format';
import type { Report } from '../../../src/shared/report';
import type { ColourKey } from '../../variants';
import { tableCell } from '../shared/tableCell';
import { modelMetricsView } from './modelMetrics';
import { variantLabel } from '../shared/variantLabel';

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
              tableCell(plain(p.statistic), exact(p.statistic)),
              tableCell(pValue(p.pValue), exact(p.pValue)),
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
  panel.append(shadowView(report, colours), modelMetricsView(report, colours));
  return panel;
}

/** The shadow's agreement with the served prediction, as a number and a meter. */
function shadowView(report: Report, colours: Map<string, ColourKey>): HTMLElement {
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
  return box;
}
