// @ts-check
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers (CONTRIBUTING.md): each folder of src/ may import only from the folders listed for
 * it (and itself). shared and core at the bottom; then the parts (process, kind, manifests, kube,
 * simulator, router); then runtime; then operations; then the adapters cli and vscode.
 */
const LAYERS = {
  shared: [],
  core: ['shared'],
  process: ['shared', 'core'],
  kind: ['shared', 'core', 'process'],
  manifests: ['shared', 'core', 'kind'],
  kube: ['shared', 'core', 'process', 'manifests'],
  simulator: ['shared', 'core'],
  router: ['shared', 'core'],
  runtime: ['shared', 'core', 'process', 'kind', 'manifests', 'kube', 'simulator'],
  operations: ['shared', 'core', 'process', 'kind', 'manifests', 'kube', 'simulator', 'runtime'],
  cli: ['shared', 'core', 'process', 'kind', 'manifests', 'kube', 'simulator', 'runtime', 'operations'],
  vscode: ['shared', 'core', 'process', 'kind', 'manifests', 'kube', 'simulator', 'runtime', 'operations'],
};
const FOLDERS = Object.keys(LAYERS);
const layerZones = [
  ...FOLDERS.map((folder) => ({
    target: `./src/${folder}`,
    from: FOLDERS.filter((f) => f !== folder && !LAYERS[folder].includes(f)).map((f) => `./src/${f}`),
    message: `src/${folder} may import only from ${LAYERS[folder].join(', ') || 'itself'} (the layers in CONTRIBUTING.md)`,
  })),
  // The dashboard is browser code: of src/ it may use only the shared protocol, types and formatting.
  {
    target: './webview',
    from: './src',
    except: ['./shared'],
    message: 'webview/ is browser code: it may import only src/shared/ of src/',
  },
  { target: './src', from: './webview', message: 'src/ must not import browser code from webview/' },
];

const vscodeOnlyAtTheEdge = {
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'vscode',
          message:
            'Only src/vscode/ and src/extension.ts may import vscode at run time (type-only imports are fine).',
          allowTypeImports: true,
        },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'sample-models/**', '.model-canary/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: [
      'src/**/*.ts',
      'webview/**/*.ts',
      'test/unit/**/*.ts',
      'test/integration/**/*.ts',
      'test/cluster/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: vscodeOnlyAtTheEdge,
  },
  {
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/vscode/**/*.ts', 'src/extension.ts', 'test/vscode/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.mjs', 'tools/**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', __filename: 'readonly' },
    },
  },
);
