import assert from 'node:assert/strict';
import { RUNS_KEY, configKey, configText } from '../../src/router/kube';
import { newRunId, parseRuns } from '../../src/router/runsTruth';

// The ConfigMap's `runs.json` (src/router/runsTruth.ts): each experiment's current run, beside the config.
describe('runs in the ConfigMap: the runs.json key', () => {
  it('reads each experiment’s run, and reads none from a missing key', () => {
    const text = JSON.stringify({
      propensity: { id: '20261207T010203-a1b2c3', reason: 'deploy', startedAt: 1_796_000_000_000 },
      churn: { id: '20261207T010204-d4e5f6', startedAt: 1_796_000_001_000 },
    });
    assert.deepEqual(parseRuns(text), {
      propensity: { id: '20261207T010203-a1b2c3', reason: 'deploy', startedAt: 1_796_000_000_000 },
      churn: { id: '20261207T010204-d4e5f6', startedAt: 1_796_000_001_000 },
    });
    assert.deepEqual(parseRuns(undefined), {});
  });

  it('refuses a broken value, saying to delete the key', () => {
    for (const [text, why] of [
      ['{', /not JSON/],
      ['[]', /not an object/],
      ['{"propensity": {"id": "r 1", "startedAt": 1}}', /run of "propensity"/],
      ['{"propensity": {"id": "r1"}}', /run of "propensity"/],
    ] as const)
      assert.throws(
        () => parseRuns(text),
        (err: Error) => why.test(err.message) && /delete the key/.test(err.message),
        text,
      );
  });

  it('is never taken for the config, like the rollout state', () => {
    const data = { 'config.yaml': 'experiments: []\n', [RUNS_KEY]: '{}', 'rollout-state.json': '{}' };
    assert.equal(configKey(data, undefined), 'config.yaml');
    assert.equal(configText(data, undefined, 'ConfigMap a/b'), 'experiments: []\n');
  });

  it('names a run by its start time and a random suffix', () => {
    const ts = Date.UTC(2026, 11, 7, 1, 2, 3);
    assert.match(newRunId(ts), /^20261207T010203-[0-9a-f]{6}$/);
    assert.notEqual(newRunId(ts), newRunId(ts));
  });
});
