import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'docs/api/**', '.nx/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'Export names explicitly from src/index.ts (no export *).' },
      ],
    },
  },
  {
    files: ['**/test/**', 'tools/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  // The emulator's two halves meet only through contracts.ts, as kube-apiserver and the kubelet
  // meet only through the API: neither imports the other's modules.
  {
    files: ['packages/kube-emulator/src/apiserver/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../node/*', '**/src/node/*'],
              message: 'The API server half may not import the node half; share a type through ../contracts.js.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/kube-emulator/src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../apiserver/*', '**/src/apiserver/*'],
              message: 'The node half may not import the API server half; share a type through ../contracts.js.',
            },
          ],
        },
      ],
    },
  },
);
