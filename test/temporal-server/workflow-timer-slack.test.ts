// The in-memory server's workflow timer slack (temporal-server clock.ts, commands.ts startTimer): with
// `workflowTimerSlack` a workflow's StartTimer may fire late by a share of its length, so long timers
// a little apart fire at one instant of the skipped clock; none fires early, and a short one keeps
// the clock's own slack. Activities' retry backoffs take the same slack. A raw worker (the workflow
// service's gRPC calls) sees the TimerFired events and the second attempts' scheduled times.
import { Client, Connection } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import { startInMemoryTemporalServer } from '../../temporal-server';
import type { InMemoryTemporalServer } from '../../temporal-server';
import { msToDuration, timestampToMs } from '../../temporal-server/proto';

const HOUR = 3_600_000;
const EventType = temporal.api.enums.v1.EventType;
const taskQueue = 'timer-slack-probe';

let server: InMemoryTemporalServer;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  server = await startInMemoryTemporalServer({ logger: { warn: () => undefined }, timerSlackMs: 1_000, workflowTimerSlack: { fraction: 0.1, maxMs: 6 * HOUR } });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});
afterAll(async () => {
  await connection.close();
  await server.shutdown();
});

const poll = (queue = taskQueue) =>
  connection.workflowService.pollWorkflowTaskQueue({
    namespace: 'default',
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    identity: 'raw-worker',
  });

/** The raw worker's answer to a workflow task: these commands. */
const complete = (taskToken: Uint8Array | null | undefined, commands: temporal.api.command.v1.ICommand[]) =>
  connection.workflowService.respondWorkflowTaskCompleted({ namespace: 'default', taskToken, identity: 'raw-worker', commands });
const completeWorkflow: temporal.api.command.v1.ICommand = {
  commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
  completeWorkflowExecutionCommandAttributes: {},
};


/** protobufjs takes seconds as a number at run time; its types ask for a Long. */
const timerLength = (ms: number) => msToDuration(ms) as unknown as google.protobuf.IDuration;

it("workflows' timers of 10 h and 10.5 h fire at one instant (10.5 h), one of 12 h and one of 5 s each at its own; none early", async () => {
  const lengths: Record<string, number> = { ten: 10 * HOUR, tenAndHalf: 10.5 * HOUR, twelve: 12 * HOUR, short: 5_000 };
  const startedAt = new Map<string, number>();
  for (const id of Object.keys(lengths)) await client.workflow.start('rawTimerProbe', { taskQueue, workflowId: id });
  // Each workflow's first task starts its timer.
  for (let i = 0; i < Object.keys(lengths).length; i++) {
    const task = await poll();
    const id = task.workflowExecution!.workflowId!;
    startedAt.set(id, timestampToMs(task.history!.events![0].eventTime));
    await complete(task.taskToken, [
      {
        commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_START_TIMER,
        startTimerCommandAttributes: { timerId: '1', startToFireTimeout: timerLength(lengths[id]) },
      },
    ]);
  }

  server.engine.clock.unlockByClient(); // nothing holds the clock now: it jumps from timer to timer
  const firedAt = new Map<string, number>();
  for (let i = 0; i < Object.keys(lengths).length; i++) {
    const task = await poll();
    const fired = task.history!.events!.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)!;
    firedAt.set(task.workflowExecution!.workflowId!, timestampToMs(fired.eventTime));
    await complete(task.taskToken, [completeWorkflow]);
  }
  server.engine.clock.lockByClient();

  const late = (id: string) => firedAt.get(id)! - startedAt.get(id)! - lengths[id];
  for (const id of Object.keys(lengths)) expect(late(id)).toBeGreaterThanOrEqual(0);
  // 10 h may wait up to 1 h: it waited for 10.5 h, and both fired at the same instant.
  expect(Math.abs(firedAt.get('ten')! - firedAt.get('tenAndHalf')!)).toBeLessThan(1_000);
  expect(late('ten')).toBeGreaterThanOrEqual(0.5 * HOUR - 1_000);
  // 12 h is past 10 h's hour: its own instant, late by at most the real time the test took.
  expect(late('twelve')).toBeLessThan(10_000);
  // 5 s is a tenth of a second's share: the clock's 1 s slack applies, not the 12 h's neighbourhood.
  expect(late('short')).toBeLessThan(10_000);
}, 30_000);

describe("activities' retry backoffs take the same slack (temporal-server activities.ts retryAfter)", () => {
  const retryQueue = 'retry-slack-probe';
  const pollWorkflowTask = () => poll(retryQueue);
  const pollActivityTask = () =>
    connection.workflowService.pollActivityTaskQueue({ namespace: 'default', taskQueue: { name: retryQueue }, identity: 'raw-worker' });

  it('backoffs of 10 h and 10.5 h end at one instant (10.5 h), one of 12 h and one of 5 s each at its own; none early', async () => {
    const backoffs: Record<string, number> = { 'retry-ten': 10 * HOUR, 'retry-tenAndHalf': 10.5 * HOUR, 'retry-twelve': 12 * HOUR, 'retry-short': 5_000 };
    for (const id of Object.keys(backoffs)) await client.workflow.start('rawRetryProbe', { taskQueue: retryQueue, workflowId: id });
    // Each workflow schedules one activity that may run twice, its backoff before the second attempt.
    for (let i = 0; i < Object.keys(backoffs).length; i++) {
      const task = await pollWorkflowTask();
      const backoff = backoffs[task.workflowExecution!.workflowId!];
      await complete(task.taskToken, [
        {
          commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
          scheduleActivityTaskCommandAttributes: {
            activityId: '1',
            activityType: { name: 'fails once' },
            taskQueue: { name: retryQueue },
            startToCloseTimeout: timerLength(HOUR),
            retryPolicy: { initialInterval: timerLength(backoff), backoffCoefficient: 1, maximumAttempts: 2 },
          },
        },
      ]);
    }
    // The first attempts fail; each backoff starts when its failure arrives.
    const failedBy = new Map<string, number>();
    for (let i = 0; i < Object.keys(backoffs).length; i++) {
      const task = await pollActivityTask();
      await connection.workflowService.respondActivityTaskFailed({
        namespace: 'default',
        taskToken: task.taskToken,
        identity: 'raw-worker',
        failure: { message: 'provider down', applicationFailureInfo: { type: 'ProviderDown', nonRetryable: false } },
      });
      failedBy.set(task.workflowExecution!.workflowId!, server.engine.clock.now());
    }

    server.engine.clock.unlockByClient(); // the clock jumps from backoff to backoff
    const retriedAt = new Map<string, number>();
    for (let i = 0; i < Object.keys(backoffs).length; i++) {
      const task = await pollActivityTask();
      expect(task.attempt).toBe(2);
      const id = task.workflowExecution!.workflowId!;
      retriedAt.set(id, timestampToMs(task.currentAttemptScheduledTime));
      await connection.workflowService.respondActivityTaskCompleted({ namespace: 'default', taskToken: task.taskToken, identity: 'raw-worker' });
      // Its workflow ends, so nothing it does holds the clock before the next backoff.
      const workflowTask = await pollWorkflowTask();
      expect(workflowTask.workflowExecution!.workflowId).toBe(id);
      await complete(workflowTask.taskToken, [completeWorkflow]);
    }
    server.engine.clock.lockByClient();

    // The failure reached the server before failedBy was read: a retry before failedBy + backoff
    // by more than the few real ms of one answer would be early.
    const late = (id: string) => retriedAt.get(id)! - failedBy.get(id)! - backoffs[id];
    for (const id of Object.keys(backoffs)) expect(late(id)).toBeGreaterThan(-100);
    expect(Math.abs(retriedAt.get('retry-ten')! - retriedAt.get('retry-tenAndHalf')!)).toBeLessThan(1_000);
    expect(late('retry-ten')).toBeGreaterThanOrEqual(0.5 * HOUR - 1_000);
    expect(late('retry-twelve')).toBeLessThan(10_000);
    expect(late('retry-short')).toBeLessThan(10_000);
  }, 30_000);
});
