/**
 * Conformance: each small workflow exercises one Temporal feature; the test asserts its outcome and
 * the exact history a Temporal server writes for it, then replays that history against the same
 * workflow code. The same file runs against the in-memory server and a real server
 * (TEMPORAL_ADDRESS), every test on both; on Temporal's official time-skipping test server
 * (TEMPORAL_TEST_SERVER_PATH) the tests that assert a point where that server differs from real
 * Temporal skip themselves and name the divergence (test/support/official-server.ts).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure, defineSearchAttributeKey } from '@temporalio/common';
import { google, temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { itUnlessOfficialServer } from '../../test/support/official-server';
import { bundleWorkflows, eventNames, startTestTemporal } from '../../test/support/temporal';
import type { TestTemporal } from '../../test/support/temporal';
import * as activities from './activities';
import * as workflows from './workflows';

const TASK = 'WorkflowTaskScheduled,WorkflowTaskStarted,WorkflowTaskCompleted';
const START = `WorkflowExecutionStarted,${TASK}`;

let temporalServer: TestTemporal;
let bundle: WorkflowBundle;
const collected: Array<{ workflowId: string; history: temporal.api.history.v1.IHistory }> = [];
let sequence = 0;

beforeAll(async () => {
  temporalServer = await startTestTemporal();
  bundle = await bundleWorkflows(require.resolve('./workflows'));
});

afterAll(async () => {
  await temporalServer?.teardown();
});

/** Starts a worker for one describe block: with the default sticky cache, or with none. */
function useWorker(maxCachedWorkflows: number | undefined): void {
  let worker: Worker;
  let workerRun: Promise<void>;
  beforeAll(async () => {
    collected.length = 0;
    worker = await Worker.create({
      connection: temporalServer.env.nativeConnection,
      taskQueue: 'conformance',
      workflowBundle: bundle,
      maxCachedWorkflows,
      activities: { ...activities, ...activities.createClientActivities(temporalServer.env.client) },
    });
    workerRun = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await workerRun;
  });
}

const client = () => temporalServer.env.client;
const uniqueId = (name: string) => `conformance-${name}-${Date.now()}-${++sequence}`;

async function historyOf(handle: WorkflowHandle, runId?: string): Promise<temporal.api.history.v1.IHistory> {
  const history = await client().workflow.getHandle(handle.workflowId, runId).fetchHistory();
  collected.push({ workflowId: handle.workflowId, history });
  return history;
}

async function namesOf(handle: WorkflowHandle, runId?: string): Promise<string> {
  return eventNames(await historyOf(handle, runId)).join(',');
}

/** Waits until the run's history holds `eventName` (a client watching, not a sleep of guessed length). */
async function waitForEvent(handle: WorkflowHandle, eventName: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const history = await client().workflow.getHandle(handle.workflowId).fetchHistory();
    if (eventNames(history).includes(eventName)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${eventName} never appeared in ${handle.workflowId}`);
}

/** The gRPC status behind a client error (the SDK wraps some in a ServiceError's cause). */
function grpcStatusOf(error: unknown): { code: number; text: string } | undefined {
  for (let current = error as { code?: unknown; details?: string; message?: string; cause?: unknown } | undefined; current; current = current.cause as typeof current) {
    if (typeof current.code === 'number') return { code: current.code, text: `${current.message ?? ''} ${current.details ?? ''}` };
  }
  return undefined;
}

/** Registers a keyword search attribute; one that exists already is fine (servers answer that differently). */
async function registerKeyword(name: string): Promise<void> {
  try {
    await client().connection.operatorService.addSearchAttributes({
      namespace: client().options.namespace,
      searchAttributes: { [name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
  } catch (error) {
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
}

/** Retries an assertion for a few seconds: visibility on a real server is eventually consistent. */
async function eventually(assertion: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await assertion();
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

type Workflows = typeof workflows;
type WorkflowName = { [K in keyof Workflows]: Workflows[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof Workflows];

function start<W extends WorkflowName>(workflow: W, args: Parameters<Workflows[W]>, name: string = workflow) {
  return client().workflow.start(workflows[workflow] as (...a: unknown[]) => Promise<never>, {
    taskQueue: 'conformance',
    workflowId: uniqueId(name),
    args,
  });
}

describe.each([
  ['a sticky worker (default workflow cache)', undefined],
  ['a non-sticky worker (maxCachedWorkflows: 0)', 0],
])('with %s', (_mode, maxCachedWorkflows) => {
  useWorker(maxCachedWorkflows);

  describe('activities', () => {
    it('retries a failing activity with backoff and records the final attempt on ActivityTaskStarted', async () => {
      const handle = await start('activityRetry', [2]);
      expect(await handle.result()).toBe('succeeded on attempt 3');
      const history = await historyOf(handle);
      expect(eventNames(history).join(',')).toBe(
        `${START},ActivityTaskScheduled,ActivityTaskStarted,ActivityTaskCompleted,${TASK},WorkflowExecutionCompleted`,
      );
      expect(history.events![5].activityTaskStartedEventAttributes!.attempt).toBe(3);
    });

    it('gives up after maximumAttempts with retry state MAXIMUM_ATTEMPTS_REACHED', async () => {
      const handle = await start('activityRetry', [5]);
      const error = await handle.result().catch((e) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(error.cause).toBeInstanceOf(ActivityFailure);
      expect(error.cause.retryState).toBe('MAXIMUM_ATTEMPTS_REACHED');
      const history = await historyOf(handle);
      expect(eventNames(history).join(',')).toBe(
        `${START},ActivityTaskScheduled,ActivityTaskStarted,ActivityTaskFailed,${TASK},WorkflowExecutionFailed`,
      );
      expect(history.events![5].activityTaskStartedEventAttributes!.attempt).toBe(3);
    });

    it('does not retry a non-retryable failure', async () => {
      const handle = await start('activityNonRetryable', []);
      const error = await handle.result().catch((e) => e);
      expect(error.cause.retryState).toBe('NON_RETRYABLE_FAILURE');
      expect(error.cause.cause).toBeInstanceOf(ApplicationFailure);
      expect(error.cause.cause.type).toBe('Refused');
      const history = await historyOf(handle);
      expect(history.events![5].activityTaskStartedEventAttributes!.attempt).toBe(1);
    });

    itUnlessOfficialServer('activityStartedBeforeTimeout', 'times out an attempt after start-to-close, retries it, then reports ActivityTaskTimedOut', async () => {
      const handle = await start('activityTimeout', []);
      const error = await handle.result().catch((e) => e);
      expect(error.cause).toBeInstanceOf(ActivityFailure);
      expect(error.cause.cause).toBeInstanceOf(TimeoutFailure);
      expect(error.cause.cause.timeoutType).toBe('START_TO_CLOSE');
      expect(await namesOf(handle)).toBe(
        `${START},ActivityTaskScheduled,ActivityTaskStarted,ActivityTaskTimedOut,${TASK},WorkflowExecutionFailed`,
      );
    });

    itUnlessOfficialServer('activityStartedBeforeTimeout', 'cancels a running activity through its heartbeat, and the workflow sees it canceled', async () => {
      const handle = await start('cancelsItsActivity', []);
      expect(await handle.result()).toBe('activity canceled');
      expect(await namesOf(handle)).toBe(
        `${START},ActivityTaskScheduled,TimerStarted,TimerFired,${TASK},ActivityTaskCancelRequested,ActivityTaskStarted,ActivityTaskCanceled,${TASK},WorkflowExecutionCompleted`,
      );
    });

    itUnlessOfficialServer('bufferedCompletionCancel', 'records the cancel of an activity whose completion was buffered during the canceling task, then that completion', async () => {
      const handle = await start('cancelsAnActivityThatJustFinished', []);
      expect(await handle.result()).toBe('activity canceled');
      // The cancel is recorded although the activity had finished; its buffered completion follows.
      expect(await namesOf(handle)).toBe(
        `${START},ActivityTaskScheduled,TimerStarted,TimerFired,${TASK},MarkerRecorded,ActivityTaskCancelRequested,TimerStarted,` +
          `ActivityTaskStarted,ActivityTaskCompleted,${TASK},TimerFired,${TASK},WorkflowExecutionCompleted`,
      );
    });

    it('retries an attempt that stops heartbeating (heartbeat timeout) and passes heartbeat details on', async () => {
      const handle = await start('heartbeatTimeout', []);
      expect(await handle.result()).toBe('finished on attempt 2');
      expect(await namesOf(handle)).toBe(
        `${START},ActivityTaskScheduled,ActivityTaskStarted,ActivityTaskCompleted,${TASK},WorkflowExecutionCompleted`,
      );
    });
  });

  describe('timers and time skipping', () => {
    it('fires a one-hour timer in skipped time: the workflow sees an hour pass', async () => {
      const before = await temporalServer.env.currentTimeMs();
      const handle = await start('timer', [3_600_000]);
      const elapsedInWorkflow = await handle.result();
      expect(elapsedInWorkflow).toBeGreaterThanOrEqual(3_600_000);
      if (temporalServer.env.supportsTimeSkipping) {
        expect((await temporalServer.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(3_600_000);
      }
      expect(await namesOf(handle)).toBe(`${START},TimerStarted,TimerFired,${TASK},WorkflowExecutionCompleted`);
    });

    it('env.sleep advances server time', async () => {
      if (!temporalServer.env.supportsTimeSkipping) return; // real servers sleep in real time: nothing to prove
      const before = await temporalServer.env.currentTimeMs();
      await temporalServer.env.sleep('2 days');
      expect((await temporalServer.env.currentTimeMs()) - before).toBeGreaterThanOrEqual(2 * 24 * 3600 * 1000);
    });
  });

  describe('signals and queries', () => {
    itUnlessOfficialServer('signalWithStartOrder', 'writes a signal-with-start signal right after WorkflowExecutionStarted, before the first task', async () => {
      const handle = await client().workflow.signalWithStart('signalSum', {
        taskQueue: 'conformance',
        workflowId: uniqueId('signal-with-start'),
        signal: workflows.addSignal,
        signalArgs: [5],
      });
      await waitForEvent(handle, 'WorkflowTaskCompleted');
      expect(await handle.query(workflows.totalQuery)).toBe(5);
      await handle.signal(workflows.doneSignal);
      expect(await handle.result()).toBe(5);
      expect(await namesOf(handle)).toBe(
        `WorkflowExecutionStarted,WorkflowExecutionSignaled,${TASK},WorkflowExecutionSignaled,${TASK},WorkflowExecutionCompleted`,
      );
    });

    it('buffers a signal that arrives while a workflow task is in flight and writes it after the task', async () => {
      const handle = await start('signalDuringTask', []);
      expect(await handle.result()).toBe(3);
      expect(await namesOf(handle)).toBe(
        `${START},MarkerRecorded,WorkflowExecutionSignaled,${TASK},WorkflowExecutionCompleted`,
      );
    });

    it('signals another workflow, and reports a missing one as a failure', async () => {
      const target = await start('signalSum', []);
      const sender = await start('signalsAnother', [target.workflowId]);
      expect(await sender.result()).toBe('signaled');
      expect(await namesOf(sender)).toBe(
        `${START},SignalExternalWorkflowExecutionInitiated,ExternalWorkflowExecutionSignaled,${TASK},WorkflowExecutionCompleted`,
      );
      await target.signal(workflows.doneSignal);
      expect(await target.result()).toBe(7);
      const lost = await start('signalsAnother', ['no-such-workflow-to-signal']);
      expect(await lost.result()).toMatch(/^failed: /);
      expect(await namesOf(lost)).toBe(
        `${START},SignalExternalWorkflowExecutionInitiated,SignalExternalWorkflowExecutionFailed,${TASK},WorkflowExecutionCompleted`,
      );
    });

    it('answers queries on a running workflow and on a closed one', async () => {
      const handle = await start('signalSum', []);
      await handle.signal(workflows.addSignal, 2);
      await handle.signal(workflows.addSignal, 40);
      await waitForEvent(handle, 'WorkflowTaskCompleted');
      expect(await handle.query(workflows.totalQuery)).toBe(42);
      await handle.signal(workflows.doneSignal);
      expect(await handle.result()).toBe(42);
      expect(await handle.query(workflows.totalQuery)).toBe(42);
      await historyOf(handle);
    });
  });

  describe('updates', () => {
    itUnlessOfficialServer('rejectedUpdateTask', 'accepts an update, and a validator rejection leaves no trace in history', async () => {
      const handle = await start('updatable', []);
      expect(await handle.executeUpdate(workflows.setValueUpdate, { args: [5] })).toBe('value is 5');
      const rejected = await handle.executeUpdate(workflows.setValueUpdate, { args: [-1] }).catch((e) => e);
      expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(rejected.cause.message).toContain('negative values are refused: -1');
      await handle.signal(workflows.finishSignal);
      expect(await handle.result()).toBe(5);
      expect(await namesOf(handle)).toBe(
        `${START},${TASK},WorkflowExecutionUpdateAccepted,WorkflowExecutionUpdateCompleted,WorkflowExecutionSignaled,${TASK},WorkflowExecutionCompleted`,
      );
    });

    it('update-with-start starts the workflow and answers the update in one call', async () => {
      const workflowId = uniqueId('update-with-start');
      const startWorkflowOperation = new WithStartWorkflowOperation('updatable', {
        taskQueue: 'conformance',
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      const answer = await client().workflow.executeUpdateWithStart(workflows.setValueUpdate, {
        args: [7],
        startWorkflowOperation,
      });
      expect(answer).toBe('value is 7');
      const handle = await startWorkflowOperation.workflowHandle();
      // Same id again: USE_EXISTING sends the update to the running workflow.
      const again = new WithStartWorkflowOperation('updatable', {
        taskQueue: 'conformance',
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      expect(await client().workflow.executeUpdateWithStart(workflows.setValueUpdate, { args: [8], startWorkflowOperation: again })).toBe('value is 8');
      expect((await (await again.workflowHandle()).describe()).runId).toBe((await handle.describe()).runId);
      await handle.signal(workflows.finishSignal);
      expect(await handle.result()).toBe(8);
      expect(await namesOf(handle)).toBe(
        `${START},WorkflowExecutionUpdateAccepted,WorkflowExecutionUpdateCompleted,${TASK},WorkflowExecutionUpdateAccepted,WorkflowExecutionUpdateCompleted,WorkflowExecutionSignaled,${TASK},WorkflowExecutionCompleted`,
      );
    });
  });

  describe('lifecycle', () => {
    it('continue-as-new: result() follows the chain of runs to the last one', async () => {
      const handle = await start('continuing', [3, 0]);
      expect(await handle.result()).toBe(3);
      expect(await namesOf(handle, handle.firstExecutionRunId)).toBe(
        `${START},TimerStarted,TimerFired,${TASK},WorkflowExecutionContinuedAsNew`,
      );
      expect(await namesOf(handle)).toBe(`${START},WorkflowExecutionCompleted`);
    });

    it('a cancel request reaches the workflow, which cleans up and ends Canceled', async () => {
      const handle = await start('cancellable', []);
      await waitForEvent(handle, 'TimerStarted');
      await handle.cancel();
      const error = await handle.result().catch((e) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(error.cause).toBeInstanceOf(CancelledFailure);
      expect(await namesOf(handle)).toBe(
        `${START},TimerStarted,WorkflowExecutionCancelRequested,${TASK},TimerCanceled,ActivityTaskScheduled,ActivityTaskStarted,ActivityTaskCompleted,${TASK},WorkflowExecutionCanceled`,
      );
    });

    it('terminate ends the run at once with WorkflowExecutionTerminated', async () => {
      const handle = await start('waitsForever', []);
      await waitForEvent(handle, 'WorkflowTaskCompleted');
      await handle.terminate('support closed it');
      const error = await handle.result().catch((e) => e);
      expect(error.cause).toBeInstanceOf(TerminatedFailure);
      expect(await namesOf(handle)).toBe(`${START},WorkflowExecutionTerminated`);
    });

    it('a child workflow runs and its result reaches the parent', async () => {
      const handle = await start('parent', []);
      expect(await handle.result()).toBe('hello child');
      const names = eventNames(await historyOf(handle));
      // Where the parent's workflow tasks fall between the child's events depends on timing; the
      // child's own events come in this order on every server.
      expect(names.filter((name) => !name.startsWith('WorkflowTask')).join(',')).toBe(
        'WorkflowExecutionStarted,StartChildWorkflowExecutionInitiated,ChildWorkflowExecutionStarted,ChildWorkflowExecutionCompleted,WorkflowExecutionCompleted',
      );
      expect(await namesOf(client().workflow.getHandle(`${handle.workflowId}-child`))).toBe(
        `${START},WorkflowExecutionCompleted`,
      );
    });

    it('a workflow task that fails is retried with a growing attempt number until it is fixed or terminated', async () => {
      const handle = await start('failsItsTask', []);
      await waitForEvent(handle, 'WorkflowTaskCompleted');
      await handle.signal(workflows.boomSignal, 'handler bug');
      for (let i = 0; i < 200; i += 1) {
        const failed = eventNames(await client().workflow.getHandle(handle.workflowId).fetchHistory()).filter(
          (name) => name === 'WorkflowTaskFailed',
        );
        if (failed.length >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const { raw } = await handle.describe();
      expect(raw.workflowExecutionInfo?.status).toBe(temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
      await handle.terminate('test over');
      const history = await client().workflow.getHandle(handle.workflowId).fetchHistory();
      const failures = history.events!.filter((event) => event.workflowTaskFailedEventAttributes);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures[0].workflowTaskFailedEventAttributes!.failure!.message).toContain('handler bug');
    });
  });

  describe('history pages', () => {
    it('pages through a history with next-page tokens and gets every event once', async () => {
      const handle = await start('activityRetry', [0]);
      await handle.result();
      const whole = await historyOf(handle);
      const paged = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await client().workflowService.getWorkflowExecutionHistory({
          namespace: 'default',
          execution: { workflowId: handle.workflowId },
          maximumPageSize: 4,
          nextPageToken,
        });
        paged.push(...(page.history?.events ?? []));
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      expect(paged.map((event) => Number(event.eventId))).toEqual(whole.events!.map((event) => Number(event.eventId)));
    });
  });

  describe('workflow ids', () => {
    it('refuses a second start of a running id, unless the conflict policy says USE_EXISTING', async () => {
      const handle = await start('waitsForever', []);
      const again = client().workflow.start('waitsForever', { taskQueue: 'conformance', workflowId: handle.workflowId });
      await expect(again).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      const existing = await client().workflow.start('waitsForever', {
        taskQueue: 'conformance',
        workflowId: handle.workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      expect(existing.firstExecutionRunId).toBe(handle.firstExecutionRunId);
      await handle.terminate('done');
      const rejectDuplicate = client().workflow.start('waitsForever', {
        taskQueue: 'conformance',
        workflowId: handle.workflowId,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      await expect(rejectDuplicate).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      const reused = await client().workflow.start('waitsForever', { taskQueue: 'conformance', workflowId: handle.workflowId });
      expect(reused.firstExecutionRunId).not.toBe(handle.firstExecutionRunId);
      await reused.terminate('done');
    });
  });

  describe('bad requests get the status codes a real server gives', () => {
    it('NOT_FOUND for an unknown workflow', async () => {
      const unknown = client().workflow.getHandle('no-such-workflow-anywhere');
      await expect(unknown.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await expect(unknown.signal(workflows.doneSignal)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });

    itUnlessOfficialServer('emptyWorkflowId', 'INVALID_ARGUMENT for malformed input, and the server keeps serving', async () => {
      const service = client().workflowService;
      const missingId = service.startWorkflowExecution({
        namespace: 'default',
        workflowType: { name: 'waitsForever' },
        taskQueue: { name: 'conformance' },
        requestId: 'x',
      });
      await expect(missingId).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      const badToken = service.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: Buffer.from('not a token') });
      await expect(badToken).rejects.toMatchObject({ code: expect.any(Number) });
      const handle = await start('timer', [10]);
      expect(await handle.result()).toBeGreaterThanOrEqual(10);
    });
  });

  describe('search attributes', () => {
    // Never registered anywhere: every server must refuse it.
    const undefinedKey = defineSearchAttributeKey('ConformanceNeverRegistered', 'KEYWORD');
    const registeredKey = defineSearchAttributeKey('ConformanceKeyword', 'KEYWORD');
    const notDefined = `search attribute ${undefinedKey.name} is not defined`;

    it('refuses a start, a signal-with-start and an update-with-start that name an undefined search attribute', async () => {
      const typedSearchAttributes = [{ key: undefinedKey, value: 'x' }];
      const workflowId = uniqueId('undefined-attribute');
      const started = await client()
        .workflow.start('waitsForever', { taskQueue: 'conformance', workflowId, typedSearchAttributes })
        .catch((e) => e);
      expect(grpcStatusOf(started)).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, text: expect.stringContaining(notDefined) });
      const signaled = await client()
        .workflow.signalWithStart('signalSum', { taskQueue: 'conformance', workflowId, signal: workflows.addSignal, signalArgs: [1], typedSearchAttributes })
        .catch((e) => e);
      expect(grpcStatusOf(signaled)).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, text: expect.stringContaining(notDefined) });
      const startWorkflowOperation = new WithStartWorkflowOperation('updatable', {
        taskQueue: 'conformance',
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes,
      });
      const updated = await client()
        .workflow.executeUpdateWithStart(workflows.setValueUpdate, { args: [1], startWorkflowOperation })
        .catch((e) => e);
      expect(grpcStatusOf(updated)).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, text: expect.stringContaining(notDefined) });
      // None of the three started anything.
      await expect(client().workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });

    it('fails the workflow task of an upsert that names an undefined search attribute (BadSearchAttributes), writing no upsert', async () => {
      const handle = await start('upsertsKeyword', [undefinedKey.name, 'x'], 'undefined-upsert');
      await waitForEvent(handle, 'WorkflowTaskFailed');
      const history = await client().workflow.getHandle(handle.workflowId).fetchHistory();
      const failed = history.events!.find((event) => event.workflowTaskFailedEventAttributes)!.workflowTaskFailedEventAttributes!;
      expect(failed.cause).toBe(temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES);
      expect(failed.failure!.message).toBe(`BadSearchAttributes: ${notDefined}`);
      expect(eventNames(history)).not.toContain('UpsertWorkflowSearchAttributes');
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.terminate('test over');
    });

    it('keeps the start value in WorkflowExecutionStarted after an upsert changes the attribute', async () => {
      await registerKeyword(registeredKey.name);
      const handle = await client().workflow.start(workflows.upsertsKeyword, {
        taskQueue: 'conformance',
        workflowId: uniqueId('upsert'),
        args: [registeredKey.name, 'changed'],
        typedSearchAttributes: [{ key: registeredKey, value: 'initial' }],
      });
      await waitForEvent(handle, 'UpsertWorkflowSearchAttributes');
      expect((await handle.describe()).typedSearchAttributes.get(registeredKey)).toBe('changed');
      await handle.signal(workflows.finishSignal);
      await handle.result();
      const history = await historyOf(handle);
      const keywordIn = (fields: Record<string, temporal.api.common.v1.IPayload> | null | undefined) =>
        JSON.parse(Buffer.from(fields![registeredKey.name].data!).toString('utf8'));
      expect(keywordIn(history.events![0].workflowExecutionStartedEventAttributes!.searchAttributes!.indexedFields)).toBe('initial');
      const upsert = history.events!.find((event) => event.upsertWorkflowSearchAttributesEventAttributes)!;
      expect(keywordIn(upsert.upsertWorkflowSearchAttributesEventAttributes!.searchAttributes!.indexedFields)).toBe('changed');
    });
  });

  describe('listing open and closed workflows (ListOpenWorkflowExecutions, ListClosedWorkflowExecutions)', () => {
    const ids = (response: { executions?: Array<{ execution?: { workflowId?: string | null } | null }> | null }) =>
      (response.executions ?? []).map((info) => info.execution?.workflowId);
    const Status = temporal.api.enums.v1.WorkflowExecutionStatus;
    const service = () => client().workflowService;
    const namespace = () => client().options.namespace;

    it('lists a running workflow among the open ones and, once it ended, among the closed ones with its status', async () => {
      const open = await start('waitsForever', [], 'list-open');
      const closed = await start('timer', [10], 'list-closed');
      await closed.result();
      const openById = (workflowId: string) => service().listOpenWorkflowExecutions({ namespace: namespace(), executionFilter: { workflowId } });
      const closedById = (workflowId: string) => service().listClosedWorkflowExecutions({ namespace: namespace(), executionFilter: { workflowId } });
      // Visibility may lag a real server's writes: ask until the listing shows the run.
      await eventually(async () => expect(ids(await openById(open.workflowId))).toEqual([open.workflowId]));
      await eventually(async () =>
        expect((await closedById(closed.workflowId)).executions?.map((info) => [info.execution?.workflowId, info.status])).toEqual([
          [closed.workflowId, Status.WORKFLOW_EXECUTION_STATUS_COMPLETED],
        ]),
      );
      expect(ids(await openById(closed.workflowId))).toEqual([]);
      expect(ids(await closedById(open.workflowId))).toEqual([]);
      await open.terminate('listed');
      await eventually(async () => expect((await closedById(open.workflowId)).executions?.map((info) => info.status)).toEqual([Status.WORKFLOW_EXECUTION_STATUS_TERMINATED]));
      expect(ids(await openById(open.workflowId))).toEqual([]);
    });

    itUnlessOfficialServer('listFilters', 'filters by workflow type, status and time range', async () => {
      const open = await start('waitsForever', [], 'list-filters-open');
      const closed = await start('timer', [10], 'list-filters-closed');
      await closed.result();
      const listOpen = (filter: object) => service().listOpenWorkflowExecutions({ namespace: namespace(), ...filter });
      const listClosed = (filter: object) => service().listClosedWorkflowExecutions({ namespace: namespace(), ...filter });
      await eventually(async () => expect(ids(await listOpen({ typeFilter: { name: 'waitsForever' } }))).toContain(open.workflowId));
      expect(ids(await listOpen({ typeFilter: { name: 'timer' } }))).not.toContain(open.workflowId);
      await eventually(async () => expect(ids(await listClosed({ statusFilter: { status: Status.WORKFLOW_EXECUTION_STATUS_COMPLETED } }))).toContain(closed.workflowId));
      expect(ids(await listClosed({ statusFilter: { status: Status.WORKFLOW_EXECUTION_STATUS_TERMINATED } }))).not.toContain(closed.workflowId);
      expect(ids(await listClosed({ typeFilter: { name: 'timer' } }))).toContain(closed.workflowId);
      // A range that starts a year after the server's now finds neither (protobufjs takes a number where its typings say Long).
      const yearAhead = Math.floor((await temporalServer.env.currentTimeMs()) / 1000) + 365 * 86_400;
      const startTimeFilter = { earliestTime: { seconds: yearAhead } } as unknown as temporal.api.filter.v1.IStartTimeFilter;
      expect(ids(await listOpen({ executionFilter: { workflowId: open.workflowId }, startTimeFilter }))).toEqual([]);
      expect(ids(await listClosed({ executionFilter: { workflowId: closed.workflowId }, startTimeFilter }))).toEqual([]);
      // Earliest after latest is a bad request.
      const backwards = { earliestTime: { seconds: yearAhead }, latestTime: { seconds: yearAhead - 60 } } as unknown as temporal.api.filter.v1.IStartTimeFilter;
      await expect(listOpen({ startTimeFilter: backwards })).rejects.toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      await open.terminate('listed');
    });
  });

  describe('visibility', () => {
    itUnlessOfficialServer('visibility', 'lists and counts workflows by type, status and custom search attributes', async () => {
      const handle = await start('waitsForever', [], 'visibility');
      await waitForEvent(handle, 'WorkflowTaskCompleted');
      const query = `WorkflowType = 'waitsForever' AND ExecutionStatus = 'Running' AND WorkflowId = '${handle.workflowId}'`;
      const found = [];
      for await (const info of client().workflow.list({ query })) found.push(info.workflowId);
      expect(found).toEqual([handle.workflowId]);
      expect((await client().workflow.count(query)).count).toBe(1);
      await handle.terminate('done');
      expect((await client().workflow.count(query)).count).toBe(0);
      expect((await client().workflow.count(`WorkflowId IN ('${handle.workflowId}', 'other') AND ExecutionStatus = 'Terminated'`)).count).toBe(1);
    });
  });

  describe('replay', () => {
    it('every history fetched above replays cleanly against the workflow code', async () => {
      expect(collected.length).toBeGreaterThan(10);
      for (const { workflowId, history } of collected) {
        await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
      }
    });
  });
});

describe('sticky queues', () => {
  // Raw gRPC as a worker speaks it, on a task queue of its own: a "worker" takes the first task,
  // asks for stickiness on a queue it will never poll (as a worker that crashed), and goes away.
  itUnlessOfficialServer('stickyQueueAfterShutdown', 'a workflow task for a sticky queue nobody polls goes to the normal queue at once (StickyWorkerUnavailable), not after the sticky timeout', async () => {
    const service = client().connection.workflowService;
    const namespace = client().options.namespace;
    const taskQueue = uniqueId('sticky-gone');
    const kind = temporal.api.enums.v1.TaskQueueKind;
    const handle = await client().workflow.start('rawStickyProbe', { taskQueue, workflowId: uniqueId('sticky-gone') });
    try {
      const poll = () => service.pollWorkflowTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: kind.TASK_QUEUE_KIND_NORMAL }, identity: 'crashing-worker' });
      const first = await poll();
      expect(first.taskToken?.length).toBeGreaterThan(0);
      await service.respondWorkflowTaskCompleted({
        namespace,
        taskToken: first.taskToken,
        identity: 'crashing-worker',
        commands: [],
        stickyAttributes: {
          workerTaskQueue: { name: `${taskQueue}-sticky`, kind: kind.TASK_QUEUE_KIND_STICKY, normalName: taskQueue },
          // Far longer than a long poll: only the StickyWorkerUnavailable fallback can hand the task out in time.
          scheduleToStartTimeout: { seconds: 600 } as unknown as google.protobuf.IDuration,
        },
      });
      await handle.signal('poke');
      const next = await poll();
      expect(next.taskToken?.length).toBeGreaterThan(0);
      expect(eventNames(next.history!)).toContain('WorkflowExecutionSignaled');
    } finally {
      await handle.terminate('probe done');
    }
  });
});

describe('timers', () => {
  // Raw gRPC as a worker speaks it: a timer fires while the task that cancels it is in flight.
  it('a CancelTimer for a timer that fired while the task was in flight takes the fire back: TimerCanceled, no TimerFired, no new task', async () => {
    const service = client().connection.workflowService;
    const namespace = client().options.namespace;
    const taskQueue = uniqueId('timer-race');
    const kind = temporal.api.enums.v1.TaskQueueKind;
    const CommandType = temporal.api.enums.v1.CommandType;
    const handle = await client().workflow.start('rawTimerProbe', { taskQueue, workflowId: uniqueId('timer-race') });
    try {
      const poll = () => service.pollWorkflowTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: kind.TASK_QUEUE_KIND_NORMAL }, identity: 'raw-worker' });
      const first = await poll();
      await service.respondWorkflowTaskCompleted({
        namespace,
        taskToken: first.taskToken,
        identity: 'raw-worker',
        commands: [{ commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: { timerId: 't1', startToFireTimeout: { seconds: 1 } as unknown as google.protobuf.IDuration } }],
      });
      await handle.signal('poke');
      const second = await poll();
      expect(eventNames(second.history!)).toContain('WorkflowExecutionSignaled');
      // The timer fires (in real time: nothing unlocks the clock) while this task is held.
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      await service.respondWorkflowTaskCompleted({
        namespace,
        taskToken: second.taskToken,
        identity: 'raw-worker',
        commands: [{ commandType: CommandType.COMMAND_TYPE_CANCEL_TIMER, cancelTimerCommandAttributes: { timerId: 't1' } }],
      });
      const history = await historyOf(handle);
      const names = eventNames(history);
      expect(names).not.toContain('TimerFired');
      expect(names.slice(-2)).toEqual(['WorkflowTaskCompleted', 'TimerCanceled']);
      const started = history.events!.find((e) => e.timerStartedEventAttributes)!;
      expect(history.events!.at(-1)!.timerCanceledEventAttributes).toMatchObject({ timerId: 't1', startedEventId: started.eventId });
    } finally {
      await handle.terminate('probe done');
    }
  });
});
