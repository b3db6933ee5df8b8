// The in-memory server's workflow timer slack (temporal-server clock.ts, commands.ts startTimer): with
// `workflowTimerSlack` a workflow's StartTimer may fire late by a share of its length, so long timers
// a little apart fire at one instant of the skipped clock; none fires early, and a short one keeps
// the clock's own slack. A raw worker (the workflow service's gRPC calls) sees the TimerFired events.
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

const poll = () =>
  connection.workflowService.pollWorkflowTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    identity: 'raw-worker',
  });


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
    await connection.workflowService.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      identity: 'raw-worker',
      commands: [
        {
          commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_START_TIMER,
          startTimerCommandAttributes: { timerId: '1', startToFireTimeout: timerLength(lengths[id]) },
        },
      ],
    });
  }

  server.engine.clock.unlockByClient(); // nothing holds the clock now: it jumps from timer to timer
  const firedAt = new Map<string, number>();
  for (let i = 0; i < Object.keys(lengths).length; i++) {
    const task = await poll();
    const fired = task.history!.events!.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)!;
    firedAt.set(task.workflowExecution!.workflowId!, timestampToMs(fired.eventTime));
    await connection.workflowService.respondWorkflowTaskCompleted({
      namespace: 'default',
      taskToken: task.taskToken,
      identity: 'raw-worker',
      commands: [{ commandType: temporal.api.enums.v1.CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }],
    });
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
