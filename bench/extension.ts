/**
 * Activation cost of dist/extension.js (target ≤ 100 ms) and its size (target ≤ 1.5 MB),
 * beside what activation would cost if the Kubernetes layer (dist/kube.js) were loaded
 * eagerly — the reason it is a separate, lazily required bundle. Each figure is the median of
 * fresh `node` processes (cold requires). `vscode` is a stand-in that answers every call: this
 * measures our module evaluation and activate(), not VS Code itself.
 * Run after `node esbuild.mjs`:  node --import tsx bench/extension.ts
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const RUNS = Number(process.env.RUNS ?? 7);

// Runs in a plain node process: a vscode stand-in, then the timed requires and activate().
const probe = (withKube: boolean): string => `
const Module = require('node:module');
const anything = new Proxy(function () {}, { get: (t, p) => (p === Symbol.iterator || p === 'then' ? undefined : anything), set: () => true, apply: () => anything, construct: () => anything });
const api = Object.fromEntries(['window','workspace','commands','languages','env','extensions','Uri','EventEmitter','TreeItem','ThemeIcon','ThemeColor','StatusBarAlignment','TreeItemCollapsibleState','ProgressLocation','ViewColumn','Position','Range','Selection','Diagnostic','DiagnosticSeverity','TextEditorRevealType','Disposable'].map((k) => [k, anything]));
const load = Module._load;
Module._load = function (r, ...a) { return r === 'vscode' ? api : load.call(this, r, ...a); };
process.on('unhandledRejection', () => {});
const t0 = performance.now();
const ext = require(${JSON.stringify(join(root, 'dist/extension.js'))});
ext.activate({ subscriptions: [], workspaceState: { get() {}, async update() {} }, globalStorageUri: { fsPath: require('node:os').tmpdir() }, extensionUri: { fsPath: ${JSON.stringify(root)} } });
${withKube ? `require(${JSON.stringify(join(root, 'dist/kube.js'))});` : ''}
process.stdout.write(String(performance.now() - t0));
process.exit(0);`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const measure = (withKube: boolean): number =>
  median(
    Array.from({ length: RUNS }, () =>
      Number(execFileSync(process.execPath, ['-e', probe(withKube)], { encoding: 'utf8' })),
    ),
  );

const lazy = measure(false);
const eager = measure(true);
const size = statSync(join(root, 'dist/extension.js')).size;
console.log(
  `dist/extension.js: ${(size / 1e6).toFixed(2)} MB   target ≤ 1.5 MB   ${size <= 1.5e6 ? 'met' : 'missed'}`,
);
console.log(
  `activation (cold require + activate, median of ${RUNS}): ${lazy.toFixed(1)} ms   target ≤ 100 ms   ${lazy <= 100 ? 'met' : 'missed'}`,
);
console.log(
  `with the Kubernetes layer loaded eagerly instead of lazily: ${eager.toFixed(1)} ms (${(eager / lazy).toFixed(1)}× the lazy activation)`,
);
