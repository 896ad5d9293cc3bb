/**
 * Activation cost of dist/extension.js (target ≤ 50 ms, issue #20) and its size, then the first
 * paint of the trees: activation, the engine (dist/engine.js, src/vscode/engine.ts) loaded and
 * the sample workspace scanned — what the views wait for. Beside them, what activation would
 * cost if the engine or the Kubernetes layer (dist/kube.js) were loaded eagerly — the reason
 * both are separate, lazily required bundles. Each figure is the median of fresh `node`
 * processes (cold requires). `vscode` is a stand-in that answers every call: this measures our
 * module evaluation and activate(), not VS Code itself.
 * Run after `node esbuild.mjs`:  node --import tsx bench/extension.ts
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { record } from './lib/figures';

const root = join(import.meta.dirname, '..');
const RUNS = Number(process.env.RUNS ?? 7);

// Runs in a plain node process: a vscode stand-in, then the timed requires and activate().
type Mode = 'activate' | 'firstPaint' | 'eagerEngine' | 'eagerKube';
const probe = (mode: Mode): string => `
const Module = require('node:module');
const anything = new Proxy(function () {}, { get: (t, p) => (p === Symbol.iterator || p === 'then' ? undefined : anything), set: () => true, apply: () => anything, construct: () => anything });
const api = Object.fromEntries(['window','workspace','commands','languages','env','extensions','Uri','EventEmitter','TreeItem','ThemeIcon','ThemeColor','StatusBarAlignment','TreeItemCollapsibleState','ProgressLocation','ViewColumn','Position','Range','Selection','Diagnostic','DiagnosticSeverity','TextEditorRevealType','Disposable'].map((k) => [k, anything]));
const load = Module._load;
Module._load = function (r, ...a) { return r === 'vscode' ? api : load.call(this, r, ...a); };
process.on('unhandledRejection', () => {});
const t0 = performance.now();
const ext = require(${JSON.stringify(join(root, 'dist/extension.js'))});
ext.activate({ subscriptions: [], workspaceState: { get() {}, async update() {} }, globalStorageUri: { fsPath: require('node:os').tmpdir() }, extensionUri: { fsPath: ${JSON.stringify(root)} } });
${mode === 'eagerKube' ? `require(${JSON.stringify(join(root, 'dist/kube.js'))});` : ''}
${mode === 'eagerEngine' ? `require(${JSON.stringify(join(root, 'dist/engine.js'))});` : ''}
${
  mode === 'firstPaint'
    ? `require(${JSON.stringify(join(root, 'dist/engine.js'))}).scanWorkspace(${JSON.stringify(join(root, 'sample-models'))}).then((scan) => {
  if (scan.experiments.length === 0) throw new Error('the sample workspace has no experiments');
  process.stdout.write(String(performance.now() - t0));
  process.exit(0);
});`
    : `process.stdout.write(String(performance.now() - t0));
process.exit(0);`
}`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const measure = (mode: Mode): number =>
  median(
    Array.from({ length: RUNS }, () =>
      Number(execFileSync(process.execPath, ['-e', probe(mode)], { encoding: 'utf8' })),
    ),
  );

const lazy = measure('activate');
const firstPaint = measure('firstPaint');
const eagerEngine = measure('eagerEngine');
const eagerKube = measure('eagerKube');
const size = statSync(join(root, 'dist/extension.js')).size;
console.log(
  `dist/extension.js: ${(size / 1e6).toFixed(2)} MB (dist/engine.js, loaded on first use: ${(statSync(join(root, 'dist/engine.js')).size / 1e6).toFixed(2)} MB)`,
);
console.log(
  `activation (cold require + activate, median of ${RUNS}): ${lazy.toFixed(1)} ms   target ≤ 50 ms   ${lazy <= 50 ? 'met' : 'missed'}`,
);
console.log(
  `first paint of the trees (activation, the engine loaded, the sample workspace scanned): ${firstPaint.toFixed(1)} ms`,
);
console.log(
  `with the engine loaded eagerly instead of lazily: ${eagerEngine.toFixed(1)} ms (${(eagerEngine / lazy).toFixed(1)}× the lazy activation)`,
);
console.log(
  `with the Kubernetes layer loaded eagerly: ${eagerKube.toFixed(1)} ms (${(eagerKube / lazy).toFixed(1)}× the lazy activation)`,
);
record({
  id: 'extension.activation',
  label: 'activation',
  value: lazy,
  unit: 'ms',
  better: 'lower',
  ratio: false,
  target: 50,
});
record({
  id: 'extension.firstPaint',
  label: 'first paint of the trees',
  value: firstPaint,
  unit: 'ms',
  better: 'lower',
  ratio: false,
});
// A static import of something heavy into the activation bundle moves this towards 1.
record({
  id: 'extension.lazyVsEager',
  label: 'activation ÷ activation with the engine loaded eagerly',
  value: lazy / eagerEngine,
  unit: '×',
  better: 'lower',
  ratio: true,
});
// Deterministic, so a tight bound: a static import of the schemas, the operations or a runtime
// into the activation bundle (zod alone is 450 kB) shows here at once.
record({
  id: 'extension.sizeVsEngine',
  label: 'dist/extension.js ÷ dist/engine.js, in bytes',
  value: size / statSync(join(root, 'dist/engine.js')).size,
  unit: '×',
  better: 'lower',
  ratio: true,
});
