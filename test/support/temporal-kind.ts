/**
 * Which Temporal server the tests use, read from the environment (see test/support/temporal.ts).
 * Kept free of SDK imports so jest's global setup can print it cheaply.
 */
export type TemporalKind = 'real-server' | 'official-test-server' | 'in-memory';

export function temporalKindFromEnvironment(): TemporalKind {
  if (process.env.TEMPORAL_ADDRESS) return 'real-server';
  if (process.env.TEMPORAL_TEST_SERVER_PATH) return 'official-test-server';
  return 'in-memory';
}

export function describeTemporalKind(kind: TemporalKind): string {
  switch (kind) {
    case 'real-server':
      return `real Temporal server at ${process.env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS)`;
    case 'official-test-server':
      return `official time-skipping test server ${process.env.TEMPORAL_TEST_SERVER_PATH} (TEMPORAL_TEST_SERVER_PATH)`;
    default:
      return 'in-memory time-skipping server (temporal-server)';
  }
}
