/**
 * Activity tasks: scheduling, attempts, retries with backoff, timeouts, heartbeats, cancellation.
 *
 * As in Temporal, retries write no history: an activity has one ActivityTaskScheduled event, and
 * ActivityTaskStarted is written only when the activity closes, carrying the last attempt number
 * and the last failure, immediately before its completed/failed/timed-out/canceled event.
 */
import type { Engine } from './engine';
import { decodeToken, encodeToken, queueKey } from './engine';
import { invalidArgument, notFound } from './errors';
import { EventType, durationToMs, toNumber, enums, msToDuration, msToTimestamp, temporal } from './proto';
import type { Failure, Payloads } from './proto';
import type { WorkflowRun } from './workflow-run';

type ScheduleAttributes = temporal.api.command.v1.IScheduleActivityTaskCommandAttributes;

export interface ActivityState {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  attributes: ScheduleAttributes;
  retryPolicy: {
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
    maximumAttempts: number;
    nonRetryableErrorTypes: string[];
  };
  scheduleToCloseMs: number;
  startToCloseMs: number;
  heartbeatMs: number;
  firstScheduledAt: number;
  attempt: number;
  phase: 'scheduled' | 'started' | 'backoff';
  attemptScheduledAt: number;
  startedAt: number | null;
  startedIdentity: string;
  heartbeatDetails: Payloads | null;
  lastFailure: Failure | null;
  cancelRequested: boolean;
  cancelRequestedEventId: number | null;
  /** Cancels the timers of the current attempt (start-to-close, heartbeat, backoff). */
  cancelAttemptTimers: Array<() => void>;
  cancelScheduleToClose: (() => void) | null;
}

const R = enums.RetryState;
const holdKey = (run: WorkflowRun, activity: ActivityState) => `activity:${run.runId}:${activity.scheduledEventId}`;

export function scheduleActivity(
  engine: Engine,
  run: WorkflowRun,
  a: ScheduleAttributes,
  completedEventId: number,
): void {
  if (!a.activityId || !a.activityType?.name) throw invalidArgument('ActivityId and ActivityType are required.');
  const scheduleToCloseMs = durationToMs(a.scheduleToCloseTimeout);
  const startToCloseMs = durationToMs(a.startToCloseTimeout) || scheduleToCloseMs;
  if (!startToCloseMs) throw invalidArgument('A valid StartToClose or ScheduleToCloseTimeout is not set on command.');
  const initialIntervalMs = durationToMs(a.retryPolicy?.initialInterval) || 1000;
  const retryPolicy = {
    initialIntervalMs,
    backoffCoefficient: a.retryPolicy?.backoffCoefficient || 2,
    maximumIntervalMs: durationToMs(a.retryPolicy?.maximumInterval) || 100 * initialIntervalMs,
    maximumAttempts: a.retryPolicy?.maximumAttempts ?? 0,
    nonRetryableErrorTypes: a.retryPolicy?.nonRetryableErrorTypes ?? [],
  };
  const taskQueue = a.taskQueue?.name || run.taskQueue;
  const event = run.addEvent(
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    'activityTaskScheduledEventAttributes',
    {
      activityId: a.activityId,
      activityType: a.activityType,
      taskQueue: { name: taskQueue, kind: enums.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      header: a.header,
      input: a.input,
      // Temporal writes every timeout explicitly; zero means "no limit".
      scheduleToCloseTimeout: msToDuration(scheduleToCloseMs),
      scheduleToStartTimeout: msToDuration(durationToMs(a.scheduleToStartTimeout) || scheduleToCloseMs),
      startToCloseTimeout: msToDuration(startToCloseMs),
      heartbeatTimeout: msToDuration(durationToMs(a.heartbeatTimeout)),
      workflowTaskCompletedEventId: completedEventId,
      retryPolicy: {
        initialInterval: msToDuration(retryPolicy.initialIntervalMs),
        backoffCoefficient: retryPolicy.backoffCoefficient,
        maximumInterval: msToDuration(retryPolicy.maximumIntervalMs),
        maximumAttempts: retryPolicy.maximumAttempts,
        nonRetryableErrorTypes: retryPolicy.nonRetryableErrorTypes,
      },
      priority: a.priority,
    },
    engine.now(),
  );
  const activity: ActivityState = {
    scheduledEventId: event.eventId as number,
    activityId: a.activityId,
    activityType: a.activityType.name,
    taskQueue,
    attributes: a,
    retryPolicy,
    scheduleToCloseMs,
    startToCloseMs,
    heartbeatMs: durationToMs(a.heartbeatTimeout),
    firstScheduledAt: engine.clock.now(),
    attempt: 1,
    phase: 'scheduled',
    attemptScheduledAt: engine.clock.now(),
    startedAt: null,
    startedIdentity: '',
    heartbeatDetails: null,
    lastFailure: null,
    cancelRequested: false,
    cancelRequestedEventId: null,
    cancelAttemptTimers: [],
    cancelScheduleToClose: null,
  };
  run.activities.set(activity.scheduledEventId, activity);
  if (scheduleToCloseMs > 0) {
    activity.cancelScheduleToClose = engine.clock.after(scheduleToCloseMs, () =>
      timeOut(engine, run, activity, enums.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE),
    );
  }
  dispatchAttempt(engine, run, activity);
}

/** Puts the current attempt on the task queue; time does not skip while it waits or runs. */
function dispatchAttempt(engine: Engine, run: WorkflowRun, activity: ActivityState): void {
  activity.phase = 'scheduled';
  activity.attemptScheduledAt = engine.clock.now();
  engine.clock.hold(holdKey(run, activity));
  const attempt = activity.attempt;
  engine.queues.add(queueKey(run.namespace, activity.taskQueue, 'activity'), () => startAttempt(engine, run, activity, attempt));
}

function startAttempt(engine: Engine, run: WorkflowRun, activity: ActivityState, attempt: number): object | null {
  if (run.activities.get(activity.scheduledEventId) !== activity || activity.attempt !== attempt) return null;
  if (activity.phase !== 'scheduled') return null;
  activity.phase = 'started';
  activity.startedAt = engine.clock.now();
  const a = activity.attributes;
  activity.cancelAttemptTimers.push(
    engine.clock.after(activity.startToCloseMs, () =>
      timeOut(engine, run, activity, enums.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE),
    ),
  );
  armHeartbeatTimeout(engine, run, activity);
  return {
    taskToken: encodeToken({ runId: run.runId, kind: 'activity', scheduledEventId: activity.scheduledEventId, attempt }),
    workflowNamespace: run.namespace,
    workflowType: { name: run.workflowType },
    workflowExecution: { workflowId: run.workflowId, runId: run.runId },
    activityType: a.activityType,
    activityId: activity.activityId,
    header: a.header,
    input: a.input,
    heartbeatDetails: activity.heartbeatDetails,
    scheduledTime: msToTimestamp(activity.firstScheduledAt),
    currentAttemptScheduledTime: msToTimestamp(activity.attemptScheduledAt),
    startedTime: msToTimestamp(activity.startedAt),
    attempt,
    scheduleToCloseTimeout: msToDuration(activity.scheduleToCloseMs),
    startToCloseTimeout: msToDuration(activity.startToCloseMs),
    heartbeatTimeout: msToDuration(activity.heartbeatMs),
    retryPolicy: {
      initialInterval: msToDuration(activity.retryPolicy.initialIntervalMs),
      backoffCoefficient: activity.retryPolicy.backoffCoefficient,
      maximumInterval: msToDuration(activity.retryPolicy.maximumIntervalMs),
      maximumAttempts: activity.retryPolicy.maximumAttempts,
      nonRetryableErrorTypes: activity.retryPolicy.nonRetryableErrorTypes,
    },
    priority: a.priority,
  };
}

function armHeartbeatTimeout(engine: Engine, run: WorkflowRun, activity: ActivityState): void {
  if (!activity.heartbeatMs) return;
  const attempt = activity.attempt;
  activity.cancelAttemptTimers.push(
    engine.clock.after(activity.heartbeatMs, () => {
      if (activity.attempt === attempt) timeOut(engine, run, activity, enums.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    }),
  );
}

function endAttempt(engine: Engine, run: WorkflowRun, activity: ActivityState): void {
  for (const cancel of activity.cancelAttemptTimers.splice(0)) cancel();
  if (activity.phase !== 'backoff') engine.clock.release(holdKey(run, activity));
}

/** The activity an activity-task token names, if that attempt is still running. */
function runningAttempt(engine: Engine, tokenBytes: Uint8Array | null | undefined) {
  const token = decodeToken(tokenBytes);
  const run = engine.runs.get(token.runId);
  const activity = run?.activities.get(token.scheduledEventId ?? -1);
  if (!run || !run.isRunning || !activity || activity.attempt !== token.attempt || activity.phase !== 'started') {
    throw notFound('Activity task not found.');
  }
  return { run, activity };
}

/** Closes the activity: writes ActivityTaskStarted, then its closing event, for the workflow to see. */
function close(
  engine: Engine,
  run: WorkflowRun,
  activity: ActivityState,
  type: number,
  field: string,
  attributes: Record<string, unknown>,
): void {
  endAttempt(engine, run, activity);
  activity.cancelScheduleToClose?.();
  run.activities.delete(activity.scheduledEventId);
  engine.deliver(run, () => {
    let startedEventId = 0;
    if (activity.startedAt !== null) {
      const started = run.addEvent(
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        'activityTaskStartedEventAttributes',
        {
          scheduledEventId: activity.scheduledEventId,
          identity: activity.startedIdentity,
          requestId: engine.newRequestId(),
          attempt: activity.attempt,
          lastFailure: activity.lastFailure,
        },
        msToTimestamp(activity.startedAt),
      );
      startedEventId = started.eventId as number;
    }
    run.addEvent(type, field, { ...attributes, scheduledEventId: activity.scheduledEventId, startedEventId }, engine.now());
  });
}

export function completeActivity(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IRespondActivityTaskCompletedRequest,
): object {
  const { run, activity } = runningAttempt(engine, request.taskToken);
  activity.startedIdentity = request.identity ?? '';
  close(engine, run, activity, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, 'activityTaskCompletedEventAttributes', {
    result: request.result,
    identity: request.identity,
  });
  return {};
}

export function failActivity(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IRespondActivityTaskFailedRequest,
): object {
  const { run, activity } = runningAttempt(engine, request.taskToken);
  activity.startedIdentity = request.identity ?? '';
  if (request.lastHeartbeatDetails) activity.heartbeatDetails = request.lastHeartbeatDetails;
  const failure = request.failure ?? { message: 'activity failed' };
  const info = failure.applicationFailureInfo;
  const nonRetryable =
    info?.nonRetryable || activity.retryPolicy.nonRetryableErrorTypes.includes(info?.type ?? '\u0000');
  const retry = nonRetryable ? { state: R.RETRY_STATE_NON_RETRYABLE_FAILURE } : retryDecision(engine, activity, failure);
  if ('delayMs' in retry) {
    retryAfter(engine, run, activity, failure, retry.delayMs);
    return {};
  }
  close(engine, run, activity, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED, 'activityTaskFailedEventAttributes', {
    failure,
    identity: request.identity,
    retryState: retry.state,
  });
  return {};
}

export function cancelActivity(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IRespondActivityTaskCanceledRequest,
): object {
  const { run, activity } = runningAttempt(engine, request.taskToken);
  activity.startedIdentity = request.identity ?? '';
  close(engine, run, activity, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED, 'activityTaskCanceledEventAttributes', {
    details: request.details,
    latestCancelRequestedEventId: activity.cancelRequestedEventId ?? 0,
    identity: request.identity,
  });
  return {};
}

export function heartbeatActivity(
  engine: Engine,
  request: temporal.api.workflowservice.v1.IRecordActivityTaskHeartbeatRequest,
): object {
  const { run, activity } = runningAttempt(engine, request.taskToken);
  if (request.details) activity.heartbeatDetails = request.details;
  // Re-arm the heartbeat timeout: keep the start-to-close timer (the first), drop the old heartbeat timer.
  if (activity.heartbeatMs) {
    const [startToClose, ...heartbeats] = activity.cancelAttemptTimers;
    for (const cancel of heartbeats) cancel();
    activity.cancelAttemptTimers = [startToClose];
    armHeartbeatTimeout(engine, run, activity);
  }
  return { cancelRequested: activity.cancelRequested };
}

/** Temporal's retry rule: exponential backoff, bounded by maximum attempts and schedule-to-close. */
function retryDecision(
  engine: Engine,
  activity: ActivityState,
  failure: Failure,
): { delayMs: number } | { state: number } {
  const policy = activity.retryPolicy;
  if (policy.maximumAttempts > 0 && activity.attempt >= policy.maximumAttempts) {
    return { state: R.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED };
  }
  const explicitDelay = durationToMs(failure.applicationFailureInfo?.nextRetryDelay);
  const backoff = Math.min(
    policy.initialIntervalMs * policy.backoffCoefficient ** (activity.attempt - 1),
    policy.maximumIntervalMs,
  );
  const delayMs = explicitDelay || backoff;
  if (activity.scheduleToCloseMs > 0 && engine.clock.now() + delayMs >= activity.firstScheduledAt + activity.scheduleToCloseMs) {
    return { state: R.RETRY_STATE_TIMEOUT };
  }
  return { delayMs };
}

function retryAfter(engine: Engine, run: WorkflowRun, activity: ActivityState, failure: Failure, delayMs: number): void {
  endAttempt(engine, run, activity);
  activity.lastFailure = failure;
  activity.phase = 'backoff';
  activity.startedAt = null;
  activity.attempt += 1;
  // A retry's backoff is a timer the server keeps for the workflow: it may fire as late as one of
  // the workflow's own timers of that length (the clock's workflowTimerSlack), never early.
  activity.cancelAttemptTimers.push(
    engine.clock.after(delayMs, () => {
      if (run.activities.get(activity.scheduledEventId) !== activity) return;
      activity.cancelAttemptTimers = [];
      dispatchAttempt(engine, run, activity);
    }, engine.clock.workflowTimerToleranceMs(delayMs)),
  );
}

function timeOut(engine: Engine, run: WorkflowRun, activity: ActivityState, timeoutType: number): void {
  if (run.activities.get(activity.scheduledEventId) !== activity || !run.isRunning) return;
  const failure: Failure = {
    message: `activity ${enums.TimeoutType[timeoutType].replace('TIMEOUT_TYPE_', '')} timeout`,
    source: 'Server',
    timeoutFailureInfo: { timeoutType, lastHeartbeatDetails: activity.heartbeatDetails },
  };
  const retryable = timeoutType !== enums.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE;
  const retry = retryable ? retryDecision(engine, activity, failure) : { state: R.RETRY_STATE_TIMEOUT };
  if ('delayMs' in retry) {
    retryAfter(engine, run, activity, failure, retry.delayMs);
    return;
  }
  close(engine, run, activity, EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, 'activityTaskTimedOutEventAttributes', {
    failure,
    retryState: retry.state,
  });
}

/**
 * RequestCancelActivityTask: the request is always recorded (ActivityTaskCancelRequested), as on a
 * real server: the worker's state machine expects that event even for an activity that already
 * closed, e.g. one whose completion is still buffered behind the canceling task. An activity that
 * is not running is then canceled at once (returns true: the workflow needs a new task to see it);
 * a running one learns of it from its next heartbeat; a closed one is left as it ended.
 */
export function requestCancelActivity(
  engine: Engine,
  run: WorkflowRun,
  a: temporal.api.command.v1.IRequestCancelActivityTaskCommandAttributes,
  completedEventId: number,
): boolean {
  const scheduledEventId = toNumber(a.scheduledEventId);
  const activity = run.activities.get(scheduledEventId);
  const requested = run.addEvent(
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
    'activityTaskCancelRequestedEventAttributes',
    { scheduledEventId, workflowTaskCompletedEventId: completedEventId },
    engine.now(),
  );
  if (!activity) return false;
  activity.cancelRequested = true;
  activity.cancelRequestedEventId = requested.eventId as number;
  if (activity.phase === 'started') return false;
  endAttempt(engine, run, activity);
  activity.cancelScheduleToClose?.();
  run.activities.delete(scheduledEventId);
  run.addEvent(
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    'activityTaskCanceledEventAttributes',
    { scheduledEventId, startedEventId: 0, latestCancelRequestedEventId: requested.eventId },
    engine.now(),
  );
  return true;
}

/** A closing run drops its activities: their holds on the clock and their timers go with them. */
export function releaseActivities(engine: Engine, run: WorkflowRun): void {
  for (const activity of run.activities.values()) {
    endAttempt(engine, run, activity);
    activity.cancelScheduleToClose?.();
  }
  run.activities.clear();
}

export function describePendingActivities(run: WorkflowRun): object[] {
  const State = enums.PendingActivityState;
  return [...run.activities.values()].map((activity) => ({
    activityId: activity.activityId,
    activityType: { name: activity.activityType },
    state:
      activity.cancelRequested
        ? State.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
        : activity.phase === 'started'
          ? State.PENDING_ACTIVITY_STATE_STARTED
          : State.PENDING_ACTIVITY_STATE_SCHEDULED,
    heartbeatDetails: activity.heartbeatDetails,
    attempt: activity.attempt,
    maximumAttempts: activity.retryPolicy.maximumAttempts,
    scheduledTime: msToTimestamp(activity.attemptScheduledAt),
    lastStartedTime: activity.startedAt ? msToTimestamp(activity.startedAt) : undefined,
    lastFailure: activity.lastFailure,
  }));
}
