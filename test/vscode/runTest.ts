// Runs the extension-host suite (test/vscode/suite) against the extension in this checkout
// (extensionDevelopmentPath = the repo root, so `npm run build` first) with a temp copy of
// sample-models as the workspace.
//
//   npm run test:vscode                    VS Code desktop via @vscode/test-electron (downloads VS Code;
//                                          VSCODE_EXECUTABLE_PATH=<code binary> uses an installed one)
//   npm run test:vscode -- --code-server   the same suite in code-server's extension host, driven by
//                                          headless Chromium (works offline; see test/e2e/extensionHost.ts)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ensureCodeServer, repoRoot, sampleModels } from '../e2e/codeServer';
import { runExtensionTestsInCodeServer } from '../e2e/extensionHost';
import { buildSuite } from './buildSuite';

async function main(): Promise<number> {
  const main = path.join(repoRoot, 'dist', 'extension.js');
  if (!fs.existsSync(main)) {
    console.error(`${main} is missing: run npm run build first.`);
    return 1;
  }
  const extensionTestsPath = await buildSuite(repoRoot);

  if (process.argv.includes('--code-server')) {
    const result = await runExtensionTestsInCodeServer({
      install: ensureCodeServer(),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      workspaceSource: sampleModels,
    });
    console.log(`extension-host tests in code-server exited with ${result.exitCode}`);
    return result.exitCode;
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-canary-vscode-'));
  const workspace = path.join(tmp, 'sample-models');
  fs.cpSync(sampleModels, workspace, { recursive: true });
  try {
    return await runTests({
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH,
      // Downloaded VS Code builds are cached outside the checkout, like code-server.
      cachePath: path.join(
        process.env.MODEL_CANARY_CACHE ?? path.join(os.homedir(), '.cache', 'model-canary'),
        'vscode-test',
      ),
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${path.join(tmp, 'user-data')}`,
        `--extensions-dir=${path.join(tmp, 'extensions')}`,
      ],
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
