/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // The in-memory Temporal server keeps its conformance tests beside it (temporal-server/conformance).
  roots: ['<rootDir>/test', '<rootDir>/temporal-server'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }] },
  testTimeout: 120000,
  // Workflow tests start a worker per file; two cores means two jest workers at most.
  maxWorkers: 2,
  // A jest worker that ran Temporal tests ends its event loop promptly, then tears down the SDK's
  // native runtime (Rust threads) on its way out, which took over jest's default 500 ms on a loaded
  // 2-core machine: jest then SIGTERMs it (caught by the SDK's own shutdown hook) and SIGKILLs it,
  // printing "A worker process has failed to exit gracefully". --detectOpenHandles finds no handle
  // left open; give the teardown time instead.
  workerGracefulExitTimeout: 10_000,
  // One PostgreSQL for the whole run (DATABASE_URL, else embedded) with a migrated template
  // database; test/support/database.ts createTestDatabase() copies it per test file.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
