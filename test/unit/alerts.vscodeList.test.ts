import assert from 'node:assert/strict';
import type { RolloutStatus } from '../../src/shared/report';
import { alertsSummary, currentAlerts } from '../../src/vscode/alertList';
import { report } from './webviewReportFixture';

function rollout(history: RolloutStatus['history']): RolloutStatus {
  return {
    state: history.at(-1)?.to ?? 'Initialized',
    baseline: 'v1',
    candidate: 'v2',
    stepIndex: 0,
    steps: [5, 50, 100],
    stepStartedAt: 0,
    stepStartRequests: 0,
    awaitingApproval: false,
    approved: false,
    reason: '',
    gates: [],
    history,
  };
}

describe("the Experiments tree's alert list (what VS Code shows under a live experiment)", () => {
  it('lists nothing for a healthy report', () => {
    assert.deepEqual(currentAlerts(report()), []);
    assert.equal(alertsSummary([]), '');
  });

  it('lists current breaches worst first, and the rollout only when its last transition went bad', () => {
    const r = report({
      srm: { chi2: 40, pValue: 1e-9, mismatch: true },
      guardrails: [{ name: 'errorRate', variant: 'v2', value: 0.3, limit: 0.01, ok: false }],
      drift: {
        datasetDrift: true,
        features: [
          { name: 'age', variant: 'v2', test: 'ks', statistic: 0.4, pValue: 1e-7, drift: true },
          { name: 'region', variant: 'v2', test: 'chi2', statistic: 1, pValue: 0.4, drift: false },
        ],
        prediction: [],
      } as never,
      rollout: rollout([
        { ts: 1, from: 'Initialized', to: 'Progressing', step: 0, weight: 5, reason: 'started' },
        {
          ts: 2,
          from: 'Progressing',
          to: 'RolledBack',
          step: 0,
          weight: 0,
          reason: 'errorRate over its limit',
        },
      ]),
    });
    const list = currentAlerts(r);
    assert.deepEqual(
      list.map((a) => [a.severity, a.key]),
      [
        ['error', 'guardrail:errorRate:v2'],
        ['error', 'srm'],
        ['error', 'rollout:2:RolledBack:0'],
        ['warning', 'drift:age:v2'],
      ],
    );
    assert.equal(alertsSummary(list), '3 errors · 1 warning');
    // A rollout that is just stepping forward is history, not a problem.
    const stepping = report({
      rollout: rollout([
        { ts: 1, from: 'Initialized', to: 'Progressing', step: 0, weight: 5, reason: 'started' },
      ]),
    });
    assert.deepEqual(currentAlerts(stepping), []);
  });
});
