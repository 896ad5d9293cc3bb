import assert from 'node:assert/strict';
import { mergeEvents, reportEvents, weightEvents } from '../../webview/panels/timeline/shape';
import { comparison, report } from './webviewReportFixture';

describe('webview shaping: timeline events', () => {
  it('describes weight changes as before → after, with source and reason', () => {
    const events = weightEvents(
      [
        { ts: 2, weights: { v1: 75, v2: 25 }, source: 'rollout', reason: 'step 2' },
        { ts: 1, weights: { v1: 95, v2: 5 } },
      ],
      ['v1', 'v2'],
    );
    assert.deepEqual(
      events.map((e) => [e.ts, e.text, e.reason]),
      [
        [1, 'split v1 95% · v2 5%', undefined],
        [2, 'v1 95% · v2 5% → v1 75% · v2 25%', 'rollout: step 2'],
      ],
    );
  });

  it('notices decision changes, SRM and guardrail breaches between two reports', () => {
    const before = report();
    const after = report({
      srm: { chi2: 20, pValue: 0.0001, mismatch: true },
      comparisons: [comparison({ decision: 'rollback', reason: 'guardrail errorRate breached' })],
      guardrails: [
        { name: 'latencyP95Ms', variant: 'v2', value: 22.4, limit: 50, ok: true },
        { name: 'errorRate', variant: 'v2', value: 0.02, limit: 0.01, ok: false },
      ],
    });
    const events = reportEvents(before, after, 99);
    assert.deepEqual(
      events.map((e) => [e.kind, e.text]),
      [
        ['decision', 'v2: continue → rollback'],
        ['srm', 'sample-ratio mismatch detected'],
        ['guardrail', 'v2: guardrail breached'],
      ],
    );
    assert.equal(events[2]?.reason, 'error rate 2% is over the 1% guardrail');
    assert.deepEqual(reportEvents(undefined, after, 99), []);
    assert.equal(mergeEvents(events, events).length, 3);
  });
});
