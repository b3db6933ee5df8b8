/** Activities for the conformance workflows. Attempt counts come from the activity's own context. */
import { ApplicationFailure, Context, sleep } from '@temporalio/activity';
import type { Client } from '@temporalio/client';

export async function failTimes(failures: number): Promise<string> {
  const { attempt } = Context.current().info;
  if (attempt <= failures) throw new Error(`attempt ${attempt} fails on purpose`);
  return `succeeded on attempt ${attempt}`;
}

export async function failNonRetryable(): Promise<string> {
  throw ApplicationFailure.nonRetryable('provider refused for good', 'Refused');
}

export async function sleepFor(ms: number): Promise<string> {
  await sleep(ms);
  return 'woke';
}

export async function heartbeatThenStall(): Promise<string> {
  const { attempt } = Context.current().info;
  Context.current().heartbeat({ attempt });
  if (attempt === 1) await sleep(2_000); // no heartbeat: the heartbeat timeout must fire
  return `finished on attempt ${attempt}`;
}

/** Heartbeats until the server reports a cancel request, then lets the cancellation through. */
export async function heartbeatUntilCancelled(): Promise<string> {
  for (;;) {
    Context.current().heartbeat();
    await Context.current().sleep(50); // rejects with CancelledFailure once cancellation arrives
  }
}

export async function echo(text: string): Promise<string> {
  return text;
}

/**
 * Activities that need a client, made by a factory that closes over it. `signalOwnWorkflow` runs
 * as a local activity, so the workflow task that called it is still in flight when the signal lands.
 */
export function createClientActivities(client: Client) {
  return {
    /** Run as a local activity: keeps its workflow task in flight this long. */
    async holdTask(ms: number): Promise<void> {
      await sleep(ms);
    },
    async signalOwnWorkflow(amount: number): Promise<void> {
      const { workflowExecution } = Context.current().info;
      await client.workflow.getHandle(workflowExecution!.workflowId).signal('add', amount);
      await sleep(200);
    },
  };
}
