/**
 * providerSyncWorkflow on our in-memory time-skipping Temporal server, with its real activity against
 * PostgreSQL and the provider simulator over HTTP. Stand-in order workflows (`order-<id>`) record the
 * providerUpdate signals. Every history fetched here is replayed at the end.
 */
import type { WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { createProviderSyncActivities } from '../../activities/provider-sync-activities';
import { createProviderDirectory } from '../../activities/provider-directory';
import { ORDER_TASK_QUEUE, providerSyncWorkflowId } from '../../workflows/order-contract';
import type { ProviderSyncPolicy } from '../../workflows/provider-sync-policy';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { bundleWorkflows, eventNames, startTestTemporal, type TestTemporal } from '../support/temporal';
import { closedPort } from '../provider/helpers';
import {
  eventually,
  seedCatalogue,
  seedOrders,
  startSim,
  startStandIns,
  updatesOf,
  type Sim,
} from './provider-sync-fixtures';
import * as wf from './provider-sync-test-workflows';

let db: TestDatabase;
let sim: Sim;
let temporal: TestTemporal;
let bundle: WorkflowBundle;
let worker: Worker;
let workerRun: Promise<void>;
const collected: Array<{ workflowId: string; history: proto.api.history.v1.IHistory }> = [];
/** Status calls to fail with a 502 (by ordinal since the test armed it). */
let failStatusCalls = new Set<number>();
let statusCallsSinceArmed = 0;

beforeAll(async () => {
  [db, sim, temporal] = await Promise.all([createTestDatabase(), startSim(), startTestTemporal()]);
  bundle = await bundleWorkflows(require.resolve('./provider-sync-test-workflows'));
  const providers = createProviderDirectory(db.prisma, {
    timeoutMs: 5_000,
    fetch: async (url, init) => {
      if (String(init?.body ?? '').includes('action=status') && failStatusCalls.has(++statusCallsSinceArmed)) {
        return new Response('<html>502 Bad Gateway</html>', { status: 502 });
      }
      return fetch(url, init);
    },
  });
  worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    taskQueue: ORDER_TASK_QUEUE,
    workflowBundle: bundle,
    activities: createProviderSyncActivities({ prisma: db.prisma, providers, temporal: temporal.env.client }),
  });
  workerRun = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await temporal?.teardown();
  await sim?.close();
  await db?.drop();
});

const client = () => temporal.env.client;
type SyncHandle = WorkflowHandleWithSignaledRunId<typeof wf.providerSyncWorkflow>;

/** How the order workflow's dispatch activity starts or wakes the sync. */
function wake(providerId: number, policy?: Partial<ProviderSyncPolicy>): Promise<SyncHandle> {
  return client().workflow.signalWithStart(wf.providerSyncWorkflow, {
    workflowId: providerSyncWorkflowId(providerId),
    taskQueue: ORDER_TASK_QUEUE,
    args: [{ providerId, policy }],
    signal: wf.wakeSignal,
    signalArgs: [{ providerId }],
  });
}

const stateOf = (handle: SyncHandle) => client().workflow.getHandle(handle.workflowId).query(wf.providerSyncStateQuery);

/** Waits until the sync has finished `rounds` rounds in all and sleeps. */
function afterRounds(handle: SyncHandle, rounds: number) {
  return eventually(async () => {
    const s = await stateOf(handle);
    return s.totalRounds >= rounds && s.phase === 'sleeping' ? s : undefined;
  }, `${rounds} rounds of ${handle.workflowId}`);
}

async function historyOf(workflowId: string, runId?: string) {
  const history = await client().workflow.getHandle(workflowId, runId).fetchHistory();
  collected.push({ workflowId, history });
  return history;
}

async function stop(handle: SyncHandle): Promise<void> {
  await historyOf(handle.workflowId);
  await client().workflow.getHandle(handle.workflowId).terminate('test over');
}

describe('providerSyncWorkflow', () => {
  it('polls 250 active orders in exactly 3 status calls per round', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    await seedOrders(db.prisma, sim.sim, cat, { count: 250 });
    sim.resetCalls();
    const handle = await wake(cat.providerId);
    const first = await afterRounds(handle, 1);
    expect(sim.statusCalls()).toBe(3);
    expect(first.lastRound).toMatchObject({ checked: 250, providerCalls: 3, firstChecks: 250, activeRemaining: 250 });

    await temporal.env.sleep(first.intervalMs);
    const second = await afterRounds(handle, 2);
    expect(sim.statusCalls()).toBe(6);
    expect(second.lastRound).toMatchObject({ checked: 250, providerCalls: 3, firstChecks: 0, changed: 0 });
    await stop(handle);
  });

  it('adapts its interval (15 s after changes, doubling while quiet), signals changes, and a wake cuts the sleep short', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 2, linkPrefix: 'adaptive' });
    const standIns = await startStandIns(client(), orders);
    const handle = await wake(cat.providerId);
    expect((await afterRounds(handle, 1)).intervalMs).toBe(15_000); // new orders
    await temporal.env.sleep(15_000);
    expect((await afterRounds(handle, 2)).intervalMs).toBe(30_000); // quiet
    await temporal.env.sleep(30_000);
    expect((await afterRounds(handle, 3)).intervalMs).toBe(60_000); // quiet again

    sim.clock.advance(10_000); // the orders start upstream
    await temporal.env.sleep(60_000);
    const changed = await afterRounds(handle, 4);
    expect(changed.lastRound).toMatchObject({ changed: 2, signaled: 2 });
    expect(changed.intervalMs).toBe(15_000);
    for (const o of orders) expect((await updatesOf(standIns.get(o.id)!)).map((u) => u.status)).toEqual(['in_progress']);
    await temporal.env.sleep(15_000);
    const quiet = await afterRounds(handle, 5);
    expect(quiet.intervalMs).toBe(30_000);

    // A wake (an order was just dispatched) starts the next round long before the 30 s are over.
    await temporal.env.sleep(6_000); // past the 5 s minimum gap between rounds
    const before = await temporal.env.currentTimeMs();
    await wake(cat.providerId);
    const woken = await afterRounds(handle, 6);
    const elapsed = (await temporal.env.currentTimeMs()) - before;
    expect(elapsed).toBeLessThan(10_000);
    expect(woken.wakes).toBeGreaterThanOrEqual(2);
    const names = eventNames(await historyOf(handle.workflowId));
    const lastSignal = names.lastIndexOf('WorkflowExecutionSignaled');
    expect(names.slice(lastSignal)).toEqual(expect.arrayContaining(['TimerCanceled', 'ActivityTaskScheduled']));
    await stop(handle);
  });

  it('continues as new every roundsPerRun rounds, carrying its state, and keeps running', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    await seedOrders(db.prisma, sim.sim, cat, { count: 1, linkPrefix: 'can' });
    const handle = await wake(cat.providerId, { roundsPerRun: 2 });
    await afterRounds(handle, 1);
    await temporal.env.sleep(15_000);
    await afterRounds(handle, 2);
    await temporal.env.sleep(30_000); // end of the second sleep: continue-as-new, the new run polls at once
    const carried = await afterRounds(handle, 3);
    expect(carried).toMatchObject({ previousRuns: 1, roundsThisRun: 1, totalRounds: 3, intervalMs: 60_000 });

    const description = await client().workflow.getHandle(handle.workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.runId).not.toBe(handle.signaledRunId);
    const firstRun = eventNames(await historyOf(handle.workflowId, handle.signaledRunId));
    expect(firstRun[firstRun.length - 1]).toBe('WorkflowExecutionContinuedAsNew');
    expect(firstRun.filter((n) => n === 'ActivityTaskCompleted')).toHaveLength(2);

    await temporal.env.sleep(60_000);
    await afterRounds(handle, 4);
    await temporal.env.sleep(120_000);
    const third = await afterRounds(handle, 5);
    expect(third.previousRuns).toBe(2);
    await historyOf(handle.workflowId, description.runId);
    await stop(handle);
  });

  it('retries a round whose HTTP call failed; the retry signals only the orders not yet told', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 130, linkPrefix: 'retry' });
    const standIns = await startStandIns(client(), orders);
    sim.clock.advance(10_000);
    statusCallsSinceArmed = 0;
    failStatusCalls = new Set([2]);
    const handle = await wake(cat.providerId);
    await eventually(async () => statusCallsSinceArmed >= 2, 'the failed status call');
    await temporal.env.sleep(6_000); // the retry's backoff (5 s)
    const state = await afterRounds(handle, 1);
    failStatusCalls = new Set();
    expect(state.lastRound).toMatchObject({ checked: 130, firstChecks: 30, changed: 30, signaled: 30 });
    const counts = await Promise.all(orders.map(async (o) => (await updatesOf(standIns.get(o.id)!)).length));
    expect(counts.every((n) => n === 1)).toBe(true);
    const history = await historyOf(handle.workflowId);
    const started = history.events!.find((e) => e.activityTaskStartedEventAttributes)!;
    expect(started.activityTaskStartedEventAttributes!.attempt).toBe(2);
    await stop(handle);
  });

  it('survives a provider that stays down: the round fails after its retries and the sync backs off', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim, `http://127.0.0.1:${await closedPort()}/api/v2`);
    await seedOrders(db.prisma, sim.sim, cat, { count: 1, linkPrefix: 'down' });
    const handle = await wake(cat.providerId);
    // 5 attempts, 5 + 10 + 20 + 40 s of backoff apart: the round fails at about 75 s, then the sync
    // sleeps 30 s (backing off) before the next round.
    await temporal.env.sleep(90_000);
    const state = await afterRounds(handle, 1);
    expect(state.lastError).toMatch(/provider|fetch|ECONNREFUSED/i);
    expect(state.intervalMs).toBe(30_000);
    expect((await client().workflow.getHandle(handle.workflowId).describe()).status.name).toBe('RUNNING');
    expect(eventNames(await historyOf(handle.workflowId))).toContain('ActivityTaskFailed');
    await stop(handle);
  });

  it('ends after an hour with nothing to follow, and the next wake starts it again', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const handle = await wake(cat.providerId);
    expect(await handle.result()).toEqual({ ended: 'idle', totalRounds: 13 }); // 5-minute rounds for 60 minutes
    await historyOf(handle.workflowId, handle.signaledRunId);

    await seedOrders(db.prisma, sim.sim, cat, { count: 1, linkPrefix: 'restart' });
    const again = await wake(cat.providerId);
    expect(again.signaledRunId).not.toBe(handle.signaledRunId);
    const state = await afterRounds(again, 1);
    expect(state.lastRound).toMatchObject({ checked: 1, firstChecks: 1 });
    await stop(again);
  });

  it('with alignMs, two providers whose syncs polled 8 s apart sleep until the same multiple of it and poll there together', async () => {
    const alignMs = 10 * 60_000;
    const policy = { alignMs };
    const [a, b] = [await seedCatalogue(db.prisma, sim.sim), await seedCatalogue(db.prisma, sim.sim)];
    await seedOrders(db.prisma, sim.sim, a, { count: 1, linkPrefix: 'align-a' });
    await seedOrders(db.prisma, sim.sim, b, { count: 1, linkPrefix: 'align-b' });
    // Just past a multiple, so that both rounds' 15 s sleeps round to the next one whatever the date.
    const now = await temporal.env.currentTimeMs();
    await temporal.env.sleep(alignMs - (now % alignMs) + 1_000);
    const first = await wake(a.providerId, policy);
    await temporal.env.sleep(8_000);
    const second = await wake(b.providerId, policy);
    const [sleepingA, sleepingB] = [await afterRounds(first, 1), await afterRounds(second, 1)];
    expect(sleepingB.lastRoundStartedMs! - sleepingA.lastRoundStartedMs!).toBeGreaterThanOrEqual(8_000);
    expect(sleepingA.sleepingUntilMs! % alignMs).toBe(0);
    expect(sleepingB.sleepingUntilMs).toBe(sleepingA.sleepingUntilMs);

    await temporal.env.sleep(sleepingA.sleepingUntilMs! - (await temporal.env.currentTimeMs()) + 1_000);
    const [againA, againB] = [await afterRounds(first, 2), await afterRounds(second, 2)];
    for (const again of [againA, againB]) {
      expect(again.lastRoundStartedMs! - sleepingA.sleepingUntilMs!).toBeGreaterThanOrEqual(0);
      expect(again.lastRoundStartedMs! - sleepingA.sleepingUntilMs!).toBeLessThan(1_000);
    }
    await stop(first);
    await stop(second);
  });

  it('every history fetched above replays against the workflow code', async () => {
    expect(collected.length).toBeGreaterThanOrEqual(8);
    for (const { workflowId, history } of collected) {
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
    }
  });
});
