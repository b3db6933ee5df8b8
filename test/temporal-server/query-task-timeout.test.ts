// The in-memory server's bound on a query task (temporal-server/queries.ts QUERY_TASK_TIMEOUT_MS): a
// query task handed to a worker that never answers fails the query with DEADLINE_EXCEEDED instead of
// leaving the caller waiting for good (seen once at the end of the simulation's default world).
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startInMemoryTemporalServer } from '../../temporal-server';
import { QUERY_TASK_TIMEOUT_MS } from '../../temporal-server/queries';
import type { InMemoryTemporalServer } from '../../temporal-server';

let server: InMemoryTemporalServer;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  server = await startInMemoryTemporalServer({ logger: { warn: () => undefined } });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});
afterAll(async () => {
  await connection.close();
  await server.shutdown();
});

it('a query task the worker takes and never answers fails the query with DEADLINE_EXCEEDED after the query-task timeout; the next query gets a new task', async () => {
  const service = connection.workflowService;
  const kind = temporal.api.enums.v1.TaskQueueKind;
  const taskQueue = 'query-probe';
  const handle = await client.workflow.start('rawQueryProbe', { taskQueue, workflowId: 'query-probe-1' });
  const poll = () => service.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue, kind: kind.TASK_QUEUE_KIND_NORMAL }, identity: 'raw-worker' });
  // The first workflow task done with no command: the workflow is open with nothing pending.
  const first = await poll();
  await service.respondWorkflowTaskCompleted({ namespace: 'default', taskToken: first.taskToken, identity: 'raw-worker', commands: [] });

  const started = Date.now();
  const query = handle.query('state').then(() => 'answered', (error: Error) => `${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}`);
  const task = await poll(); // the query task, taken and never answered (a worker gone mid-task)
  expect(task.query?.queryType).toBe('state');
  const outcome = await query;
  expect(outcome).toMatch(/did not answer the query task/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(QUERY_TASK_TIMEOUT_MS - 100);

  // Asked again, the query goes out as a new task, which a worker can answer.
  const again = handle.query('state');
  const retry = await poll();
  await service.respondQueryTaskCompleted({
    namespace: 'default',
    taskToken: retry.taskToken,
    completedType: temporal.api.enums.v1.QueryResultType.QUERY_RESULT_TYPE_ANSWERED,
    queryResult: { payloads: [{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"fine"') }] },
  });
  expect(await again).toBe('fine');
  await handle.terminate('probe done');
}, 30_000);
