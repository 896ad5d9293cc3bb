/**
 * Model metrics from labels, under the predictions: per variant with 95% intervals, each
 * candidate's difference to the baseline, and the model guardrails' state. Text only
 * (src/shared/modelMetricsFormat.ts makes the same table for the CLI).
 */
import { h } from '../../dom';
import { modelMetricsTable } from '../../../src/shared/modelMetricsFormat';
import type { Report } from '../../../src/shared/report';
import type { ColourKey } from '../../variants';
import { tableCell } from '../shared/tableCell';
import { variantLabel } from '../shared/variantLabel';

export function modelMetricsView(report: Report, colours: Map<string, ColourKey>): HTMLElement {
  const box = h('div', { class: 'mc-model-metrics' }, h('h3', {}, 'Model metrics'));
  const m = report.modelMetrics;
  if (!m) {
    box.append(
      h(
        'p',
        { class: 'mc-empty' },
        'no model metrics — add spec.metrics.model to the experiment and post labels to score each variant’s predictions',
      ),
    );
    return box;
  }
  const t = modelMetricsTable(m);
  box.append(
    h(
      'div',
      { class: 'mc-scroll' },
      h(
        'table',
        { class: 'mc-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...t.header.map((name, i) => h('th', { scope: 'col', class: i === 0 ? '' : 'mc-num' }, name)),
          ),
        ),
        h(
          'tbody',
          {},
          ...t.rows.map((r) =>
            h(
              'tr',
              {},
              h('td', {}, variantLabel(r.variant, colours.get(r.variant) ?? 'neutral')),
              ...r.cells.map((c) => tableCell(c.text, c.title)),
            ),
          ),
        ),
      ),
    ),
  );
  const guardrails = report.guardrails.filter((g) => g.name.startsWith('model.'));
  for (const line of [...t.differences, ...guardrails.map((g) => g.detail ?? g.name), ...t.notes])
    box.append(h('p', { class: 'mc-muted' }, line));
  return box;
}
