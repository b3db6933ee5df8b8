/**
 * Which closed runs the replay during the drive takes next (replay-process.ts): each list asks only
 * for runs closed since the latest close time seen, and a run is taken once.
 *
 * Why the window is safe: close times are on the server's clock, which never goes back, so a run
 * that closes after a list was answered closes at or after every close time that list held. The
 * window is inclusive (`>=`) because runs close within the same millisecond; the runs seen at that
 * millisecond are skipped by id.
 */
export interface ClosedRun {
  workflowId: string;
  runId: string;
  /** Close time on the server's clock, epoch ms; 0 for a run still open (taken at the end). */
  closedAtMs: number;
}

/** The visibility query for runs closed at or after sinceMs (every closed run when null). */
export function closedRunsQuery(sinceMs: number | null): string {
  const closed = "ExecutionStatus != 'Running'";
  return sinceMs === null ? closed : `${closed} AND CloseTime >= '${new Date(sinceMs).toISOString()}'`;
}

/** The visibility query for the runs still open (taken once, when the drive is over). */
export const OPEN_RUNS_QUERY = "ExecutionStatus = 'Running'";

export class RunsSeen {
  private readonly ids = new Set<string>();
  private latestMs: number | null = null;

  /** Where the next list starts. */
  get since(): number | null {
    return this.latestMs;
  }

  /** True the first time a run is offered; moves the window to its close time. */
  admit(run: ClosedRun): boolean {
    if (this.ids.has(run.runId)) return false;
    this.ids.add(run.runId);
    if (run.closedAtMs > 0 && (this.latestMs === null || run.closedAtMs > this.latestMs)) this.latestMs = run.closedAtMs;
    return true;
  }
}
