/**
 * The RPCs of temporal.api.workflowservice.v1.WorkflowService that this server answers.
 * Each handler validates its request (INVALID_ARGUMENT on malformed input), then acts on the engine.
 */
import { cancelActivity, completeActivity, describePendingActivities, failActivity, heartbeatActivity } from './activities';
import type { Engine } from './engine';
import { queueKey } from './engine';
import { ServiceError, invalidArgument, multiOperationStartFailed, notFound, requireString } from './errors';
import type { Handlers } from './grpc-server';
import { enums, msToDuration, temporal } from './proto';
import { queryWorkflow, respondQueryTask } from './queries';
import { admitUpdate, findUpdate, updateResponse, waitForStage } from './updates';
import { compileQuery, executionInfo, listByFilters } from './visibility';
import type { WorkflowRun } from './workflow-run';

type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;

const SERVER_VERSION = '1.27.0-in-memory';

export function workflowServiceHandlers(engine: Engine, options: { longPollMs: number }): Handlers {
  const emptyWorkflowPoll = {};
  const emptyActivityPoll = {};

  return {
    GetSystemInfo: async () => ({
      serverVersion: SERVER_VERSION,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        encodedFailureAttributes: true,
        upsertMemo: true,
        sdkMetadata: true,
        countGroupByExecutionStatus: true,
      },
    }),

    DescribeNamespace: async (request) => {
      const name = request.namespace || 'default';
      if (name !== 'default') throw notFound(`Namespace ${name} is not found.`);
      return {
        namespaceInfo: { name, state: enums.NamespaceState.NAMESPACE_STATE_REGISTERED, id: 'default-namespace-id' },
        config: { workflowExecutionRetentionTtl: msToDuration(24 * 3600 * 1000) },
      };
    },

    StartWorkflowExecution: async (request: StartRequest) => {
      const { run, started } = engine.startWorkflow(request);
      return { runId: run.runId, started };
    },

    SignalWorkflowExecution: async (request) => {
      const run = engine.findRun(request.namespace, request.workflowExecution);
      engine.signal(run, { signalName: requireString(request.signalName, 'SignalName'), ...request }, request.requestId);
      return {};
    },

    SignalWithStartWorkflowExecution: async (request) => {
      const signal = {
        signalName: requireString(request.signalName, 'SignalName'),
        input: request.signalInput,
        identity: request.identity,
        header: request.header,
      };
      const existing = engine.currentRun(request.namespace ?? '', request.workflowId ?? '');
      if (existing?.isRunning) {
        engine.signal(existing, signal, request.requestId);
        return { runId: existing.runId, started: false };
      }
      const { run } = engine.startWorkflow(
        { ...request, workflowIdConflictPolicy: enums.WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL },
        {
          // The signal is written right after WorkflowExecutionStarted, before the first task.
          extraEvents: (newRun) => engine.signal(newRun, signal, request.requestId),
        },
      );
      return { runId: run.runId, started: true };
    },

    RequestCancelWorkflowExecution: async (request) => {
      const run = engine.findRun(request.namespace, request.workflowExecution);
      engine.requestCancel(run, request.identity ?? '', request.reason ?? '');
      return {};
    },

    TerminateWorkflowExecution: async (request) => {
      const run = engine.findRun(request.namespace, request.workflowExecution);
      engine.terminate(run, request.reason ?? '', request.details, request.identity ?? '');
      return {};
    },

    GetWorkflowExecutionHistory: async (request, context) => getHistory(engine, request, context, options.longPollMs),

    DescribeWorkflowExecution: async (request) => {
      const run = engine.findRun(request.namespace, request.execution);
      return {
        executionConfig: {
          taskQueue: { name: run.taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          workflowRunTimeout: run.runTimeoutMs ? msToDuration(run.runTimeoutMs) : undefined,
          defaultWorkflowTaskTimeout: msToDuration(run.workflowTaskTimeoutMs),
        },
        workflowExecutionInfo: executionInfo(run),
        pendingActivities: describePendingActivities(run),
        pendingChildren: [...run.children.values()].map((child) => ({
          workflowId: child.workflowId,
          runId: child.runId,
          workflowTypeName: child.workflowType,
          initiatedId: child.initiatedEventId,
          parentClosePolicy: child.parentClosePolicy,
        })),
      };
    },

    PollWorkflowTaskQueue: async (request, context) => {
      const queue = requireString(request.taskQueue?.name, 'TaskQueue');
      return engine.queues.poll(queueKey(request.namespace ?? '', queue, 'workflow'), context, emptyWorkflowPoll);
    },

    RespondWorkflowTaskCompleted: async (request) => engine.completeWorkflowTask(request),
    RespondWorkflowTaskFailed: async (request) => engine.failWorkflowTask(request),

    PollActivityTaskQueue: async (request, context) => {
      const queue = requireString(request.taskQueue?.name, 'TaskQueue');
      return engine.queues.poll(queueKey(request.namespace ?? '', queue, 'activity'), context, emptyActivityPoll);
    },

    RespondActivityTaskCompleted: async (request) => completeActivity(engine, request),
    RespondActivityTaskFailed: async (request) => failActivity(engine, request),
    RespondActivityTaskCanceled: async (request) => cancelActivity(engine, request),
    RecordActivityTaskHeartbeat: async (request) => heartbeatActivity(engine, request),

    QueryWorkflow: async (request, context) => queryWorkflow(engine, request, context),
    RespondQueryTaskCompleted: async (request) => respondQueryTask(engine, request),

    UpdateWorkflowExecution: async (request, context) => {
      const run = engine.findRun(request.namespace, request.workflowExecution);
      return update(engine, run, request, context);
    },

    PollWorkflowExecutionUpdate: async (request, context) => {
      const ref = request.updateRef;
      const run = engine.findRun(request.namespace, ref?.workflowExecution);
      const found = findUpdate(run, ref?.updateId ?? '');
      await waitForStage(found, request.waitPolicy?.lifecycleStage ?? 0, context);
      return updateResponse(run, found);
    },

    ExecuteMultiOperation: async (request, context) => {
      const operations = request.operations ?? [];
      const start = operations[0]?.startWorkflow;
      const updateRequest = operations[1]?.updateWorkflow;
      if (operations.length !== 2 || !start || !updateRequest) {
        throw invalidArgument('ExecuteMultiOperation supports exactly [StartWorkflow, UpdateWorkflow].');
      }
      if (!start.workflowIdConflictPolicy) {
        throw invalidArgument('WorkflowIdConflictPolicy must be set for update-with-start.');
      }
      const { run, started } = startForMultiOperation(engine, { ...start, namespace: request.namespace });
      const updateResult = await update(engine, run, { ...updateRequest, namespace: request.namespace }, context);
      return {
        responses: [{ startWorkflow: { runId: run.runId, started } }, { updateWorkflow: updateResult }],
      };
    },

    ResetStickyTaskQueue: async (request) => {
      const run = engine.findRun(request.namespace, request.execution);
      run.stickyQueue = null;
      return {};
    },

    ShutdownWorker: async (request) => {
      const sticky = request.stickyTaskQueue;
      if (sticky) {
        engine.dropStickyQueue(request.namespace ?? '', sticky);
        engine.queues.releasePollers(queueKey(request.namespace ?? '', sticky, 'workflow'), emptyWorkflowPoll);
      }
      return {};
    },

    ListWorkflowExecutions: async (request) =>
      page(listRuns(engine, request.namespace ?? '', request.query ?? ''), request.pageSize, request.nextPageToken),

    ListOpenWorkflowExecutions: async (request) =>
      page(listByFilters(engine.allRuns(), request, 'open'), request.maximumPageSize, request.nextPageToken),

    ListClosedWorkflowExecutions: async (request) =>
      page(listByFilters(engine.allRuns(), request, 'closed'), request.maximumPageSize, request.nextPageToken),

    CountWorkflowExecutions: async (request) => ({ count: listRuns(engine, request.namespace ?? '', request.query ?? '').length }),
  };
}

async function update(
  engine: Engine,
  run: WorkflowRun,
  request: temporal.api.workflowservice.v1.IUpdateWorkflowExecutionRequest,
  context: Parameters<typeof waitForStage>[2],
): Promise<object> {
  if (!request.request?.input?.name) throw invalidArgument('Update name is not set on request.');
  const admitted = admitUpdate(engine, run, request.request);
  await waitForStage(admitted, request.waitPolicy?.lifecycleStage ?? 0, context);
  return updateResponse(run, admitted);
}

/** One page of a visibility listing; the token is the offset of the next page. */
function page(matching: WorkflowRun[], pageSize: number | null | undefined, token: Uint8Array | null | undefined): object {
  const offset = token?.length ? Number(Buffer.from(token).toString()) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw invalidArgument('Invalid NextPageToken.');
  const size = (pageSize ?? 0) > 0 ? pageSize! : 1000;
  const runs = matching.slice(offset, offset + size);
  const nextOffset = offset + runs.length;
  return {
    executions: runs.map(executionInfo),
    nextPageToken: nextOffset < matching.length ? Buffer.from(String(nextOffset)) : undefined,
  };
}

/** The start of an update-with-start: a refused start is answered as Temporal answers it. */
function startForMultiOperation(engine: Engine, request: StartRequest): ReturnType<Engine['startWorkflow']> {
  try {
    return engine.startWorkflow(request);
  } catch (error) {
    if (error instanceof ServiceError) throw multiOperationStartFailed(error);
    throw error;
  }
}

function listRuns(engine: Engine, namespace: string, query: string): WorkflowRun[] {
  const predicate = compileQuery(query);
  return [...engine.allRuns()]
    .filter((run) => run.namespace === namespace && predicate(run))
    .sort((a, b) => b.startTime - a.startTime);
}

/** History pages; with wait_new_event it long-polls for the next event (or the close event only). */
async function getHistory(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest,
  context: Parameters<typeof waitForStage>[2],
  longPollMs: number,
): Promise<object> {
  const run = engine.findRun(request.namespace ?? '', request.execution);
  const closeOnly =
    request.historyEventFilterType === enums.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
  const from = request.nextPageToken?.length ? Number(Buffer.from(request.nextPageToken).toString()) : 0;
  if (!Number.isInteger(from) || from < 0) throw invalidArgument('Invalid NextPageToken.');
  const hasWhatCallerWants = () => (closeOnly ? !run.isRunning : run.history.length > from || !run.isRunning);

  if (request.waitNewEvent && !hasWhatCallerWants()) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, longPollMs)));
    while (!hasWhatCallerWants() && !context.isCancelled()) {
      const waited = await Promise.race([run.waitForNewEvent().then(() => 'event'), deadline.then(() => 'timeout'), context.cancelled.then(() => 'timeout')]);
      if (waited === 'timeout') break;
    }
    clearTimeout(timer);
    if (!hasWhatCallerWants()) {
      // Nothing yet: an empty page with a token to poll again, as Temporal answers a long poll.
      return { history: { events: [] }, nextPageToken: Buffer.from(String(from)) };
    }
  }
  if (closeOnly) {
    const closeEvent = run.closeEvent();
    return { history: { events: closeEvent ? [closeEvent] : [] } };
  }
  const pageSize = (request.maximumPageSize ?? 0) > 0 ? request.maximumPageSize! : 1000;
  const events = run.history.slice(from, from + pageSize);
  const next = from + events.length;
  const more = next < run.history.length || (request.waitNewEvent && run.isRunning);
  return { history: { events }, nextPageToken: more ? Buffer.from(String(next)) : undefined };
}
