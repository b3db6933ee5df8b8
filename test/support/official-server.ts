/**
 * Where Temporal's official time-skipping test server (TEMPORAL_TEST_SERVER_PATH) behaves unlike a
 * real Temporal server, as measured with sdk-java 1.38's test server (issue 11). A test that asserts
 * real-server behaviour on one of these points skips itself there and names the divergence in its
 * title; nothing else skips. The in-memory server and real servers run every test.
 *
 *   itUnlessOfficialServer('activityStartedBeforeTimeout', 'times out an attempt …', async () => { … });
 */
import { temporalKindFromEnvironment } from './temporal-kind';

export const OFFICIAL_SERVER_DIVERGENCES = {
  visibility: 'ListWorkflowExecutions and CountWorkflowExecutions answer UNIMPLEMENTED',
  listSearchAttributes: 'ListSearchAttributes answers UNIMPLEMENTED (AddSearchAttributes works)',
  activityStartedBeforeTimeout: 'no ActivityTaskStarted is written before a start-to-close timeout or a heartbeat cancel',
  signalWithStartOrder: 'signal-with-start writes the signal after the first WorkflowTaskScheduled',
  rejectedUpdateTask: 'a rejected update leaves its workflow task in history',
  emptyWorkflowId: 'an empty workflow id is accepted',
  bufferedCompletionCancel: "a worker's cancel of an activity whose completion is buffered fails with ACTIVITY_UNKNOWN",
  queryRacingTask: 'a query that races a workflow task is written to history as an extra workflow task',
  stickyQueueAfterShutdown: "a shut-down worker's sticky queue keeps its tasks (no sticky schedule-to-start timeout)",
  tenYearRunTimeout: 'every workflow gets a 10-year run timeout, so a clock jump while one result is awaited times out the others',
  // Read in sdk-java's test server source (TestWorkflowService), not measured like the ones above.
  listFilters: 'ListOpen/ListClosedWorkflowExecutions filter by workflow id only (type, status and time filters are ignored)',
} as const;

export type OfficialServerDivergence = keyof typeof OFFICIAL_SERVER_DIVERGENCES;

export const onOfficialTestServer = (): boolean => temporalKindFromEnvironment() === 'official-test-server';

/** The title a skipped test shows, naming the divergence it depends on. */
export function skippedTitle(divergence: OfficialServerDivergence, title: string): string {
  return `${title} [skipped on the official test server: ${OFFICIAL_SERVER_DIVERGENCES[divergence]}]`;
}

/** `it`, except on the official test server, where the test is skipped with the divergence in its title. */
export function itUnlessOfficialServer(
  divergence: OfficialServerDivergence,
  title: string,
  fn: jest.ProvidesCallback,
  timeout?: number,
): void {
  if (onOfficialTestServer()) it.skip(skippedTitle(divergence, title), fn, timeout);
  else it(title, fn, timeout);
}

/** `describe`, except on the official test server (see itUnlessOfficialServer). */
export function describeUnlessOfficialServer(divergence: OfficialServerDivergence, title: string, fn: () => void): void {
  if (onOfficialTestServer()) describe.skip(skippedTitle(divergence, title), fn);
  else describe(title, fn);
}
