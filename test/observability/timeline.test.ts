/**
 * The timeline renderer and the history export, on small workflows whose stories are known.
 * (The order's own scripted timeline is proven in test/observability/order-timeline.test.ts.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { exportRuns, fetchAllRuns } from '../../observability/history-fetch';
import { renderTimeline } from '../../observability/timeline';
import { bundleWorkflows, startTestTemporal } from '../support/temporal';
import type { TestTemporal } from '../support/temporal';
import * as activities from '../../temporal-server/conformance/activities';

let temporalServer: TestTemporal;
let bundle: WorkflowBundle;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  temporalServer = await startTestTemporal();
  bundle = await bundleWorkflows(require.resolve('../../temporal-server/conformance/workflows'));
  worker = await Worker.create({
    connection: temporalServer.env.nativeConnection,
    taskQueue: 'timeline',
    workflowBundle: bundle,
    activities: { ...activities, ...activities.createClientActivities(temporalServer.env.client) },
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await temporalServer?.teardown();
});

/** Timestamps vary from run to run; the story after them must not. */
const withoutTimes = (lines: string[]) => lines.map((line) => line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  /, ''));

it('tells a retried activity by name with its final attempt and its result, folding workflow tasks away', async () => {
  const workflowId = `timeline-retry-${Date.now()}`;
  await temporalServer.env.client.workflow.execute('activityRetry', { taskQueue: 'timeline', workflowId, args: [2] });
  const lines = withoutTimes(renderTimeline(await fetchAllRuns(temporalServer.env.client, workflowId)));
  expect(lines.slice(1)).toEqual([
    'WorkflowExecutionStarted activityRetry  {2}',
    'ActivityTaskScheduled failTimes  {2}',
    'ActivityTaskCompleted failTimes (attempt 3)  {"succeeded on attempt 3"}',
    'WorkflowExecutionCompleted  {"succeeded on attempt 3"}',
  ]);
});

it('folds a long quiet stretch into one line instead of printing the wait', async () => {
  const workflowId = `timeline-wait-${Date.now()}`;
  await temporalServer.env.client.workflow.execute('timer', { taskQueue: 'timeline', workflowId, args: [5 * 24 * 3_600_000] });
  const lines = withoutTimes(renderTimeline(await fetchAllRuns(temporalServer.env.client, workflowId)));
  expect(lines.slice(1, 4)).toEqual([
    'WorkflowExecutionStarted timer  {432000000}',
    'TimerStarted 5 d',
    '   … 5 d with nothing to report …',
  ]);
  expect(lines[4]).toBe('TimerFired');
});

it('fetches a workflow of one run once, named by its own run id', async () => {
  const workflowId = `timeline-once-${Date.now()}`;
  const handle = await temporalServer.env.client.workflow.start('activityRetry', { taskQueue: 'timeline', workflowId, args: [0] });
  await handle.result();
  const getHandle = jest.spyOn(temporalServer.env.client.workflow, 'getHandle');
  try {
    const runs = await fetchAllRuns(temporalServer.env.client, workflowId);
    expect(runs.map((r) => r.runId)).toEqual([handle.firstExecutionRunId]);
    expect(runs[0].history.events?.at(-1)?.eventType).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    expect(getHandle).toHaveBeenCalledTimes(1);
  } finally {
    getHandle.mockRestore();
  }
});

it('follows continue-as-new across runs, and every exported run replays against the workflow code', async () => {
  const workflowId = `timeline-runs-${Date.now()}`;
  await temporalServer.env.client.workflow.execute('continuing', { taskQueue: 'timeline', workflowId, args: [2, 0] });
  const runs = await fetchAllRuns(temporalServer.env.client, workflowId);
  expect(runs).toHaveLength(3);
  const lines = renderTimeline(runs);
  expect(lines.filter((line) => line.startsWith('── run'))).toHaveLength(3);
  expect(lines.filter((line) => line.includes('WorkflowExecutionContinuedAsNew →'))).toHaveLength(2);

  const dir = await mkdtemp(join(tmpdir(), 'history-export-'));
  const paths = await exportRuns(runs, workflowId, dir);
  expect(paths).toHaveLength(3);
  for (const path of paths) {
    const history = historyFromJSON(JSON.parse(await readFile(path, 'utf8')));
    expect(history.events?.length).toBeGreaterThan(3);
    await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
  }
  await rm(dir, { recursive: true, force: true });
});
