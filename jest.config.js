/** Jest runs TypeScript through swc: TS 7 exposes no compiler API, so ts-jest cannot work. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 60_000,
  // Jest's default on a 2-core machine is one worker, so every suite ran in series (about 6 min).
  // Most suites mostly wait (runtimes, browsers, leases and the answer grace): three workers on
  // two cores overlap them best (two took about 30 s longer).
  maxWorkers: 3,
};
