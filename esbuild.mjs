// Bundles: the extension (cjs, `vscode` external), the Kubernetes operations (loaded lazily by the
// extension), the CLI and the router (node), and the dashboard (browser).
import * as esbuild from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';

const watch = process.argv.includes('--watch');
const production = !watch;

/** @type {esbuild.BuildOptions} */
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  minify: production,
  logLevel: 'warning',
  // execa and friends are ESM; in a cjs bundle `import.meta.url` must come from the file itself.
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: ['tools/esbuild/import-meta-url.js'],
  // @datadog/sketches-js requires protobufjs only to serialise sketches, which we never do.
  external: ['protobufjs/minimal'],
  // The gRPC front's vendored .proto travels inside the bundle as text (src/router/grpc/proto.ts).
  loader: { '.proto': 'text' },
};

const builds = [
  {
    ...node,
    entryPoints: { extension: 'src/extension.ts' },
    outdir: 'dist',
    external: ['vscode', 'protobufjs/minimal'],
  },
  // What activation does not need: the operations, parsers and runtimes (src/vscode/engine.ts).
  {
    ...node,
    entryPoints: { engine: 'src/vscode/engineBundle.ts' },
    outdir: 'dist',
    external: ['vscode', 'protobufjs/minimal'],
  },
  { ...node, entryPoints: { kube: 'src/operations/kubeBundle.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli/bin.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  {
    ...node,
    entryPoints: { router: 'src/router/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  // The dashboard's stylesheet: media/dashboard.css and the parts it imports, as one file that
  // both hosts load (the router serves it beside router.js).
  {
    entryPoints: { dashboard: 'media/dashboard.css' },
    outdir: 'dist',
    bundle: true,
    minify: production,
    logLevel: 'warning',
  },
  {
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: 'linked',
    minify: production,
    logLevel: 'warning',
  },
];

await mkdir('dist', { recursive: true });
// The repository is "type": "module" (tests run as ESM); the bundles are CommonJS.
await writeFile('dist/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  const results = await Promise.all(builds.map((b) => esbuild.build({ ...b, metafile: true })));
  for (const r of results) {
    for (const [file, out] of Object.entries(r.metafile.outputs)) {
      if (!file.endsWith('.map'))
        console.log(`${file.padEnd(22)} ${(out.bytes / 1024).toFixed(0).padStart(6)} kB`);
    }
  }
  await chmod('dist/cli.js', 0o755);
  await chmod('dist/router.js', 0o755);
}
