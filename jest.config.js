// One jest config for the workspace: `unit` runs pure tests beside the code,
// `integration` runs against the real stack that test/setup/global-setup.ts provides.
/** @type {import('ts-jest').TsJestTransformerOptions} */
const tsJest = { tsconfig: '<rootDir>/test/tsconfig.json' };
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', tsJest] },
  moduleNameMapper: { '^@tierstream/([a-z]+)$': '<rootDir>/services/$1/src' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration suites wait on consumer-group joins and broker round trips.
  testTimeout: 120000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/services/*/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
