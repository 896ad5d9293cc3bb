import assert from 'node:assert/strict';
import { rolloutEvents } from '../../webview/panels/timeline/shape';

describe('dashboard: rollout timeline', () => {
  it('turns rollout transitions into timeline events with their reasons', () => {
    const events = rolloutEvents({
      state: 'Progressing',
      baseline: 'v1',
      candidate: 'v2',
      stepIndex: 1,
      steps: [5, 25, 50, 100],
      stepStartedAt: 2,
      stepStartRequests: 10,
      awaitingApproval: false,
      approved: false,
      reason: 'collecting evidence',
      gates: [],
      history: [
        { ts: 1, from: 'Initialized', to: 'Progressing', step: 0, weight: 5, reason: 'started at 5%' },
        {
          ts: 2,
          from: 'Progressing',
          to: 'Progressing',
          step: 1,
          weight: 25,
          reason: 'step 5% passed its gates',
        },
        { ts: 3, from: 'Progressing', to: 'Paused', step: 1, weight: -1, reason: 'paused by a user' },
      ],
    });
    assert.deepEqual(
      events.map((e) => [e.kind, e.text, e.reason]),
      [
        ['rollout', 'rollout Initialized → Progressing at 5%', 'started at 5%'],
        ['rollout', 'rollout Progressing → Progressing at 25%', 'step 5% passed its gates'],
        ['rollout', 'rollout Progressing → Paused', 'paused by a user'],
      ],
    );
    assert.deepEqual(rolloutEvents(undefined), []);
  });
});
