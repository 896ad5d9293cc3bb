import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCommand } from '../../src/process/execaRunner';
import { ensureMlserverEnv } from '../../src/runtime/python';
import { SAMPLE_MODELS, toolCache } from '../harness/tools';

describe('sample workspace (sample-models/)', () => {
  it('is reproduced by train.py: identical predictions, byte-identical data files', async () => {
    // The MLServer environment pins the same scikit-learn as sample-models/requirements.txt.
    const env = await ensureMlserverEnv(runCommand, { cacheDir: toolCache() });
    const result = await runCommand(
      { command: env.python, args: [join(SAMPLE_MODELS, 'check_reproducible.py')], parse: (out) => out },
      { cwd: SAMPLE_MODELS, timeoutMs: 300_000 },
    );
    assert.equal(result.kind, 'ok', result.kind === 'failed' ? result.stdout + result.stderr : result.kind);
  });
});
