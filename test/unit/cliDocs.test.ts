import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cliReference } from '../../tools/cliDocs';

describe('docs/cli.md', () => {
  it('is the CLI reference generated from the command table (run node --import tsx tools/cliDocs.ts)', () => {
    assert.equal(readFileSync('docs/cli.md', 'utf8'), cliReference());
  });
});
