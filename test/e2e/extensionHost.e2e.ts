// The extension-host suite (test/vscode/suite) inside code-server's extension host: the same tests
// `npm run test:vscode` runs in VS Code desktop, against the extension in this checkout (dist/).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSuite } from '../vscode/buildSuite';
import { E2ePrerequisiteError, ensureCodeServer, repoRoot } from './codeServer';
import { runExtensionTestsInCodeServer } from './extensionHost';

describe('extension-host suite inside code-server', function () {
  it('passes test/vscode/suite', async function () {
    this.timeout(20 * 60_000); // includes a cold install of code-server
    const install = ensureCodeServer();
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
      throw new E2ePrerequisiteError('dist/extension.js is missing: run npm run build first');
    }
    const extensionTestsPath = await buildSuite(repoRoot);
    const lines: string[] = [];
    const result = await runExtensionTestsInCodeServer({
      install,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      timeoutMs: 5 * 60_000,
      onLog: (line) => lines.push(line),
    });
    const report = lines.join('\n');
    // The suite's own lines (what passed, what failed and why) go to the mocha output.
    console.log(
      report
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    const summary = /vscode-suite: (\d+) passed, (\d+) failed/.exec(report);
    assert.ok(
      summary,
      `the suite printed no summary (exit ${result.exitCode}); code-server log:\n${result.serverLog.slice(-4000)}`,
    );
    assert.equal(summary[2], '0', `${summary[2] ?? '?'} extension-host test(s) failed (see above)`);
    assert.ok(Number(summary[1]) > 0, 'no extension-host test ran');
    assert.equal(result.exitCode, 0, 'the extension host reported a failure (see above)');
  });
});
