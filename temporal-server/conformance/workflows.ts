/**
 * Small workflows, one Temporal feature each, whose histories the conformance suite checks.
 * Workflow code: deterministic, no Node built-ins; activities are imported as types only.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type * as activities from './activities';

const quick = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function activityRetry(failures: number): Promise<string> {
  return quick.failTimes(failures);
}

export async function activityNonRetryable(): Promise<string> {
  return quick.failNonRetryable();
}

export async function activityTimeout(): Promise<string> {
  const slow = proxyActivities<typeof activities>({
    startToCloseTimeout: '300ms',
    retry: { maximumAttempts: 2, initialInterval: '100ms' },
  });
  return slow.sleepFor(2_000);
}

export async function heartbeatTimeout(): Promise<string> {
  const beating = proxyActivities<typeof activities>({
    startToCloseTimeout: '10s',
    heartbeatTimeout: '300ms',
    retry: { maximumAttempts: 2, initialInterval: '100ms' },
  });
  return beating.heartbeatThenStall();
}

export async function timer(ms: number): Promise<number> {
  const before = Date.now();
  await sleep(ms);
  return Date.now() - before;
}

export const addSignal = defineSignal<[number]>('add');
export const totalQuery = defineQuery<number>('total');
export const doneSignal = defineSignal('done');

export async function signalSum(): Promise<number> {
  let total = 0;
  let done = false;
  setHandler(addSignal, (n) => void (total += n));
  setHandler(doneSignal, () => void (done = true));
  setHandler(totalQuery, () => total);
  await condition(() => done);
  return total;
}

const local = proxyLocalActivities<ReturnType<typeof activities.createClientActivities>>({
  startToCloseTimeout: '10s',
});

/** The signal arrives while this run's first workflow task is still in flight (a local activity runs). */
export async function signalDuringTask(): Promise<number> {
  let total = 0;
  setHandler(addSignal, (n) => void (total += n));
  await local.signalOwnWorkflow(3);
  await condition(() => total > 0);
  return total;
}

export const boomSignal = defineSignal<[string]>('boom');

/** A signal handler that throws a plain Error fails the workflow task (not the workflow). */
export async function failsItsTask(): Promise<void> {
  setHandler(boomSignal, (text) => {
    throw new Error(text);
  });
  await condition(() => false);
}

export const setValueUpdate = defineUpdate<string, [number]>('setValue');
export const finishSignal = defineSignal('finish');

export async function updatable(): Promise<number> {
  let value = 0;
  let finished = false;
  setHandler(
    setValueUpdate,
    (next) => {
      value = next;
      return `value is ${next}`;
    },
    {
      validator: (next) => {
        if (next < 0) throw new Error(`negative values are refused: ${next}`);
      },
    },
  );
  setHandler(finishSignal, () => void (finished = true));
  setHandler(totalQuery, () => value);
  await condition(() => finished);
  return value;
}

export async function continuing(runsLeft: number, total: number): Promise<number> {
  if (runsLeft === 0) return total + workflowInfo().continuedFromExecutionRunId!.length * 0;
  await sleep(10);
  return continueAsNew<typeof continuing>(runsLeft - 1, total + 1);
}

export async function cancellable(): Promise<string> {
  try {
    await sleep('1 day');
    return 'slept';
  } catch (error) {
    if (!isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(() => quick.echo('cleanup'));
    throw error;
  }
}

/** Sets a keyword search attribute to `value`, then waits for `finish`. */
export async function upsertsKeyword(name: string, value: string): Promise<void> {
  let finished = false;
  setHandler(finishSignal, () => void (finished = true));
  upsertSearchAttributes([{ key: defineSearchAttributeKey(name, 'KEYWORD'), value }]);
  await condition(() => finished);
}

export async function waitsForever(): Promise<void> {
  await condition(() => false);
}

export async function child(name: string): Promise<string> {
  return `hello ${name}`;
}

export async function parent(): Promise<string> {
  return executeChild(child, { args: ['child'], workflowId: `${workflowInfo().workflowId}-child` });
}

export async function failing(): Promise<void> {
  throw ApplicationFailure.nonRetryable('business rule broken', 'RuleBroken');
}

export async function threeActivitiesAndATimer(): Promise<string> {
  const a = await quick.echo('a');
  await sleep('1 minute');
  const b = await quick.echo('b');
  const c = await quick.echo('c');
  return a + b + c;
}

/** Cancels its own running activity and waits for the worker to confirm the cancellation. */
export async function cancelsItsActivity(): Promise<string> {
  const { heartbeatUntilCancelled } = proxyActivities<typeof activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '2s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const scope = new CancellationScope();
  const running = scope.run(() => heartbeatUntilCancelled());
  await sleep(300);
  scope.cancel();
  try {
    await running;
    return 'activity finished';
  } catch (error) {
    return isCancellation(error) ? 'activity canceled' : `unexpected: ${String(error)}`;
  }
}

/**
 * Cancels an activity whose completion arrived while the canceling workflow task was in flight
 * (buffered by the server): the cancel request is still recorded (ActivityTaskCancelRequested),
 * then the buffered completion; the workflow already took the activity as canceled (TRY_CANCEL).
 */
export async function cancelsAnActivityThatJustFinished(): Promise<string> {
  const scope = new CancellationScope();
  const running = scope.run(() => quick.sleepFor(300)).then(
    () => 'activity finished',
    (error) => (isCancellation(error) ? 'activity canceled' : `unexpected: ${String(error)}`),
  );
  await sleep(50); // a new workflow task while the activity still runs
  await local.holdTask(1500); // ...held in flight while the activity completes
  scope.cancel();
  const outcome = await running;
  // Close in a later task: the buffered completion comes first. 1 s, not less: a slow worker on a
  // loaded machine must pick up the completion's task before this timer fires in real time.
  await condition(() => false, 1000);
  return outcome;
}

/** Signals another workflow through the server (SignalExternalWorkflowExecution). */
export async function signalsAnother(targetWorkflowId: string): Promise<string> {
  try {
    await getExternalWorkflowHandle(targetWorkflowId).signal(addSignal, 7);
    return 'signaled';
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}
