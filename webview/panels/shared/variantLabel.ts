/** A variant's colour chip and its name with that colour, as every panel shows them. */
import { h } from '../../dom';
import type { ColourKey } from '../../variants';

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
