import assert from 'node:assert/strict';
import { emptyUiState, restoreUiState, stateForStorage } from '../../webview/uiState';
import { report } from './webviewReportFixture';

describe('webview UI state', () => {
  it('restores what it saved and drops what it does not recognise', () => {
    const ui = {
      ...emptyUiState(),
      last: { experiment: 'propensity', environment: 'local processes', report: report() },
      feature: 'tenure',
    };
    const restored = restoreUiState(JSON.parse(JSON.stringify(ui)));
    assert.equal(restored.last?.experiment, 'propensity');
    // The extension's panel serializer reads the experiment at the top level.
    assert.equal(restored.experiment, 'propensity');
    assert.equal(stateForStorage(restored).experiment, 'propensity');
    assert.equal(restored.feature, 'tenure');
    assert.deepEqual(restoreUiState({ v: 2 }), emptyUiState());
    assert.deepEqual(restoreUiState('garbage'), emptyUiState());
    assert.equal(
      restoreUiState({ v: 1, last: { experiment: 'x', environment: 'y', report: { nope: 1 } } }).last,
      undefined,
    );
  });

  it('saves only the most recent timeline points', () => {
    const points = Array.from({ length: 2000 }, (_, i) => ({ ts: i, variants: {} }));
    const ui = {
      ...emptyUiState(),
      last: {
        experiment: 'p',
        environment: 'e',
        report: report({ timeline: { bucketMs: 1, points, weights: [] } }),
      },
    };
    const saved = stateForStorage(ui);
    assert.equal(saved.last?.report?.timeline?.points.length, 600);
    assert.equal(saved.last?.report?.timeline?.points[0]?.ts, 1400);
    assert.equal(ui.last.report.timeline?.points.length, 2000);
  });
});
