import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.tierstream/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // domain is pure: no I/O and no clock reads.
    files: ['services/domain/src/**/*.ts'],
    ignores: ['services/domain/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'net', 'http', 'kafkajs', 'ioredis', '@tierstream/*'] }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'domain takes time as a parameter' }],
    },
  },
);
