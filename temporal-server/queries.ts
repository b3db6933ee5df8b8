/**
 * Workflow queries. A query rides on the workflow's next workflow task when one is pending, and
 * otherwise goes to a worker as a query task with the whole history (as Temporal's legacy query),
 * which also answers queries on closed workflows.
 */
import type { CallContext } from './grpc-server';
import type { Engine } from './engine';
import { encodeToken, decodeToken, queueKey } from './engine';
import { ServiceError, notFound } from './errors';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { TaskQueueKind, WorkflowExecutionStatus, enums, msToTimestamp, temporal } from './proto';
import type { Payloads } from './proto';
import type { PendingQuery, WorkflowRun } from './workflow-run';

export async function queryWorkflow(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IQueryWorkflowRequest,
  context: CallContext,
): Promise<object> {
  const run = engine.findRun(request.namespace ?? '', request.execution);
  const rejected = rejection(run, request.queryRejectCondition ?? 0);
  if (rejected) return { queryRejected: { status: rejected } };

  const result = await new Promise<{ answer?: Payloads; error?: string; timedOut?: boolean }>((resolve) => {
    const query: PendingQuery = {
      id: engine.newRequestId(),
      query: request.query ?? {},
      carrier: null,
      resolve,
    };
    run.queries.push(query);
    redispatchQueries(engine, run);
    void context.cancelled.then(() => {
      const index = run.queries.indexOf(query);
      if (index >= 0) run.queries.splice(index, 1);
      resolve({ error: 'query cancelled by the caller' });
    });
  });
  if (result.error !== undefined) throw new ServiceError(result.timedOut ? GrpcStatus.DEADLINE_EXCEEDED : GrpcStatus.INVALID_ARGUMENT, result.error);
  return { queryResult: result.answer };
}

function rejection(run: WorkflowRun, condition: number): number | null {
  const C = enums.QueryRejectCondition;
  if (condition === C.QUERY_REJECT_CONDITION_NOT_OPEN && !run.isRunning) return run.status;
  if (
    condition === C.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY &&
    !run.isRunning &&
    run.status !== WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
  ) {
    return run.status;
  }
  return null;
}

/** Sends every query nobody carries yet: with the pending workflow task, or as a query task. */
export function redispatchQueries(engine: Engine, run: WorkflowRun): void {
  for (const query of run.queries) {
    if (query.carrier) continue;
    if (run.isRunning && run.workflowTask) continue; // rides on that task (or its successor)
    query.carrier = 'query-task';
    engine.queues.add(queueKey(run.namespace, run.taskQueue, 'workflow'), () => queryTask(run, query));
  }
}

/**
 * Real ms a worker has to answer a query task. A task handed to a poll whose worker never answers it
 * (its poll call ended just as the task left, or the worker died) would otherwise leave the caller
 * waiting for good: a workflow task has its timeout, a query task nothing. The caller gets
 * DEADLINE_EXCEEDED, as from Temporal when the worker does not answer in time, and may ask again.
 * (Seen once at the end of the simulation's default world: the books' state query of one open order
 * waited forever, the worker idle.)
 */
export const QUERY_TASK_TIMEOUT_MS = 10_000;

function queryTask(run: WorkflowRun, query: PendingQuery): object | null {
  if (!run.queries.includes(query)) return null;
  const now = Date.now();
  setTimeout(() => {
    const index = run.queries.indexOf(query);
    if (index < 0 || query.carrier !== 'query-task') return;
    run.queries.splice(index, 1);
    query.resolve({ error: `the worker did not answer the query task within ${QUERY_TASK_TIMEOUT_MS / 1000} s`, timedOut: true });
  }, QUERY_TASK_TIMEOUT_MS).unref();
  return {
    taskToken: encodeToken({ runId: run.runId, kind: 'query', queryId: query.id }),
    workflowExecution: { workflowId: run.workflowId, runId: run.runId },
    workflowType: { name: run.workflowType },
    previousStartedEventId: run.previousStartedEventId,
    // A query task starts no workflow task: Temporal's matching service leaves this unset.
    startedEventId: 0,
    attempt: 1,
    history: { events: [...run.history] },
    query: query.query,
    workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    scheduledTime: msToTimestamp(now),
    startedTime: msToTimestamp(now),
  };
}

export function respondQueryTask(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IRespondQueryTaskCompletedRequest,
): object {
  const token = decodeToken(request.taskToken);
  const run = engine.runs.get(token.runId);
  const query = run?.queries.find((candidate) => candidate.id === token.queryId);
  if (!run || !query) throw notFound('Query task not found.');
  run.queries.splice(run.queries.indexOf(query), 1);
  if (request.completedType === enums.QueryResultType.QUERY_RESULT_TYPE_ANSWERED) {
    query.resolve({ answer: request.queryResult ?? undefined });
  } else {
    query.resolve({ error: request.errorMessage || request.failure?.message || 'query failed' });
  }
  return {};
}
