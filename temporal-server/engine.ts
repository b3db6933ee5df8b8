/**
 * The history service of the in-memory server: workflow runs, their histories, and workflow tasks.
 *
 * Everything a run does is written as history events in the order a real Temporal server writes
 * them, because the SDK's core replays those histories and rejects any that a real server could
 * not have produced. Commands, activities, queries and updates live in their own files and act on
 * the runs kept here.
 */
import { randomUUID } from 'node:crypto';
import { applyCommands, refuseCommands } from './commands';
import { releaseActivities } from './activities';
import type { VirtualClock } from './clock';
import { alreadyStarted, invalidArgument, notFound, requireString } from './errors';
import type { TaskQueues } from './task-queues';
import {
  EventType,
  TaskQueueKind,
  WorkflowExecutionStatus,
  durationToMs,
  enums,
  msToDuration,
  msToTimestamp,
  packAny,
  temporal,
} from './proto';
import type { Failure, Payloads } from './proto';
import { SearchAttributeRegistry } from './search-attributes';
import { WorkflowRun } from './workflow-run';
import type { ParentRef, WorkflowTaskState } from './workflow-run';
import { failUnfinishedUpdates } from './updates';
import { redispatchQueries } from './queries';

type StartRequest = temporal.api.workflowservice.v1.IStartWorkflowExecutionRequest;
type Attrs = Record<string, any>;

const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 10_000;
/** Temporal's matching.stickyPollerUnavailableWindow: a sticky queue without a poller for this long has lost its worker. */
const STICKY_POLLER_UNAVAILABLE_MS = 10_000;
/** Temporal suggests continue-as-new past 4Ki events (dynamic config HistoryCountSuggestContinueAsNew). */
const SUGGEST_CONTINUE_AS_NEW_EVENTS = 4096;

export interface EngineLogger {
  warn(message: string): void;
}

/** Task tokens are opaque to workers; ours name the run and the task they belong to. */
export interface TaskToken {
  runId: string;
  kind: 'workflow' | 'activity' | 'query';
  scheduledEventId?: number;
  attempt?: number;
  queryId?: string;
}

export function encodeToken(token: TaskToken): Buffer {
  return Buffer.from(JSON.stringify(token));
}

export function decodeToken(bytes: Uint8Array | null | undefined): TaskToken {
  try {
    const token = JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as TaskToken;
    if (typeof token.runId !== 'string') throw new Error('no run');
    return token;
  } catch {
    throw invalidArgument('Task token is malformed.');
  }
}

/** Workflow and activity tasks of one task queue name are matched separately, as in Temporal. */
export function queueKey(namespace: string, taskQueue: string, kind: 'workflow' | 'activity'): string {
  return `${kind}\u0000${namespace}\u0000${taskQueue}`;
}

export class Engine {
  readonly runs = new Map<string, WorkflowRun>();
  /** namespace + workflow id → the ids of its runs, oldest first (the last is the current one). */
  private readonly executions = new Map<string, string[]>();
  /** The namespace's defined search attributes (one namespace: `default`). */
  readonly searchAttributes = new SearchAttributeRegistry();

  constructor(
    readonly clock: VirtualClock,
    readonly queues: TaskQueues,
    readonly logger: EngineLogger,
  ) {}

  now() {
    return msToTimestamp(this.clock.now());
  }

  // ---------------------------------------------------------------- lookup

  currentRun(namespace: string, workflowId: string): WorkflowRun | undefined {
    const runIds = this.executions.get(`${namespace}/${workflowId}`);
    return runIds ? this.runs.get(runIds[runIds.length - 1]) : undefined;
  }

  findRun(namespace: string, execution: { workflowId?: string | null; runId?: string | null } | null | undefined) {
    const workflowId = requireString(execution?.workflowId, 'WorkflowId');
    const run = execution?.runId ? this.runs.get(execution.runId) : this.currentRun(namespace, workflowId);
    if (!run || run.workflowId !== workflowId || run.namespace !== namespace) {
      throw notFound(`workflow not found for ID: ${workflowId}`);
    }
    return run;
  }

  allRuns(): Iterable<WorkflowRun> {
    return this.runs.values();
  }

  // ---------------------------------------------------------------- start

  /** Starts a workflow as StartWorkflowExecution does, honouring ID conflict and reuse policies. */
  startWorkflow(
    request: StartRequest,
    options: { parent?: ParentRef; continuedFrom?: WorkflowRun; extraEvents?: (run: WorkflowRun) => void } = {},
  ): { run: WorkflowRun; started: boolean } {
    const namespace = requireString(request.namespace, 'Namespace');
    const workflowId = requireString(request.workflowId, 'WorkflowId');
    const workflowType = requireString(request.workflowType?.name, 'WorkflowType');
    const taskQueue = requireString(request.taskQueue?.name, 'TaskQueue');
    for (const [field, value] of Object.entries({
      WorkflowExecutionTimeout: request.workflowExecutionTimeout,
      WorkflowRunTimeout: request.workflowRunTimeout,
      WorkflowTaskTimeout: request.workflowTaskTimeout,
    })) {
      if (value && durationToMs(value) < 0) throw invalidArgument(`Invalid ${field}.`);
    }
    const refusal = this.searchAttributes.refusal(request.searchAttributes?.indexedFields);
    if (refusal) throw invalidArgument(refusal);

    const existing = this.currentRun(namespace, workflowId);
    if (existing && !options.continuedFrom) {
      const reused = this.resolveIdConflict(existing, request);
      if (reused) return { run: reused, started: false };
    }

    const runId = randomUUID();
    const firstRunId = options.continuedFrom?.firstRunId ?? runId;
    const runTimeoutMs = durationToMs(request.workflowRunTimeout) || durationToMs(request.workflowExecutionTimeout);
    const run = new WorkflowRun(
      namespace,
      workflowId,
      runId,
      firstRunId,
      workflowType,
      taskQueue,
      request,
      this.clock.now(),
      options.parent ?? null,
      durationToMs(request.workflowTaskTimeout) || DEFAULT_WORKFLOW_TASK_TIMEOUT_MS,
      runTimeoutMs,
    );
    this.runs.set(runId, run);
    const key = `${namespace}/${workflowId}`;
    this.executions.set(key, [...(this.executions.get(key) ?? []), runId]);

    this.addStartedEvent(run, request, options);
    options.extraEvents?.(run);
    const delayMs = durationToMs(request.workflowStartDelay);
    if (delayMs > 0) this.clock.after(delayMs, () => this.scheduleWorkflowTask(run));
    else this.scheduleWorkflowTask(run);
    if (runTimeoutMs > 0) {
      run.cancelRunTimeout = this.clock.after(runTimeoutMs, () => this.timeOutRun(run));
    }
    return { run, started: true };
  }

  /** Returns the run to reuse, or null to start a new one; throws ALREADY_EXISTS per the policies. */
  private resolveIdConflict(existing: WorkflowRun, request: StartRequest): WorkflowRun | null {
    const conflict = enums.WorkflowIdConflictPolicy;
    const reuse = enums.WorkflowIdReusePolicy;
    if (existing.isRunning) {
      if (request.requestId && existing.startRequest.requestId === request.requestId) return existing;
      if (request.workflowIdConflictPolicy === conflict.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) return existing;
      if (
        request.workflowIdConflictPolicy === conflict.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING ||
        request.workflowIdReusePolicy === reuse.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING
      ) {
        this.terminate(existing, 'terminated by a new start with the same workflow id', undefined, 'server');
        return null;
      }
      throw alreadyStarted(
        `Workflow execution is already running. WorkflowId: ${existing.workflowId}, RunId: ${existing.runId}.`,
        existing.startRequest.requestId ?? '',
        existing.runId,
      );
    }
    const policy = request.workflowIdReusePolicy;
    if (policy === reuse.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
      throw alreadyStarted(
        `Workflow execution already finished and WorkflowIdReusePolicy is REJECT_DUPLICATE. WorkflowId: ${existing.workflowId}, RunId: ${existing.runId}.`,
        existing.startRequest.requestId ?? '',
        existing.runId,
      );
    }
    const succeeded =
      existing.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED ||
      existing.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW;
    if (policy === reuse.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && succeeded) {
      throw alreadyStarted(
        `Workflow execution already finished successfully and WorkflowIdReusePolicy is ALLOW_DUPLICATE_FAILED_ONLY. WorkflowId: ${existing.workflowId}, RunId: ${existing.runId}.`,
        existing.startRequest.requestId ?? '',
        existing.runId,
      );
    }
    return null;
  }

  private addStartedEvent(
    run: WorkflowRun,
    request: StartRequest,
    options: { parent?: ParentRef; continuedFrom?: WorkflowRun },
  ): void {
    const previous = options.continuedFrom;
    const parent = options.parent;
    run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      'workflowExecutionStartedEventAttributes',
      {
        workflowType: { name: run.workflowType },
        taskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        input: request.input,
        workflowExecutionTimeout: request.workflowExecutionTimeout,
        workflowRunTimeout: run.runTimeoutMs ? msToDuration(run.runTimeoutMs) : undefined,
        workflowTaskTimeout: msToDuration(run.workflowTaskTimeoutMs),
        continuedExecutionRunId: previous?.runId,
        initiator: previous ? enums.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW : undefined,
        originalExecutionRunId: run.runId,
        firstExecutionRunId: run.firstRunId,
        identity: request.identity,
        retryPolicy: request.retryPolicy,
        attempt: 1,
        cronSchedule: request.cronSchedule,
        // Copies: upserts and memo changes later change the run's maps, never its start event.
        memo: { fields: { ...run.memo } },
        searchAttributes: { indexedFields: { ...run.searchAttributes } },
        header: request.header,
        workflowId: run.workflowId,
        parentWorkflowNamespace: parent?.namespace,
        parentWorkflowExecution: parent ? { workflowId: parent.workflowId, runId: parent.runId } : undefined,
        parentInitiatedEventId: parent?.initiatedEventId,
        rootWorkflowExecution: this.rootOf(run),
        priority: request.priority,
      },
      this.now(),
    );
  }

  private rootOf(run: WorkflowRun): { workflowId: string; runId: string } {
    let current = run;
    while (current.parent) {
      const parentRun = this.runs.get(current.parent.runId);
      if (!parentRun) break;
      current = parentRun;
    }
    return { workflowId: current.workflowId, runId: current.runId };
  }

  // ---------------------------------------------------------------- events from outside

  /**
   * Writes an event that arrived from outside the workflow (signal, activity result, timer, child).
   * While a workflow task is in flight it waits in the buffer, as Temporal buffers such events, and
   * is written after the task's completion; either way a workflow task follows.
   */
  deliver(run: WorkflowRun, write: () => void): void {
    if (!run.isRunning) return;
    if (run.workflowTaskInFlight) {
      run.buffered.push(write);
      return;
    }
    write();
    // An event written after a speculative task was scheduled makes that task a real one.
    if (run.workflowTask) run.workflowTask.speculative = false;
    this.scheduleWorkflowTask(run);
  }

  flushBuffered(run: WorkflowRun): boolean {
    const buffered = run.buffered.splice(0);
    for (const write of buffered) write();
    return buffered.length > 0;
  }

  signal(
    run: WorkflowRun,
    signal: { signalName: string; input?: Payloads | null; identity?: string | null; header?: object | null },
    requestId?: string | null,
  ): void {
    if (!run.isRunning) throw notFound('workflow execution already completed');
    if (requestId) {
      if (run.signalRequestIds.has(requestId)) return;
      run.signalRequestIds.add(requestId);
    }
    this.deliver(run, () =>
      run.addEvent(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        'workflowExecutionSignaledEventAttributes',
        { signalName: signal.signalName, input: signal.input, identity: signal.identity, header: signal.header },
        this.now(),
      ),
    );
  }

  requestCancel(run: WorkflowRun, identity: string, reason: string): void {
    if (!run.isRunning) throw notFound('workflow execution already completed');
    if (run.cancelRequested) return;
    run.cancelRequested = true;
    this.deliver(run, () =>
      run.addEvent(
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        'workflowExecutionCancelRequestedEventAttributes',
        { cause: reason, identity },
        this.now(),
      ),
    );
  }

  terminate(run: WorkflowRun, reason: string, details: Payloads | undefined | null, identity: string): void {
    if (!run.isRunning) throw notFound('workflow execution already completed');
    const task = run.workflowTask;
    if (task?.startedEventId != null) {
      run.addEvent(
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        'workflowTaskFailedEventAttributes',
        {
          scheduledEventId: task.scheduledEventId,
          startedEventId: task.startedEventId,
          cause: enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
          identity,
        },
        this.now(),
      );
    }
    run.buffered = [];
    run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
      'workflowExecutionTerminatedEventAttributes',
      { reason, details, identity },
      this.now(),
    );
    this.closeRun(run, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED);
  }

  private timeOutRun(run: WorkflowRun): void {
    if (!run.isRunning) return;
    run.buffered = [];
    run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
      'workflowExecutionTimedOutEventAttributes',
      { retryState: enums.RetryState.RETRY_STATE_TIMEOUT },
      this.now(),
    );
    this.closeRun(run, WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  }

  // ---------------------------------------------------------------- workflow tasks

  scheduleWorkflowTask(run: WorkflowRun, attempt = 1, speculative = false): void {
    if (!run.isRunning || run.workflowTask) return;
    const stickyQueue = run.stickyQueue;
    const event = run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      'workflowTaskScheduledEventAttributes',
      {
        taskQueue: stickyQueue
          ? { name: stickyQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_STICKY, normalName: run.taskQueue }
          : { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        startToCloseTimeout: msToDuration(run.workflowTaskTimeoutMs),
        attempt,
      },
      this.now(),
    );
    const task: WorkflowTaskState = {
      scheduledEventId: event.eventId as number,
      startedEventId: null,
      attempt,
      stickyQueue,
      scheduledAt: this.clock.now(),
      startedAt: null,
      queryIds: [],
      updateIds: [],
      speculative,
    };
    run.workflowTask = task;
    this.clock.hold(`workflow-task:${run.runId}`);
    this.enqueueWorkflowTask(run, task);
  }

  private enqueueWorkflowTask(run: WorkflowRun, task: WorkflowTaskState): void {
    if (task.stickyQueue && !this.queues.hasRecentPoller(queueKey(run.namespace, task.stickyQueue, 'workflow'), STICKY_POLLER_UNAVAILABLE_MS)) {
      // As Temporal's matching answers StickyWorkerUnavailable for a sticky queue nobody has polled
      // lately (a worker that crashed without ShutdownWorker), the task goes to the normal queue at
      // once instead of waiting out the sticky schedule-to-start timeout.
      task.stickyQueue = null;
      run.stickyQueue = null;
    }
    const queueName = task.stickyQueue ?? run.taskQueue;
    this.queues.add(queueKey(run.namespace, queueName, 'workflow'), () => this.startWorkflowTask(run, task));
    if (task.stickyQueue) {
      // A sticky worker that does not take the task in time loses it to the normal queue.
      const stickyQueue = task.stickyQueue;
      setTimeout(() => {
        if (run.workflowTask !== task || task.startedEventId !== null || task.stickyQueue !== stickyQueue) return;
        task.stickyQueue = null;
        run.stickyQueue = null;
        this.enqueueWorkflowTask(run, task);
      }, run.stickyScheduleToStartMs).unref();
    }
  }

  /** Hands the task to a poller: writes WorkflowTaskStarted and builds the poll response. */
  private startWorkflowTask(run: WorkflowRun, task: WorkflowTaskState): object | null {
    if (!run.isRunning || run.workflowTask !== task || task.startedEventId !== null) return null;
    const historyLength = run.history.length + 1;
    const started = run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      'workflowTaskStartedEventAttributes',
      {
        scheduledEventId: task.scheduledEventId,
        identity: '',
        requestId: randomUUID(),
        historySizeBytes: run.historySizeBytes(),
        suggestContinueAsNew: historyLength >= SUGGEST_CONTINUE_AS_NEW_EVENTS,
      },
      this.now(),
    );
    task.startedEventId = started.eventId as number;
    task.startedAt = this.clock.now();
    task.cancelTimeout = this.clock.after(run.workflowTaskTimeoutMs, () => this.timeOutWorkflowTask(run, task));

    const messages = [];
    for (const update of run.updates.values()) {
      if (update.stage !== 'admitted') continue;
      update.stage = 'sent';
      task.updateIds.push(update.id);
      messages.push({
        id: `${update.id}/request`,
        protocolInstanceId: update.id,
        eventId: task.startedEventId - 1,
        body: packAny('temporal.api.update.v1.Request', update.request),
      });
    }
    const queries: Record<string, object> = {};
    for (const query of run.queries) {
      if (!query.carrier) {
        query.carrier = 'workflow-task';
        task.queryIds.push(query.id);
        queries[query.id] = query.query;
      }
    }
    const events = task.stickyQueue ? run.history.slice(run.previousStartedEventId) : run.history;
    return {
      taskToken: encodeToken({ runId: run.runId, kind: 'workflow', scheduledEventId: task.scheduledEventId }),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: run.previousStartedEventId,
      startedEventId: task.startedEventId,
      attempt: task.attempt,
      history: { events: [...events] },
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      scheduledTime: msToTimestamp(task.scheduledAt),
      startedTime: msToTimestamp(task.startedAt),
      queries,
      messages,
    };
  }

  /** The run and task a worker's workflow-task token names, if the task is still in flight. */
  private taskInFlight(tokenBytes: Uint8Array | null | undefined): { run: WorkflowRun; task: WorkflowTaskState } {
    const token = decodeToken(tokenBytes);
    const run = this.runs.get(token.runId);
    const task = run?.workflowTask;
    if (!run || !run.isRunning || !task || task.scheduledEventId !== token.scheduledEventId || task.startedEventId === null) {
      throw notFound('Workflow task not found.');
    }
    return { run, task };
  }

  private endWorkflowTaskAttempt(run: WorkflowRun, task: WorkflowTaskState): void {
    task.cancelTimeout?.();
    run.workflowTask = null;
    this.clock.release(`workflow-task:${run.runId}`);
    // Updates the worker saw but neither accepted nor rejected go out again with the next task.
    for (const id of task.updateIds) {
      const update = run.updates.get(id);
      if (update?.stage === 'sent') update.stage = 'admitted';
    }
    // Queries attached to this task that the worker did not answer are dispatched again.
    for (const query of run.queries) if (task.queryIds.includes(query.id)) query.carrier = null;
  }

  completeWorkflowTask(request: temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest): object {
    const { run, task } = this.taskInFlight(request.taskToken);
    const sticky = request.stickyAttributes?.workerTaskQueue?.name;
    run.stickyQueue = sticky || null;
    if (sticky) run.stickyScheduleToStartMs = durationToMs(request.stickyAttributes?.scheduleToStartTimeout) || 10_000;

    for (const [queryId, result] of Object.entries(request.queryResults ?? {})) {
      this.answerQuery(run, queryId, result);
    }

    const commands = request.commands ?? [];
    const closes = commands.some((command) => CLOSING_COMMANDS.has(command.commandType ?? 0));
    const newUpdates = [...run.updates.values()].some((update) => update.stage === 'admitted');
    if (closes && (run.buffered.length > 0 || newUpdates)) {
      // Temporal refuses to close a workflow that has not seen its newest events: it fails the task
      // and answers InvalidArgument "UnhandledCommand", on which the SDK evicts its cached run and
      // replays with the new events instead of repeating its old commands.
      this.failWorkflowTaskWith(run, task, enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, request.identity ?? '');
      throw invalidArgument('UnhandledCommand');
    }
    const refused = refuseCommands(this, commands);
    if (refused) {
      // As Temporal does with an invalid command: none of the task's commands take effect, the
      // task fails with the cause (and is retried), and the worker is answered InvalidArgument.
      const failure = { message: refused.message, source: 'Server', serverFailureInfo: { nonRetryable: false } };
      this.failWorkflowTaskWith(run, task, refused.cause, request.identity ?? '', failure);
      throw invalidArgument(refused.message);
    }

    if (this.dropSpeculativeTask(run, task, request)) {
      // Tells the worker its task was discarded and where history really ends.
      return { resetHistoryEventId: run.previousStartedEventId };
    }

    const completed = run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
      'workflowTaskCompletedEventAttributes',
      {
        scheduledEventId: task.scheduledEventId,
        startedEventId: task.startedEventId,
        identity: request.identity,
        binaryChecksum: request.binaryChecksum,
        workerVersion: request.workerVersionStamp,
        sdkMetadata: request.sdkMetadata,
        meteringMetadata: request.meteringMetadata,
        deployment: request.deployment,
        versioningBehavior: request.versioningBehavior,
      },
      this.now(),
    );
    run.previousStartedEventId = task.startedEventId!;
    run.lastCompletedTaskEventId = completed.eventId as number;
    this.endWorkflowTaskAttempt(run, task);

    const outcome = applyCommands(this, run, commands, request.messages ?? [], completed.eventId as number);
    if (run.isRunning) {
      const hadBuffered = this.flushBuffered(run);
      const pendingUpdates = [...run.updates.values()].some((update) => update.stage === 'admitted');
      if (outcome.needsWorkflowTask || hadBuffered || pendingUpdates || request.forceCreateNewWorkflowTask) {
        this.scheduleWorkflowTask(run);
      } else {
        redispatchQueries(this, run);
      }
    }
    for (const action of outcome.afterCommit) action();
    return {};
  }

  /**
   * A speculative task whose worker only rejected updates leaves no trace: its Scheduled and
   * Started events are removed and the next task reuses their ids, as on a real server.
   */
  private dropSpeculativeTask(
    run: WorkflowRun,
    task: WorkflowTaskState,
    request: temporal.api.workflowservice.v1.IRespondWorkflowTaskCompletedRequest,
  ): boolean {
    const onlyRejections = (request.messages ?? []).every(
      (message) => message.body?.type_url?.endsWith('temporal.api.update.v1.Rejection'),
    );
    const last = run.history[run.history.length - 1];
    const beforeLast = run.history[run.history.length - 2];
    if (
      !task.speculative ||
      (request.commands ?? []).length > 0 ||
      !onlyRejections ||
      run.buffered.length > 0 ||
      last?.eventId !== task.startedEventId ||
      beforeLast?.eventId !== task.scheduledEventId
    ) {
      return false;
    }
    run.history.length -= 2;
    this.endWorkflowTaskAttempt(run, task);
    applyCommands(this, run, [], request.messages ?? [], 0);
    if ([...run.updates.values()].some((update) => update.stage === 'admitted')) {
      this.scheduleWorkflowTask(run, 1, true);
    } else {
      redispatchQueries(this, run);
    }
    return true;
  }

  failWorkflowTask(request: temporal.api.workflowservice.v1.IRespondWorkflowTaskFailedRequest): object {
    const { run, task } = this.taskInFlight(request.taskToken);
    this.failWorkflowTaskWith(run, task, request.cause ?? 0, request.identity ?? '', request.failure ?? undefined);
    return {};
  }

  private failWorkflowTaskWith(
    run: WorkflowRun,
    task: WorkflowTaskState,
    cause: number,
    identity: string,
    failure?: Failure,
  ): void {
    run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
      'workflowTaskFailedEventAttributes',
      { scheduledEventId: task.scheduledEventId, startedEventId: task.startedEventId, cause, failure, identity },
      this.now(),
    );
    this.endWorkflowTaskAttempt(run, task);
    this.flushBuffered(run);
    // As Temporal does on any failed workflow task, stickiness is dropped: the worker has evicted
    // (or will evict) its cached run, so the next task carries the full history.
    run.stickyQueue = null;
    const unhandled = cause === enums.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND;
    if (unhandled) {
      this.scheduleWorkflowTask(run);
      return;
    }
    // A failing task is retried with the next attempt; past the second, with a growing pause.
    const attempt = task.attempt + 1;
    const pauseMs = attempt <= 2 ? 0 : Math.min(1000 * 2 ** (attempt - 3), 60_000);
    if (pauseMs === 0) {
      this.scheduleWorkflowTask(run, attempt);
      return;
    }
    this.clock.hold(`workflow-task-retry:${run.runId}`);
    setTimeout(() => {
      this.clock.release(`workflow-task-retry:${run.runId}`);
      this.scheduleWorkflowTask(run, attempt);
    }, pauseMs).unref();
  }

  private timeOutWorkflowTask(run: WorkflowRun, task: WorkflowTaskState): void {
    if (run.workflowTask !== task || !run.isRunning) return;
    run.addEvent(
      EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
      'workflowTaskTimedOutEventAttributes',
      {
        scheduledEventId: task.scheduledEventId,
        startedEventId: task.startedEventId,
        timeoutType: enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
      },
      this.now(),
    );
    this.endWorkflowTaskAttempt(run, task);
    run.stickyQueue = null;
    this.flushBuffered(run);
    this.scheduleWorkflowTask(run, task.attempt + 1);
  }

  /** A sticky worker went away: its workflows' tasks go to the normal queue from now on. */
  dropStickyQueue(namespace: string, stickyQueue: string): void {
    for (const run of this.runs.values()) {
      if (run.namespace !== namespace || run.stickyQueue !== stickyQueue) continue;
      run.stickyQueue = null;
      const task = run.workflowTask;
      if (task && task.startedEventId === null && task.stickyQueue === stickyQueue) {
        task.stickyQueue = null;
        this.enqueueWorkflowTask(run, task);
      }
    }
  }

  // ---------------------------------------------------------------- queries (answers)

  answerQuery(run: WorkflowRun, queryId: string, result: temporal.api.query.v1.IWorkflowQueryResult): void {
    const index = run.queries.findIndex((query) => query.id === queryId);
    if (index < 0) return;
    const [query] = run.queries.splice(index, 1);
    if (result.resultType === enums.QueryResultType.QUERY_RESULT_TYPE_ANSWERED) query.resolve({ answer: result.answer ?? undefined });
    else query.resolve({ error: result.errorMessage || 'query failed' });
  }

  // ---------------------------------------------------------------- closing

  /** Closes a run whose close event has just been written, and settles everything hanging on it. */
  closeRun(run: WorkflowRun, status: number): void {
    run.status = status;
    run.closeTime = this.clock.now();
    run.cancelRunTimeout?.();
    if (run.workflowTask) this.endWorkflowTaskAttempt(run, run.workflowTask);
    for (const timer of run.timers.values()) timer.cancel();
    run.timers.clear();
    releaseActivities(this, run);
    failUnfinishedUpdates(run);
    redispatchQueries(this, run);
    if (status !== WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW) {
      this.notifyParent(run);
    }
    this.applyParentClosePolicies(run);
    for (const wake of run.eventWaiters.splice(0)) wake();
  }

  private notifyParent(child: WorkflowRun): void {
    const ref = child.parent;
    if (!ref) return;
    const parent = this.runs.get(ref.runId);
    if (!parent?.isRunning) return;
    const state = parent.children.get(ref.initiatedEventId);
    if (!state) return;
    const closeEvent = child.closeEvent()!;
    const common = {
      namespace: child.namespace,
      workflowExecution: { workflowId: child.workflowId, runId: child.runId },
      workflowType: { name: state.workflowType },
      initiatedEventId: ref.initiatedEventId,
      startedEventId: state.startedEventId,
    };
    const close = childCloseEvent(closeEvent as Attrs, common);
    parent.children.delete(ref.initiatedEventId);
    this.deliver(parent, () => parent.addEvent(close.type, close.field, close.attributes, this.now()));
  }

  private applyParentClosePolicies(parent: WorkflowRun): void {
    const policy = enums.ParentClosePolicy;
    for (const child of parent.children.values()) {
      if (!child.runId) continue;
      const childRun = this.currentRun(child.namespace, child.workflowId);
      if (!childRun?.isRunning) continue;
      if (child.parentClosePolicy === policy.PARENT_CLOSE_POLICY_ABANDON) continue;
      if (child.parentClosePolicy === policy.PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
        this.requestCancel(childRun, 'server', 'parent closed');
      } else {
        this.terminate(childRun, 'by parent close policy', undefined, 'server');
      }
    }
  }

  newRequestId(): string {
    return randomUUID();
  }
}

const CLOSING_COMMANDS = new Set<number>([
  enums.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
  enums.CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
  enums.CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
  enums.CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
]);

/** The event a parent receives for a child's close event. */
function childCloseEvent(closeEvent: Attrs, common: Attrs): { type: number; field: string; attributes: Attrs } {
  switch (closeEvent.eventType) {
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return {
        type: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        field: 'childWorkflowExecutionCompletedEventAttributes',
        attributes: { ...common, result: closeEvent.workflowExecutionCompletedEventAttributes.result },
      };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      return {
        type: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        field: 'childWorkflowExecutionFailedEventAttributes',
        attributes: {
          ...common,
          failure: closeEvent.workflowExecutionFailedEventAttributes.failure,
          retryState: closeEvent.workflowExecutionFailedEventAttributes.retryState,
        },
      };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      return {
        type: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        field: 'childWorkflowExecutionCanceledEventAttributes',
        attributes: { ...common, details: closeEvent.workflowExecutionCanceledEventAttributes.details },
      };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
      return {
        type: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        field: 'childWorkflowExecutionTimedOutEventAttributes',
        attributes: { ...common, retryState: enums.RetryState.RETRY_STATE_TIMEOUT },
      };
    default:
      return {
        type: EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
        field: 'childWorkflowExecutionTerminatedEventAttributes',
        attributes: common,
      };
  }
}
