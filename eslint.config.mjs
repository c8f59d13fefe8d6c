// Type-aware linting, run by `npm test` (npm run lint): promises that nobody awaits are how a
// workflow loses a step or an HTTP handler answers before it has done its work, and the import
// rules keep each layer to what it may use: the pathway machine is pure (no Node built-ins, no
// Temporal), and workflow code runs in Temporal's deterministic sandbox (no Node built-ins).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'http', 'https', 'net', 'url', 'util', 'stream', 'zlib', 'process', 'worker_threads'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.data/**', 'bench/results/**', 'examples/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['machines/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [], patterns: [{ group: [...NODE_BUILTINS, '@temporalio/*'], message: 'the pathway machine is pure: no Node built-ins, no Temporal' }] }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [], patterns: [{ group: NODE_BUILTINS, message: "workflow code runs in Temporal's deterministic sandbox: no Node built-ins" }] }],
    },
  },
);
