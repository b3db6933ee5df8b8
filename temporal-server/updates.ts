/**
 * Workflow updates (UpdateWorkflowExecution, and the update half of update-with-start).
 *
 * An update is admitted, sent to the worker as a protocol message with the next workflow task,
 * then accepted (WorkflowExecutionUpdateAccepted) and completed (WorkflowExecutionUpdateCompleted),
 * or rejected by the workflow's validator, which writes no event at all.
 */
import type { CallContext } from './grpc-server';
import type { Engine } from './engine';
import { notFound } from './errors';
import { EventType, UpdateStage, temporal } from './proto';
import type { Failure, ProtocolMessage } from './proto';
import type { UpdateState, WorkflowRun } from './workflow-run';

type UpdateRequest = temporal.api.workflowservice.v1.IUpdateWorkflowExecutionRequest;

const STAGE_ORDER = { admitted: 1, sent: 1, accepted: 2, completed: 3 } as const;

/** Admits the update (once per update id) and schedules a workflow task to carry it. */
export function admitUpdate(engine: Engine, run: WorkflowRun, request: temporal.api.update.v1.IRequest): UpdateState {
  const id = request.meta?.updateId || engine.newRequestId();
  const existing = run.updates.get(id);
  if (existing) return existing;
  if (!run.isRunning) throw notFound('workflow execution already completed');
  const update: UpdateState = { id, request: { ...request, meta: { ...request.meta, updateId: id } }, stage: 'admitted', waiters: [] };
  run.updates.set(id, update);
  engine.scheduleWorkflowTask(run, 1, true);
  return update;
}

/** Waits until the update reaches the stage the caller asked for, the call ends, or a minute passes. */
export async function waitForStage(update: UpdateState, stage: number, context: CallContext): Promise<void> {
  const wanted = stage >= UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED ? 3 : 2;
  while (STAGE_ORDER[update.stage] < wanted && !context.isCancelled()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => update.waiters.push(resolve)),
      context.cancelled,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 60_000))),
    ]);
    clearTimeout(timer);
    if (timer && STAGE_ORDER[update.stage] < wanted) break;
  }
}

export function updateResponse(run: WorkflowRun, update: UpdateState): object {
  const stage =
    update.stage === 'completed'
      ? UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
      : update.stage === 'accepted'
        ? UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
        : UpdateStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
  return {
    updateRef: { workflowExecution: { workflowId: run.workflowId, runId: run.runId }, updateId: update.id },
    outcome: update.outcome,
    stage,
  };
}

function settle(update: UpdateState): void {
  for (const wake of update.waiters.splice(0)) wake();
}

export function acceptUpdate(
  engine: Engine,
  run: WorkflowRun,
  message: ProtocolMessage,
  acceptance: temporal.api.update.v1.IAcceptance,
  completedEventId: number,
): void {
  const update = run.updates.get(message.protocolInstanceId ?? '');
  if (!update) return;
  const event = run.addEvent(
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    'workflowExecutionUpdateAcceptedEventAttributes',
    {
      protocolInstanceId: update.id,
      acceptedRequestMessageId: acceptance.acceptedRequestMessageId,
      acceptedRequestSequencingEventId: acceptance.acceptedRequestSequencingEventId,
      acceptedRequest: update.request,
    },
    engine.now(),
  );
  void completedEventId;
  update.stage = 'accepted';
  update.acceptedEventId = event.eventId as number;
  settle(update);
}

export function completeUpdate(engine: Engine, run: WorkflowRun, response: temporal.api.update.v1.IResponse): void {
  const update = run.updates.get(response.meta?.updateId ?? '');
  if (!update) return;
  run.addEvent(
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    'workflowExecutionUpdateCompletedEventAttributes',
    { meta: response.meta, acceptedEventId: update.acceptedEventId, outcome: response.outcome },
    engine.now(),
  );
  update.stage = 'completed';
  update.outcome = response.outcome ?? {};
  settle(update);
}

export function rejectUpdate(run: WorkflowRun, updateId: string, failure: Failure | null | undefined): void {
  const update = run.updates.get(updateId);
  if (!update) return;
  update.stage = 'completed';
  update.outcome = { failure: failure ?? { message: 'update rejected' } };
  // A rejected update leaves nothing behind: the same update id may be tried again.
  run.updates.delete(updateId);
  settle(update);
}

/** Updates still open when their run closes fail, as Temporal fails them. */
export function failUnfinishedUpdates(run: WorkflowRun): void {
  for (const update of run.updates.values()) {
    if (update.stage === 'completed') continue;
    update.stage = 'completed';
    update.outcome = {
      failure: { message: 'Workflow Update failed because the Workflow completed before the Update completed.' },
    };
    settle(update);
  }
}

export function findUpdate(run: WorkflowRun, updateId: string): UpdateState {
  const update = run.updates.get(updateId);
  if (!update) throw notFound(`update ${updateId} not found`);
  return update;
}

export type { UpdateRequest };
