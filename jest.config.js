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
  // Not a leak (issue 11, item 9): when jest ends a worker, nothing of ours is open any more (only
  // stdio; test/start/clean-exit.test.ts fails, naming what is left, if an engine's teardown leaves a
  // pool, server, socket, timer or Temporal Worker/NativeConnection open) and the worker's 'exit' event
  // fires within milliseconds. What outlasts jest's default 500 ms is Node's own teardown after that
  // event: freeing the V8 heap (perf: PagedSpaceBase::TearDown, the Unmapper, munmap), which grows
  // with every file a worker ran (126 MB after one engine file, 256 MB after five) and took 0.7-1 s
  // on the 2 shared cores at load 10-15. jest then SIGKILLs the dying worker and prints "A worker
  // process has failed to exit gracefully". Give the teardown time; a real leak still shows after it.
  workerGracefulExitTimeout: 10_000,
  // One PostgreSQL for the whole run (DATABASE_URL, else embedded) with a migrated template
  // database; test/support/database.ts createTestDatabase() copies it per test file.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
