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
  // One PostgreSQL for the whole run (DATABASE_URL, else embedded) with a migrated template
  // database; test/support/database.ts createTestDatabase() copies it per test file.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
