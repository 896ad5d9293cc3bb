// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      'bench/**/*.ts',
    ],
    rules: vscodeOnlyAtTheEdge,
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
