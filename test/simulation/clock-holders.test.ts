// What holds the skipped clock, named run by run (simulation/clock-holders.ts): what the driver
// prints when simulated time stops moving.
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startInMemoryTemporalServer } from '../../temporal-server';
import { clockHolders } from '../../simulation/clock-holders';

it('names the workflow whose task a worker took and never completed, with its type and attempt', async () => {
  const server = await startInMemoryTemporalServer({ logger: { warn: () => undefined } });
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    expect(clockHolders(server)).toEqual([]);
    const handle = await client.workflow.start('heldForever', { taskQueue: 'holders', workflowId: 'held-1' });
    // A "worker" takes the first task and goes silent.
    await connection.workflowService.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: 'holders', kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      identity: 'silent-worker',
    });
    expect(clockHolders(server)).toEqual(['held-1 (heldForever): workflow task running, attempt 1']);
    await handle.terminate('done');
  } finally {
    await connection.close();
    await server.shutdown();
  }
});
