/** The verdict at the top of the dashboard: one line per candidate, coloured by its tone. */
import { custom, h } from '../../dom';
import type { ColourKey } from '../../variants';
import { chip } from '../shared/variantLabel';
import type { VscodeButton } from '../shared/vscodeElements';
import type { Verdict } from './shape';

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

/** Simulate Traffic beside a verdict that waits for traffic (VS Code only). */
export function simulateTrafficButton(onclick: () => void): HTMLElement {
  return custom<VscodeButton>(
    'vscode-button',
    { secondary: true, class: 'mc-inline-button', onclick },
    'Simulate Traffic',
  );
}
