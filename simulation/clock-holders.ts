/**
 * What holds the in-memory server's skipped clock right now, run by run: the workflow tasks and
 * activity attempts in flight (the clock's holds name their run: workflow-task:<run>,
 * activity:<run>:<event>). The driver names them when time stops moving; SIM_PROFILE samples them.
 */
import type { InMemoryTemporalServer } from '../temporal-server';

export function clockHolders(temporal: InMemoryTemporalServer): string[] {
  const engine = temporal.engine;
  const inFlight = (engine.clock as unknown as { inFlight: Map<string, number> }).inFlight;
  const holders: string[] = [];
  for (const key of inFlight.keys()) {
    const [kind, runId, eventId] = key.split(':');
    const run = engine.runs.get(runId);
    if (!run) continue;
    if (kind === 'workflow-task' && run.workflowTask) {
      const task = run.workflowTask;
      holders.push(`${run.workflowId} (${run.workflowType}): workflow task ${task.startedEventId === null ? 'queued' : 'running'}, attempt ${task.attempt}`);
    } else if (kind === 'workflow-task-retry') {
      holders.push(`${run.workflowId} (${run.workflowType}): pause before a workflow task retry`);
    } else if (kind === 'activity') {
      const a = run.activities.get(Number(eventId));
      if (a) holders.push(`${run.workflowId} (${run.workflowType}): activity ${a.activityType} ${a.phase === 'scheduled' ? 'queued' : 'running'}, attempt ${a.attempt}`);
    }
  }
  return holders;
}
