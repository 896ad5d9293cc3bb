/** Chart legends: a colour and a value per variant, and line samples that explain the strokes. */
import { h, s } from '../../dom';
import type { ColourKey } from '../../variants';
import { chip } from './variantLabel';

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

/** A line sample with what it stands for: "— p95", "- - configured". */
export function keyView(sample: Node, text: string): HTMLElement {
  return h('span', { class: 'mc-key' }, sample, text);
}
