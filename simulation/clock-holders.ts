/**
 * What holds the in-memory server's skipped clock right now, run by run: the workflow tasks and
 * activity attempts in flight (the clock's holds name their run: workflow-task:<run>,
 * activity:<run>:<event>). The driver names them when time stops moving; SIM_PROFILE samples them.
 */
import type { InMemoryTemporalServer } from '../temporal-server';

export interface ClockHold {
  workflowId: string;
  workflowType: string;
  /** A workflow task, the pause before a workflow task's retry, or an activity attempt. */
  kind: 'workflow task' | 'workflow task retry pause' | 'activity';
  /** Queued (not yet taken by a worker) or running; absent for the retry pause. */
  phase?: 'queued' | 'running';
  attempt?: number;
  activityType?: string;
}

export function clockHolds(temporal: InMemoryTemporalServer): ClockHold[] {
  const engine = temporal.engine;
  const inFlight = (engine.clock as unknown as { inFlight: Map<string, number> }).inFlight;
  const holds: ClockHold[] = [];
  for (const key of inFlight.keys()) {
    const [kind, runId, eventId] = key.split(':');
    const run = engine.runs.get(runId);
    if (!run) continue;
    const of = { workflowId: run.workflowId, workflowType: run.workflowType };
    if (kind === 'workflow-task' && run.workflowTask) {
      const task = run.workflowTask;
      holds.push({ ...of, kind: 'workflow task', phase: task.startedEventId === null ? 'queued' : 'running', attempt: task.attempt });
    } else if (kind === 'workflow-task-retry') {
      holds.push({ ...of, kind: 'workflow task retry pause' });
    } else if (kind === 'activity') {
      const a = run.activities.get(Number(eventId));
      if (a) holds.push({ ...of, kind: 'activity', phase: a.phase === 'scheduled' ? 'queued' : 'running', attempt: a.attempt, activityType: a.activityType });
    }
  }
  return holds;
}

/** The holds as lines naming each run ("provider-sync-3 (providerSyncWorkflow): workflow task running, attempt 42"). */
export function clockHolders(temporal: InMemoryTemporalServer): string[] {
  return clockHolds(temporal).map((h) => {
    const what = h.kind === 'activity' ? `activity ${h.activityType}` : h.kind;
    return `${h.workflowId} (${h.workflowType}): ${what}${h.phase ? ` ${h.phase}, attempt ${h.attempt}` : ''}`;
  });
}
