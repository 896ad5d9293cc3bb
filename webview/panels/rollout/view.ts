import { h } from '../../dom';
import type { RolloutStatus } from '../../../src/shared/report';

/** The progressive rollout: state, step, reason, and the gates of the last evaluation. */
export function rolloutView(rollout: RolloutStatus): HTMLElement {
  const step = rollout.stepIndex >= 0 ? rollout.steps[rollout.stepIndex] : undefined;
  const stateClass = /RolledBack|Failed/.test(rollout.state)
    ? 'mc-bad'
    : /Succeeded/.test(rollout.state)
      ? 'mc-good'
      : 'mc-neutral';
  return h(
    'section',
    { class: 'mc-panel mc-rollout', 'aria-label': 'Rollout' },
    h('h2', {}, 'Rollout'),
    h(
      'p',
      { class: 'mc-rollout-head' },
      h('span', { class: `mc-badge ${stateClass}` }, rollout.state),
      ` ${rollout.candidate} against ${rollout.baseline}`,
      step !== undefined ? ` · step ${rollout.stepIndex + 1} of ${rollout.steps.length} (${step}%)` : '',
      rollout.awaitingApproval ? ' · waiting for approval' : '',
    ),
    h('p', { class: 'mc-rollout-reason' }, rollout.reason),
    h(
      'ul',
      { class: 'mc-gates' },
      ...rollout.gates.map((g) =>
        h(
          'li',
          { class: `mc-gate ${g.ok ? 'mc-good' : 'mc-bad'}` },
          h(
            'span',
            { class: 'mc-gate-mark', 'aria-label': g.ok ? 'passed' : 'not passed' },
            g.ok ? '✓' : '✗',
          ),
          h('span', { class: 'mc-gate-name' }, g.name),
          h('span', { class: 'mc-gate-detail' }, g.detail),
        ),
      ),
    ),
  );
}
