import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanWorkspace } from '../../src/core/workspace/discover';
import { parseRequirements } from '../../src/core/workspace/requirements';

describe("a custom runtime's requirements.txt", () => {
  it('accepts exact pins with extras, markers and comments, and skips blank and comment lines', () => {
    const { requirements, problems } = parseRequirements(
      [
        '# the transformer',
        'tabulate==0.9.0',
        '',
        'pydantic[email] == 2.7.1  # pinned like MLServer',
        "backports.zoneinfo===0.2.1 ; python_version < '3.9'",
      ].join('\n'),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(requirements, [
      { spec: 'tabulate==0.9.0', line: 2 },
      { spec: 'pydantic[email] == 2.7.1', line: 4 },
      { spec: "backports.zoneinfo===0.2.1 ; python_version < '3.9'", line: 5 },
    ]);
  });

  it('refuses a line without an exact pin, and pip options, each at its line with the fix', () => {
    const { problems } = parseRequirements('numpy>=2\ntabulate\n-r other.txt\n');
    assert.deepEqual(
      problems.map((p) => p.line),
      [1, 2, 3],
    );
    assert.match(problems[0]!.message, /"numpy>=2" is not pinned — write it as numpy==<version>/);
    assert.match(problems[1]!.message, /"tabulate" is not pinned — write it as tabulate==<version>/);
    assert.match(problems[2]!.message, /pip options are not supported here/);
  });

  it('is found beside model-settings.json by the workspace scan, which reports its unpinned lines', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'mc-req-'));
    try {
      await mkdir(join(ws, 'step'));
      await writeFile(
        join(ws, 'step', 'model-settings.json'),
        '{"name": "step", "implementation": "step.Step"}',
      );
      await writeFile(join(ws, 'step', 'requirements.txt'), 'tabulate==0.9.0\nrequests\n');
      const scan = await scanWorkspace(ws);
      assert.equal(scan.models[0]?.requirements, join(ws, 'step', 'requirements.txt'));
      assert.deepEqual(
        scan.problems.map((p) => [p.file, p.line]),
        [[join(ws, 'step', 'requirements.txt'), 2]],
      );
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});
