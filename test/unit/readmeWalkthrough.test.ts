import assert from 'node:assert/strict';
import { matchesRun, readmeWalkthrough } from '../harness/readmeWalkthrough';

// The matcher the cluster tier uses to hold the README's kind walkthrough to what it ran.
describe("the README's kind walkthrough check", () => {
  it('finds the walkthrough: doctor to cluster delete, each a model-canary command', () => {
    const lines = readmeWalkthrough();
    assert.ok(lines.length >= 8, `${lines.length} lines`);
    assert.deepEqual(lines[0], ['doctor']);
    assert.deepEqual(lines.at(-1), ['cluster', 'delete']);
  });

  it('matches the same verb, positionals and flag values; machine-specific flag values may differ', () => {
    const shown = [
      'deploy',
      'experiments/propensity.yaml',
      '--runtime',
      'kube',
      '--context',
      'kind-model-canary',
    ];
    const ran = [
      'deploy',
      '/tmp/x/workspace/experiments/propensity.yaml',
      '--runtime',
      'kube',
      '--context',
      'kind-model-canary',
      '--port',
      '40123',
      '--workspace',
      '/tmp/x/workspace',
    ];
    assert.equal(matchesRun(shown, ran), true);
    assert.equal(
      matchesRun(
        ['cluster', 'create', '--workspace', '.'],
        ['cluster', 'create', '--workspace', '/tmp/w', '--json'],
      ),
      true,
    );
  });

  it('refuses another context, a missing flag, or another verb', () => {
    const shown = ['report', 'propensity', '--runtime', 'kube', '--context', 'kind-model-canary'];
    assert.equal(
      matchesRun(shown, ['report', 'propensity', '--runtime', 'kube', '--context', 'kind-other']),
      false,
    );
    assert.equal(matchesRun(shown, ['report', 'propensity', '--context', 'kind-model-canary']), false);
    assert.equal(matchesRun(shown, ['status', '--runtime', 'kube', '--context', 'kind-model-canary']), false);
  });
});
