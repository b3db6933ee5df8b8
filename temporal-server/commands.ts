/**
 * Commands a worker sends with a completed workflow task, turned into history events in the
 * order the worker sent them, as Temporal's history service does.
 *
 * Some commands are answered later, outside the task (a child's start, an external signal): those
 * are returned as actions to run after the task's events are written.
 */
import { scheduleActivity, requestCancelActivity } from './activities';
import type { Engine } from './engine';
import { invalidArgument } from './errors';
import { EventType, WorkflowExecutionStatus, durationToMs, enums, temporal, unpackAny } from './proto';
import type { Command, ProtocolMessage } from './proto';
import { acceptUpdate, completeUpdate, rejectUpdate } from './updates';
import type { WorkflowRun } from './workflow-run';

type Attrs = Record<string, any>;

export interface CommandsOutcome {
  /** True when the commands produced events the workflow must see in a new workflow task. */
  needsWorkflowTask: boolean;
  afterCommit: Array<() => void>;
}

interface Context extends CommandsOutcome {
  engine: Engine;
  run: WorkflowRun;
  completedEventId: number;
  messages: Map<string, ProtocolMessage>;
}

export function applyCommands(
  engine: Engine,
  run: WorkflowRun,
  commands: Command[],
  messages: ProtocolMessage[],
  completedEventId: number,
): CommandsOutcome {
  const context: Context = {
    engine,
    run,
    completedEventId,
    messages: new Map(messages.map((message) => [message.id ?? '', message])),
    needsWorkflowTask: false,
    afterCommit: [],
  };
  for (const command of commands) {
    if (!run.isRunning) break;
    applyCommand(context, command);
  }
  // Rejections carry no command: they leave no trace in history.
  for (const message of messages) {
    const body = unpackAny<Attrs>(message.body);
    if (body.typeName === 'temporal.api.update.v1.Rejection') {
      rejectUpdate(run, message.protocolInstanceId ?? '', body.message.failure);
    }
  }
  return context;
}

/**
 * A command the server refuses before applying any of the task's commands: its cause and the
 * message Temporal writes in the WorkflowTaskFailed event (and answers the worker with).
 * Search attributes must be defined, wherever a command writes them.
 */
export function refuseCommands(engine: Engine, commands: Command[]): { cause: number; message: string } | null {
  const T = enums.CommandType;
  const Cause = enums.WorkflowTaskFailedCause;
  for (const command of commands) {
    const [cause, fields] =
      command.commandType === T.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        ? [Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, command.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes]
        : command.commandType === T.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION
          ? [Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, command.continueAsNewWorkflowExecutionCommandAttributes?.searchAttributes]
          : command.commandType === T.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION
            ? [Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, command.startChildWorkflowExecutionCommandAttributes?.searchAttributes]
            : [0, null];
    const refusal = cause ? engine.searchAttributes.refusal(fields?.indexedFields) : null;
    if (refusal) return { cause, message: `${causeName(cause)}: ${refusal}` };
  }
  return null;
}

/** WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES → BadSearchAttributes, as Temporal prints causes. */
function causeName(cause: number): string {
  const raw = enums.WorkflowTaskFailedCause[cause] ?? String(cause);
  return raw
    .replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}

function add(context: Context, type: number, field: string, attributes: Attrs) {
  return context.run.addEvent(type, field, attributes, context.engine.now());
}

function applyCommand(context: Context, command: Command): void {
  const { run, completedEventId, engine } = context;
  const T = enums.CommandType;
  const E = EventType;
  switch (command.commandType) {
    case T.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
      scheduleActivity(engine, run, command.scheduleActivityTaskCommandAttributes!, completedEventId);
      return;
    case T.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
      if (requestCancelActivity(engine, run, command.requestCancelActivityTaskCommandAttributes!, completedEventId)) {
        context.needsWorkflowTask = true;
      }
      return;
    case T.COMMAND_TYPE_START_TIMER:
      startTimer(context, command.startTimerCommandAttributes!);
      return;
    case T.COMMAND_TYPE_CANCEL_TIMER: {
      const timerId = command.cancelTimerCommandAttributes?.timerId ?? '';
      const timer = run.timers.get(timerId);
      if (!timer) return;
      if (timer.firedWrite) {
        // It fired while this task was in flight: its TimerFired is still buffered. Temporal drops
        // that event and records the cancel (mutable state's checkAndClearTimerFiredEvent); writing
        // both would hand the worker a fire for a timer it canceled (a nondeterminism failure, then
        // the task fails for good and the run is stuck).
        const index = run.buffered.indexOf(timer.firedWrite);
        if (index >= 0) run.buffered.splice(index, 1);
      } else {
        timer.cancel();
      }
      run.timers.delete(timerId);
      add(context, E.EVENT_TYPE_TIMER_CANCELED, 'timerCanceledEventAttributes', {
        timerId,
        startedEventId: timer.startedEventId,
        workflowTaskCompletedEventId: completedEventId,
      });
      return;
    }
    case T.COMMAND_TYPE_RECORD_MARKER: {
      const a = command.recordMarkerCommandAttributes!;
      add(context, E.EVENT_TYPE_MARKER_RECORDED, 'markerRecordedEventAttributes', {
        markerName: a.markerName,
        details: a.details,
        header: a.header,
        failure: a.failure,
        workflowTaskCompletedEventId: completedEventId,
      });
      return;
    }
    case T.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
      const fields = command.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes?.indexedFields ?? {};
      upsertSearchAttributes(run, fields);
      add(context, E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, 'upsertWorkflowSearchAttributesEventAttributes', {
        workflowTaskCompletedEventId: completedEventId,
        searchAttributes: { indexedFields: fields },
      });
      return;
    }
    case T.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: {
      const memo = command.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo;
      Object.assign(run.memo, memo?.fields ?? {});
      add(context, E.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, 'workflowPropertiesModifiedEventAttributes', {
        workflowTaskCompletedEventId: completedEventId,
        upsertedMemo: memo,
      });
      return;
    }
    case T.COMMAND_TYPE_PROTOCOL_MESSAGE:
      applyProtocolMessage(context, command.protocolMessageCommandAttributes?.messageId ?? '');
      return;
    case T.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
      add(context, E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 'workflowExecutionCompletedEventAttributes', {
        result: command.completeWorkflowExecutionCommandAttributes?.result,
        workflowTaskCompletedEventId: completedEventId,
      });
      engine.closeRun(run, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
      return;
    case T.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
      add(context, E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, 'workflowExecutionFailedEventAttributes', {
        failure: command.failWorkflowExecutionCommandAttributes?.failure,
        retryState: enums.RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET,
        workflowTaskCompletedEventId: completedEventId,
      });
      engine.closeRun(run, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED);
      return;
    case T.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
      add(context, E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, 'workflowExecutionCanceledEventAttributes', {
        details: command.cancelWorkflowExecutionCommandAttributes?.details,
        workflowTaskCompletedEventId: completedEventId,
      });
      engine.closeRun(run, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED);
      return;
    case T.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
      continueAsNew(context, command.continueAsNewWorkflowExecutionCommandAttributes!);
      return;
    case T.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
      startChild(context, command.startChildWorkflowExecutionCommandAttributes!);
      return;
    case T.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
      signalExternal(context, command.signalExternalWorkflowExecutionCommandAttributes!);
      return;
    case T.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
      cancelExternal(context, command.requestCancelExternalWorkflowExecutionCommandAttributes!);
      return;
    default:
      throw invalidArgument(`Unknown command type: ${command.commandType}`);
  }
}

function startTimer(context: Context, a: temporal.api.command.v1.IStartTimerCommandAttributes): void {
  const { run, engine } = context;
  const timerId = a.timerId ?? '';
  const started = add(context, EventType.EVENT_TYPE_TIMER_STARTED, 'timerStartedEventAttributes', {
    timerId,
    startToFireTimeout: a.startToFireTimeout,
    workflowTaskCompletedEventId: context.completedEventId,
  });
  const startedEventId = started.eventId as number;
  const delayMs = durationToMs(a.startToFireTimeout);
  const cancel = engine.clock.after(delayMs, () => {
    const timer = run.timers.get(timerId);
    if (timer?.startedEventId !== startedEventId) return;
    const write = () => {
      run.timers.delete(timerId);
      run.addEvent(EventType.EVENT_TYPE_TIMER_FIRED, 'timerFiredEventAttributes', { timerId, startedEventId }, engine.now());
    };
    // Buffered while a workflow task is in flight; until written, the task's completion may cancel it.
    timer.firedWrite = write;
    engine.deliver(run, write);
  }, engine.clock.workflowTimerToleranceMs(delayMs));
  run.timers.set(timerId, { startedEventId, cancel });
}

function upsertSearchAttributes(run: WorkflowRun, fields: Record<string, temporal.api.common.v1.IPayload>): void {
  for (const [name, payload] of Object.entries(fields)) {
    // An empty payload (or JSON null / []) unsets the attribute, as in Temporal.
    const data = payload?.data ? Buffer.from(payload.data).toString('utf8') : '';
    if (data === '' || data === 'null' || data === '[]') delete run.searchAttributes[name];
    else run.searchAttributes[name] = payload;
  }
}

function applyProtocolMessage(context: Context, messageId: string): void {
  const message = context.messages.get(messageId);
  if (!message) throw invalidArgument(`Protocol message ${messageId} not found in the task completion.`);
  const body = unpackAny<Attrs>(message.body);
  if (body.typeName === 'temporal.api.update.v1.Acceptance') {
    acceptUpdate(context.engine, context.run, message, body.message, context.completedEventId);
  } else if (body.typeName === 'temporal.api.update.v1.Response') {
    completeUpdate(context.engine, context.run, body.message);
  }
}

function continueAsNew(
  context: Context,
  a: temporal.api.command.v1.IContinueAsNewWorkflowExecutionCommandAttributes,
): void {
  const { run, engine } = context;
  const newRunId = engine.newRequestId();
  const previousStart = run.startRequest;
  const nextRequest = {
    namespace: run.namespace,
    workflowId: run.workflowId,
    workflowType: a.workflowType?.name ? a.workflowType : { name: run.workflowType },
    taskQueue: a.taskQueue?.name ? a.taskQueue : { name: run.taskQueue },
    input: a.input,
    workflowRunTimeout: a.workflowRunTimeout ?? previousStart.workflowRunTimeout,
    workflowTaskTimeout: a.workflowTaskTimeout ?? previousStart.workflowTaskTimeout,
    workflowExecutionTimeout: previousStart.workflowExecutionTimeout,
    header: a.header,
    memo: a.memo ?? { fields: run.memo },
    searchAttributes: a.searchAttributes ?? { indexedFields: run.searchAttributes },
    retryPolicy: a.retryPolicy ?? previousStart.retryPolicy,
    requestId: newRunId,
    identity: previousStart.identity,
    workflowStartDelay: a.backoffStartInterval,
  };
  const closing = add(
    context,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    'workflowExecutionContinuedAsNewEventAttributes',
    {
      newExecutionRunId: '',
      workflowType: nextRequest.workflowType,
      taskQueue: nextRequest.taskQueue,
      input: a.input,
      workflowRunTimeout: a.workflowRunTimeout,
      workflowTaskTimeout: a.workflowTaskTimeout,
      workflowTaskCompletedEventId: context.completedEventId,
      backoffStartInterval: a.backoffStartInterval,
      initiator: a.initiator,
      header: a.header,
      memo: nextRequest.memo,
      searchAttributes: nextRequest.searchAttributes,
    },
  );
  engine.closeRun(run, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
  const { run: next } = engine.startWorkflow(nextRequest, { parent: run.parent ?? undefined, continuedFrom: run });
  (closing as Attrs).workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId = next.runId;
  run.nextRunId = next.runId;
}

function startChild(
  context: Context,
  a: temporal.api.command.v1.IStartChildWorkflowExecutionCommandAttributes,
): void {
  const { run, engine } = context;
  const namespace = a.namespace || run.namespace;
  const initiated = add(
    context,
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    'startChildWorkflowExecutionInitiatedEventAttributes',
    {
      namespace,
      workflowId: a.workflowId,
      workflowType: a.workflowType,
      taskQueue: a.taskQueue?.name ? a.taskQueue : { name: run.taskQueue },
      input: a.input,
      workflowExecutionTimeout: a.workflowExecutionTimeout,
      workflowRunTimeout: a.workflowRunTimeout,
      workflowTaskTimeout: a.workflowTaskTimeout,
      parentClosePolicy: a.parentClosePolicy,
      control: a.control,
      workflowTaskCompletedEventId: context.completedEventId,
      workflowIdReusePolicy: a.workflowIdReusePolicy,
      retryPolicy: a.retryPolicy,
      cronSchedule: a.cronSchedule,
      header: a.header,
      memo: a.memo,
      searchAttributes: a.searchAttributes,
      priority: a.priority,
    },
  );
  const initiatedEventId = initiated.eventId as number;
  const workflowType = a.workflowType?.name ?? '';
  const child = {
    initiatedEventId,
    startedEventId: null as number | null,
    workflowId: a.workflowId ?? '',
    runId: null as string | null,
    workflowType,
    namespace,
    parentClosePolicy: a.parentClosePolicy || enums.ParentClosePolicy.PARENT_CLOSE_POLICY_TERMINATE,
  };
  run.children.set(initiatedEventId, child);
  context.afterCommit.push(() => {
    if (!run.isRunning) return;
    try {
      const { run: childRun, started } = engine.startWorkflow(
        {
          namespace,
          workflowId: a.workflowId,
          workflowType: a.workflowType,
          taskQueue: a.taskQueue?.name ? a.taskQueue : { name: run.taskQueue },
          input: a.input,
          workflowExecutionTimeout: a.workflowExecutionTimeout,
          workflowRunTimeout: a.workflowRunTimeout,
          workflowTaskTimeout: a.workflowTaskTimeout,
          workflowIdReusePolicy: a.workflowIdReusePolicy,
          retryPolicy: a.retryPolicy,
          header: a.header,
          memo: a.memo,
          searchAttributes: a.searchAttributes,
          requestId: engine.newRequestId(),
        },
        { parent: { namespace: run.namespace, workflowId: run.workflowId, runId: run.runId, initiatedEventId } },
      );
      if (!started) throw new Error('already running');
      child.runId = childRun.runId;
      engine.deliver(run, () => {
        const startedEvent = run.addEvent(
          EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
          'childWorkflowExecutionStartedEventAttributes',
          {
            namespace,
            initiatedEventId,
            workflowExecution: { workflowId: childRun.workflowId, runId: childRun.runId },
            workflowType: a.workflowType,
            header: a.header,
          },
          engine.now(),
        );
        child.startedEventId = startedEvent.eventId as number;
      });
    } catch {
      run.children.delete(initiatedEventId);
      engine.deliver(run, () =>
        run.addEvent(
          EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
          'startChildWorkflowExecutionFailedEventAttributes',
          {
            namespace,
            workflowId: a.workflowId,
            workflowType: a.workflowType,
            cause: enums.StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS,
            control: a.control,
            initiatedEventId,
            workflowTaskCompletedEventId: context.completedEventId,
          },
          engine.now(),
        ),
      );
    }
  });
}

function signalExternal(
  context: Context,
  a: temporal.api.command.v1.ISignalExternalWorkflowExecutionCommandAttributes,
): void {
  const { run, engine } = context;
  const namespace = a.namespace || run.namespace;
  const initiated = add(
    context,
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    'signalExternalWorkflowExecutionInitiatedEventAttributes',
    {
      workflowTaskCompletedEventId: context.completedEventId,
      namespace,
      workflowExecution: a.execution,
      signalName: a.signalName,
      input: a.input,
      control: a.control,
      childWorkflowOnly: a.childWorkflowOnly,
      header: a.header,
    },
  );
  actOnExternal(context, {
    namespace,
    execution: a.execution,
    initiatedEventId: initiated.eventId,
    control: a.control,
    act: (target) => engine.signal(target, { signalName: a.signalName ?? '', input: a.input, identity: '', header: a.header }),
    done: [EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, 'externalWorkflowExecutionSignaledEventAttributes'],
    failed: [
      EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
      'signalExternalWorkflowExecutionFailedEventAttributes',
      enums.SignalExternalWorkflowExecutionFailedCause
        .SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
    ],
  });
}

function cancelExternal(
  context: Context,
  a: temporal.api.command.v1.IRequestCancelExternalWorkflowExecutionCommandAttributes,
): void {
  const { run, engine } = context;
  const namespace = a.namespace || run.namespace;
  const execution = { workflowId: a.workflowId, runId: a.runId };
  const initiated = add(
    context,
    EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    'requestCancelExternalWorkflowExecutionInitiatedEventAttributes',
    {
      workflowTaskCompletedEventId: context.completedEventId,
      namespace,
      workflowExecution: execution,
      control: a.control,
      childWorkflowOnly: a.childWorkflowOnly,
      reason: a.reason,
    },
  );
  actOnExternal(context, {
    namespace,
    execution,
    initiatedEventId: initiated.eventId,
    control: a.control,
    act: (target) => engine.requestCancel(target, '', a.reason ?? ''),
    done: [
      EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      'externalWorkflowExecutionCancelRequestedEventAttributes',
    ],
    failed: [
      EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
      'requestCancelExternalWorkflowExecutionFailedEventAttributes',
      enums.CancelExternalWorkflowExecutionFailedCause
        .CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND,
    ],
  });
}

/**
 * After the task: signal or cancel another workflow, then tell the initiating workflow how it went
 * (ExternalWorkflowExecution{Signaled,CancelRequested}, or the matching *Failed event).
 */
function actOnExternal(
  context: Context,
  request: {
    namespace: string;
    execution: { workflowId?: string | null; runId?: string | null } | null | undefined;
    initiatedEventId: number;
    control?: string | null;
    act(target: WorkflowRun): void;
    done: [number, string];
    failed: [number, string, number];
  },
): void {
  const { run, engine } = context;
  const { namespace, execution, initiatedEventId, control } = request;
  context.afterCommit.push(() => {
    const target = lookupOpenRun(engine, namespace, execution);
    if (target) request.act(target);
    engine.deliver(run, () => {
      if (target) {
        const [type, field] = request.done;
        run.addEvent(type, field, { initiatedEventId, namespace, workflowExecution: execution, control }, engine.now());
        return;
      }
      const [type, field, cause] = request.failed;
      run.addEvent(
        type,
        field,
        {
          cause,
          workflowTaskCompletedEventId: context.completedEventId,
          namespace,
          workflowExecution: execution,
          initiatedEventId,
          control,
        },
        engine.now(),
      );
    });
  });
}

function lookupOpenRun(
  engine: Engine,
  namespace: string,
  execution: { workflowId?: string | null; runId?: string | null } | null | undefined,
): WorkflowRun | undefined {
  try {
    const run = engine.findRun(namespace, execution);
    return run.isRunning ? run : undefined;
  } catch {
    return undefined;
  }
}
