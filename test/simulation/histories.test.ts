// The simulation's replay check (simulation/histories.ts replayAll): every history through replay
// workers running side by side, each in a worker thread, and a history that no longer replays named.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { collectOrderFacts, replayAll } from '../../simulation/histories';
import { orderWorkflowId } from '../../workflows/order-contract';
import type { OrderWorkflowFacts } from '../../simulation/histories';
import { bundleWorkflows, startTestTemporal } from '../support/temporal';

const DIR = join(__dirname, '..', 'workflows', 'histories');
const stored = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map((f) => historyFromJSON(JSON.parse(readFileSync(join(DIR, f), 'utf8'))));

function factsOf(histories: typeof stored): OrderWorkflowFacts[] {
  return histories.map((history, i) => ({ orderId: 9000 + i, runs: [{ runId: `run-${i}`, history }], state: null, open: false, events: 0, actions: 0, activityFailures: 0 }));
}

// No provider syncs to fetch: the client is not called.
const noClient = {} as Client;

it('replays every history across two lanes and counts each once', async () => {
  const bundle = await bundleWorkflows(require.resolve('../../workflows'));
  const outcome = await replayAll(noClient, bundle, factsOf(stored), [], 2);
  expect(outcome.failures).toEqual([]);
  expect(outcome.replayed).toBe(stored.length);
});

it('a history whose commands today\'s code does not issue fails the check, named by workflow and run', async () => {
  const bundle = await bundleWorkflows(require.resolve('../../workflows'));
  const broken = historyFromJSON(JSON.parse(readFileSync(join(DIR, 'partial-refund.json'), 'utf8')));
  const scheduled = broken.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
  scheduled.activityTaskScheduledEventAttributes!.activityType = { name: 'notAnActivityOfThisWorkflow' };
  const facts = factsOf([...stored.slice(0, 3), broken]);
  const outcome = await replayAll(noClient, bundle, facts, [], 2);
  expect(outcome.replayed).toBe(4);
  expect(outcome.failures).toEqual([expect.objectContaining({ workflowId: 'order-9003', runId: 'run-3' })]);
});

it('a run the replay process replayed counts with its result and is not replayed again', async () => {
  const bundle = await bundleWorkflows(require.resolve('../../workflows'));
  const facts = factsOf(stored.slice(0, 4));
  // run-0 replayed fine during the drive, run-1 failed then: both count, only run-2 and run-3 replay now.
  const before = new Map([
    ['run-0', { workflowId: 'order-9000', error: null }],
    ['run-1', { workflowId: 'order-9001', error: 'Nondeterminism error: ...' }],
  ]);
  const outcome = await replayAll(noClient, bundle, facts, [], 2, before);
  expect(outcome.replayed).toBe(4);
  expect(outcome.replayedBefore).toBe(2);
  expect(outcome.failures).toEqual([{ workflowId: 'order-9001', runId: 'run-1', error: 'Nondeterminism error: ...' }]);
});

it('a run known only by its facts (the replay process stopped before replaying it) is fetched and replayed; one that cannot be fetched fails the check, named', async () => {
  const bundle = await bundleWorkflows(require.resolve('../../workflows'));
  const facts = factsOf(stored.slice(0, 2)).map((f) => ({ ...f, runs: f.runs!.map((r) => ({ ...r, history: null })) }));
  // The server has run-0's history; run-1's fetch fails.
  const fetched: string[] = [];
  const client = {
    workflow: {
      getHandle: (workflowId: string, runId: string) => ({
        fetchHistory: async () => {
          fetched.push(`${workflowId}/${runId}`);
          if (runId === 'run-0') return stored[0];
          throw new Error('NOT_FOUND');
        },
      }),
    },
  } as unknown as Client;
  const outcome = await replayAll(client, bundle, facts, [], 2);
  expect(fetched.sort()).toEqual(['order-9000/run-0', 'order-9001/run-1']);
  expect(outcome.replayed).toBe(2);
  expect(outcome.failures).toEqual([{ workflowId: 'order-9001', runId: 'run-1', error: expect.stringMatching(/^history not fetched for the replay: .*NOT_FOUND/) }]);
});

it('an open order whose workflow task nobody completes (a history that no longer replays fails every attempt): its state query gives up at its deadline, and the facts say the open workflow gave no state', async () => {
  const temporal = await startTestTemporal();
  try {
    const client = temporal.env.client;
    // No worker polls this queue: the first workflow task stays pending, and a query rides on it.
    await client.workflow.start('orderWorkflow', { taskQueue: 'nobody-polls-this-queue', workflowId: orderWorkflowId(987_654), args: [] });
    const started = Date.now();
    const { facts } = await collectOrderFacts(client, [987_654], [], { stateQueryDeadlineMs: 300 });
    expect(facts.get(987_654)).toMatchObject({ open: true, state: null });
    expect(Date.now() - started).toBeLessThan(30_000); // three asks of 0.3 s, not for good
  } finally {
    await temporal.teardown();
  }
});
