// One jest config for the workspace: `unit` runs pure tests beside the code,
// `integration` runs against the real stack that test/setup/global-setup.ts provides,
// `chaos` (only when selected) runs the fault suite on a stack of its own.
/** @type {import('ts-jest').TsJestTransformerOptions} */
const tsJest = { tsconfig: '<rootDir>/test/tsconfig.json' };
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', tsJest] },
  moduleNameMapper: { '^@tierstream/([a-z]+)$': '<rootDir>/services/$1/src' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

const chaosSelected = process.env.TIERSTREAM_CHAOS === '1' || process.argv.some((a, i) => a === 'chaos' && /^--selectProjects/.test(process.argv[i - 1] ?? ''));

// `--selectProjects` takes every word after it as a project name, so
// `jest --selectProjects integration test/x.test.ts` silently runs the whole project.
// Refuse that at once: put the path first, or after `--`.
const PROJECTS = ['unit', 'integration', 'chaos'];
const selectAt = process.argv.indexOf('--selectProjects');
if (selectAt >= 0) {
  for (const word of process.argv.slice(selectAt + 1)) {
    if (word.startsWith('-')) break;
    if (!PROJECTS.includes(word)) {
      throw new Error(`--selectProjects got '${word}', which is not a project (${PROJECTS.join(', ')}); to run one file write: npx jest ${word} --selectProjects <project>`);
    }
  }
}

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
    // Its own stack (ports 29092/28081/26379), killed and restarted while it runs: never part
    // of a plain `jest` / `npm test`, only there when selected (`npm run test:chaos`, docs/chaos.md).
    ...(chaosSelected ? [{ ...shared, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] }] : []),
  ],
};
