/** Jest runs TypeScript through swc: TS 7 exposes no compiler API, so ts-jest cannot work. */
module.exports = {
  // Node's environment, which also notes the handles a test file leaves open (see the file).
  testEnvironment: '<rootDir>/test/support/leak-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/timing-setup.ts'],
  reporters: ['default', '<rootDir>/test/support/timing-reporter.js'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 60_000,
  // Jest's default on a 2-core machine is one worker, so every suite ran in series (about 6 min).
  // More workers overlap the suites that mostly wait (runtimes, browsers, the answer grace): three
  // gave 289 s against two's 338 s (test-output/timing.txt; docs/benchmarks.md), with the reveal
  // race's property checked every round and green in the soak (docs/reliability.md).
  maxWorkers: 3,
  // A worker is told to end and exits once nothing keeps it alive. Jest's 500 ms default ran out
  // under load ("A worker process has failed to exit gracefully") though no test file leaves a
  // handle open (test/support/leak-environment.js checks each one): a worker with a large heap took
  // longer to exit on a busy machine. 5 s still catches a real leak, which never exits.
  workerGracefulExitTimeout: 5000,
};
