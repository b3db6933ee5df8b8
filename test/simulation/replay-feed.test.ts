// The replay during the drive takes each closed run once, and asks only for runs closed since the
// latest close time it has seen (simulation/replay-feed.ts).
import { closedRunsQuery, OPEN_RUNS_QUERY, RunsSeen } from '../../simulation/replay-feed';

it('the first list asks for every closed run; later ones from the latest close time seen, inclusive', () => {
  const seen = new RunsSeen();
  expect(closedRunsQuery(seen.since)).toBe("ExecutionStatus != 'Running'");
  seen.admit({ workflowId: 'order-1', runId: 'a', closedAtMs: Date.UTC(2026, 0, 2) });
  seen.admit({ workflowId: 'order-2', runId: 'b', closedAtMs: Date.UTC(2026, 0, 1) });
  expect(closedRunsQuery(seen.since)).toBe("ExecutionStatus != 'Running' AND CloseTime >= '2026-01-02T00:00:00.000Z'");
});

it('a run listed again (closed in the same millisecond as the window start) is taken once', () => {
  const seen = new RunsSeen();
  const run = { workflowId: 'order-1', runId: 'a', closedAtMs: 1000 };
  expect(seen.admit(run)).toBe(true);
  expect(seen.admit({ ...run })).toBe(false);
  expect(seen.admit({ workflowId: 'order-2', runId: 'b', closedAtMs: 1000 })).toBe(true);
  expect(seen.since).toBe(1000);
});

it('an open run taken when the drive is over is taken once and leaves the closed-run window where it was', () => {
  const seen = new RunsSeen();
  expect(seen.admit({ workflowId: 'order-3', runId: 'open', closedAtMs: 0 })).toBe(true);
  expect(seen.since).toBeNull();
  seen.admit({ workflowId: 'order-1', runId: 'a', closedAtMs: 5000 });
  expect(seen.admit({ workflowId: 'order-3', runId: 'open', closedAtMs: 0 })).toBe(false);
  expect(seen.since).toBe(5000);
  expect(OPEN_RUNS_QUERY).toBe("ExecutionStatus = 'Running'");
});
