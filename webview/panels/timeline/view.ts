/** The timeline: what changed and when, newest first, each entry with its reason. */
import { h } from '../../dom';
import { clock, count } from '../../../src/shared/format';
import type { DashEvent } from './shape';

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
