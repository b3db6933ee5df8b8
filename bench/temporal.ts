/**
 * npm run bench:temporal — figures for the in-memory Temporal server (temporal-server):
 * server start time, and workflows completed per second for a workflow with three activities and
 * one 100 ms timer, at 1 and at 50 concurrent workflows, through the real SDK worker and client.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { startInMemoryTemporalServer } from '../temporal-server';
import * as activities from './temporal-activities';

const TASK_QUEUE = 'bench';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const startedAt = performance.now();
  const server = await startInMemoryTemporalServer({ timeSkipping: false });
  const startMs = performance.now() - startedAt;
  console.log(`in-memory server up in ${startMs.toFixed(1)} ms at ${server.address}`);

  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./temporal-workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue: TASK_QUEUE, workflowBundle, activities });

  await worker.runUntil(async () => {
    for (const concurrency of [1, 50]) {
      const total = concurrency === 1 ? 30 : 500;
      const perSecond = await measure(client, concurrency, total);
      console.log(`concurrency ${String(concurrency).padStart(2)}: ${total} workflows, ${perSecond.toFixed(1)} workflows/s`);
    }
  });
  await connection.close();
  await nativeConnection.close();
  await server.shutdown();
}

/** Runs `total` workflows with at most `concurrency` in flight; returns completions per second. */
async function measure(client: Client, concurrency: number, total: number): Promise<number> {
  let next = 0;
  const begin = performance.now();
  const lane = async () => {
    while (next < total) {
      const id = `bench-${concurrency}-${next++}-${Date.now()}`;
      await client.workflow.execute('threeStepsAndATimer', { taskQueue: TASK_QUEUE, workflowId: id, args: [id] });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return total / ((performance.now() - begin) / 1000);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
