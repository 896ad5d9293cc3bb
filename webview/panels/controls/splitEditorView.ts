/**
 * The split editor: a slider per candidate, the baseline taking the rest, and Apply… once
 * the draft differs from the configured weights.
 */
import { h } from '../../dom';
import type { Report } from '../../../src/shared/report';
import { currentWeights, type ColourKey } from '../../variants';
import { controlButton } from './button';
import { sameSplit, withCandidateShare } from './shape';

export interface SplitEditorOptions {
  report: Report;
  order: string[];
  colours: Map<string, ColourKey>;
  baseline: string;
  /** The configured split in words: "v1 95% · v2 5%". */
  now: string;
  /** The draft, replaced in place while the sliders move. */
  editing: { draft: Record<string, number> };
  onApply: () => void;
  cancel: HTMLElement;
}

export function splitEditorView(o: SplitEditorOptions): Node[] {
  const { report, colours, baseline, editing } = o;
  const outputs = new Map<string, HTMLOutputElement>();
  const ranges = new Map<string, HTMLInputElement>();
  const apply = controlButton('Apply…', o.onApply, {
    disabled: sameSplit(editing.draft, currentWeights(report)),
  });
  // Update in place while dragging: re-rendering would take the slider from under the pointer.
  const sync = (): void => {
    for (const [n, out] of outputs) out.textContent = `${editing.draft[n] ?? 0}%`;
    for (const [n, r] of ranges)
      if (Number(r.value) !== editing.draft[n]) r.value = String(editing.draft[n] ?? 0);
    apply.disabled = sameSplit(editing.draft, currentWeights(report));
  };
  const rows = o.order.map((name) => {
    const out = h('output', { class: 'mc-split-value' }, `${editing.draft[name] ?? 0}%`);
    outputs.set(name, out);
    const label = h(
      'span',
      { class: 'mc-variant' },
      h('span', { class: `mc-chip mc-bg-${colours.get(name) ?? 'neutral'}` }),
      h('span', { class: 'mc-variant-name' }, name),
    );
    if (name === baseline)
      return h(
        'div',
        { class: 'mc-split-row' },
        label,
        h('span', { class: 'mc-muted mc-split-rest' }, 'baseline — gets the rest'),
        out,
      );
    const range = h('input', {
      type: 'range',
      min: 0,
      max: 100,
      step: 1,
      value: editing.draft[name] ?? 0,
      'aria-label': `weight of ${name} in percent`,
      class: `mc-range mc-accent-${colours.get(name) ?? 'neutral'}`,
    });
    ranges.set(name, range);
    range.addEventListener('input', () => {
      editing.draft = withCandidateShare(editing.draft, baseline, name, Number(range.value));
      sync();
    });
    return h('div', { class: 'mc-split-row' }, label, range, out);
  });
  return [
    h('h2', {}, 'Set split'),
    h('p', { class: 'mc-sub' }, `now ${o.now}`),
    ...rows,
    h('div', { class: 'mc-buttons' }, apply, o.cancel),
  ];
}
