/** Jest runs TypeScript through swc: TS 7 exposes no compiler API, so ts-jest cannot work. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/timing-setup.ts'],
  reporters: ['default', '<rootDir>/test/support/timing-reporter.js'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 60_000,
  // Jest's default on a 2-core machine is one worker, so every suite ran in series (about 6 min).
  // Two workers overlap the suites that mostly wait (runtimes, browsers, the answer grace). Three
  // were about 30 s faster but starved the timing-sensitive suites (reveal-race) in CI.
  maxWorkers: 2,
};
