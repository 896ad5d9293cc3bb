import { h } from '../../dom';

/** A table cell with its exact value in the tooltip; numbers right-aligned by default. */
export function tableCell(text: string, title?: string, cls = 'mc-num'): HTMLTableCellElement {
  return h('td', { class: cls, title: title ?? '' }, text);
}
