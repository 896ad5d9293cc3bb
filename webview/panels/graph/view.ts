/**
 * The graphs panel: each graph variant's steps drawn in the order the tensors flow — one column
 * per wave (steps that run side by side share one), arrows between — each step with its own
 * latency and errors, the slowest marked, so a slow pre-processor shows at a glance.
 */
import { h } from '../../dom';
import type { Report } from '../../../src/shared/report';
import { slowestStep, stepSummary, stepWaves, type ReportStep } from '../../../src/shared/graphSteps';
import type { ColourKey } from '../../variants';
import { variantLabel } from '../shared/variantLabel';

/** The variants with steps; nothing (and no panel) when no variant is a graph. */
export function graphVariants(report: Report): { name: string; steps: ReportStep[] }[] {
  return report.variants.flatMap((v) => (v.steps?.length ? [{ name: v.name, steps: v.steps }] : []));
}

export function graphView(report: Report, colours: ReadonlyMap<string, ColourKey>): HTMLElement | undefined {
  const graphs = graphVariants(report);
  if (graphs.length === 0) return undefined;
  return h(
    'section',
    { class: 'mc-panel mc-graphs', 'aria-label': 'Graphs' },
    h('h2', {}, 'Graphs: steps and their latency'),
    ...graphs.map(({ name, steps }) => {
      const slowest = slowestStep(steps);
      const waves = stepWaves(steps);
      const flow: HTMLElement[] = [];
      waves.forEach((wave, i) => {
        if (i > 0) flow.push(h('span', { class: 'mc-graph-arrow', 'aria-hidden': 'true' }, '→'));
        flow.push(
          h(
            'div',
            { class: 'mc-graph-wave' },
            ...wave.map((step) =>
              h(
                'div',
                {
                  class: `mc-graph-step${step.name === slowest ? ' mc-graph-slowest' : ''}${step.errors > 0 ? ' mc-graph-failing' : ''}`,
                  title: step.after?.length ? `reads ${step.after.join(', ')}` : 'reads the request',
                },
                h('span', { class: 'mc-graph-step-name' }, step.name),
                h('span', { class: 'mc-graph-step-figures' }, stepSummary(step)),
                step.name === slowest ? h('span', { class: 'mc-graph-step-note' }, 'slowest step') : null,
              ),
            ),
          ),
        );
      });
      return h(
        'div',
        { class: 'mc-graph' },
        h('h3', {}, variantLabel(name, colours.get(name) ?? 'neutral')),
        h('div', { class: 'mc-graph-flow' }, ...flow),
      );
    }),
  );
}
