// Bundles test/vscode/suite/*.ts into CommonJS files that VS Code's extension host can require.
// `vscode` is provided by the host; mocha is resolved from the checkout's node_modules, so the
// output lives inside the checkout (test-results/ is ignored by git, eslint and prettier).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';

export async function buildSuite(repoRoot: string): Promise<string> {
  const srcDir = path.join(repoRoot, 'test', 'vscode', 'suite');
  const outDir = path.join(repoRoot, 'test-results', 'vscode-suite');
  fs.rmSync(outDir, { recursive: true, force: true });
  const entryPoints = fs
    .readdirSync(srcDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(srcDir, f));
  await build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  // The checkout's package.json says "type": "module"; these bundles are CommonJS.
  fs.writeFileSync(path.join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  return path.join(outDir, 'index.js');
}
