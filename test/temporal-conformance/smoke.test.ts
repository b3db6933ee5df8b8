import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { startTestTemporal, TestTemporal } from '../support/temporal';
import * as activities from './activities';

let temporal: TestTemporal;
let bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
beforeAll(async () => {
  temporal = await startTestTemporal();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: undefined });
});
afterAll(async () => temporal?.teardown());

it('smoke: runs a workflow with three activities and a one-minute timer', async () => {
  const worker = await Worker.create({ connection: temporal.env.nativeConnection, taskQueue: 'smoke', workflowBundle: bundle, activities });
  const result = await worker.runUntil(
    temporal.env.client.workflow.execute('threeActivitiesAndATimer', { taskQueue: 'smoke', workflowId: 'smoke-1' }),
  );
  expect(result).toBe('abc');
  const history = await temporal.env.client.workflow.getHandle('smoke-1').fetchHistory();
  console.log(history.events!.map((e) => e.eventType).join(','));
});
