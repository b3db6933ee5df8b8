/**
 * The provider sync's refill half (issue "Refill guarantees"): pollProviderRound asks refill_status
 * for the provider's refills in flight in calls of at most 100 ids, signals `refillUpdate` to the
 * order's workflow only when a refill's status changed, and writes refills.upstream_status and
 * last_checked_at. Run in a mocked activity Context against real PostgreSQL, the provider simulator
 * over HTTP, and stand-in order workflows on the in-memory Temporal server that record the signals.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createProviderSyncActivities, type PollProviderRoundResult } from '../../activities/provider-sync-activities';
import type { RefillUpdate } from '../../workflows/order-contract';
import type { TestDatabase } from '../support/database';
import type { TestTemporal } from '../support/temporal';
import {
  capturingLogger,
  seedCatalogue,
  seedOrders,
  startStandIns,
  startSyncHarness,
  type Catalogue,
  type SeededOrder,
  type Sim,
  type StandIn,
  type SyncHarness,
} from './provider-sync-fixtures';

let db: TestDatabase;
let sim: Sim;
let temporal: TestTemporal;
let activities: ReturnType<typeof createProviderSyncActivities>;
let harness: SyncHarness;
const captured = capturingLogger();

beforeAll(async () => {
  harness = await startSyncHarness();
  ({ db, sim, temporal, activities } = harness);
});

afterAll(async () => harness?.stop());

function round(providerId: number): Promise<PollProviderRoundResult> {
  const env = new MockActivityEnvironment({ activityType: 'pollProviderRound' }, { logger: captured.logger });
  return env.run(activities.pollProviderRound, { providerId });
}

const refillUpdatesOf = (handle: StandIn) => handle.query<RefillUpdate[]>('receivedRefillUpdates');

/** Completed orders (rows and simulator), each with one refill requested at the simulator and its refills row. */
async function refillsInFlight(cat: Catalogue, count: number): Promise<Array<SeededOrder & { refillId: number; providerRefillId: string }>> {
  const orders = await seedOrders(db.prisma, sim.sim, cat, { count, status: 'completed', linkPrefix: 'sync-refill' });
  sim.clock.advance(10 * 60_000); // the simulator completes them
  const out = [];
  for (const o of orders) {
    const answer = sim.sim.state.refill(sim.sim.apiKey, o.providerOrderId) as { refill: string };
    expect(answer).toEqual({ refill: expect.any(String) });
    const row = await db.prisma.refill.create({
      data: { orderId: o.id, requestId: `r-${o.id}`, requestedBy: { kind: 'user', userId: cat.userId }, providerRefillId: answer.refill, sendAttempt: 1, sendState: 'answered' },
    });
    out.push({ ...o, refillId: row.id, providerRefillId: answer.refill });
  }
  return out;
}

const refillStatusCalls = () => sim.sim.state.calls('refill_status').map((c) => c.ids);

describe('refill_status: 100 ids per call, a signal only on a change', () => {
  it('150 refills in flight: two refill_status calls (100 + 50) per round; Pending → no signal; In progress, then Completed → one signal each; then nothing left to ask', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const refills = await refillsInFlight(cat, 150);
    const standIns = await startStandIns(temporal.env.client, refills);
    sim.sim.state.clearCalls();

    // Just requested: the provider says Pending, as the row does.
    const first = await round(cat.providerId);
    expect(refillStatusCalls()).toEqual([100, 50]);
    expect(first).toMatchObject({ refillsChecked: 150, refillsChanged: 0, refillsSignaled: 0, refillCalls: 2, refillsRemaining: 150 });
    const rows = await db.prisma.refill.findMany({ where: { id: { in: refills.map((r) => r.refillId) } } });
    expect(rows.every((r) => r.upstreamStatus === 'pending' && r.lastCheckedAt !== null)).toBe(true);

    sim.clock.advance(8_000); // In progress at the simulator
    const second = await round(cat.providerId);
    expect(second).toMatchObject({ refillsChecked: 150, refillsChanged: 150, refillsSignaled: 150, refillCalls: 2 });
    const third = await round(cat.providerId);
    expect(third).toMatchObject({ refillsChecked: 150, refillsChanged: 0, refillsSignaled: 0 });

    sim.clock.advance(60_000); // Completed
    const fourth = await round(cat.providerId);
    expect(fourth).toMatchObject({ refillsChanged: 150, refillsSignaled: 150, refillsRemaining: 0 });
    expect(await round(cat.providerId)).toMatchObject({ refillsChecked: 0, refillCalls: 0 });
    expect(refillStatusCalls()).toEqual([100, 50, 100, 50, 100, 50, 100, 50]);

    const one = refills[0]!;
    const got = await refillUpdatesOf(standIns.get(one.id)!);
    expect(got.map((u) => [u.refillId, u.providerRefillId, u.status])).toEqual([
      [one.refillId, one.providerRefillId, 'in_progress'],
      [one.refillId, one.providerRefillId, 'completed'],
    ]);
    expect(got[1]!.raw).toMatchObject({ status: 'Completed' });
    for (const handle of standIns.values()) await handle.signal('stopStandIn');
  });

  it('a refill the provider does not know ("Refill not found") is counted as an error and goes to the back of the queue', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const [order] = await seedOrders(db.prisma, sim.sim, cat, { count: 1, status: 'completed', linkPrefix: 'sync-refill-unknown' });
    const row = await db.prisma.refill.create({
      data: { orderId: order!.id, requestId: 'r-unknown', requestedBy: { kind: 'user', userId: cat.userId }, providerRefillId: '987654321', sendAttempt: 1, sendState: 'answered' },
    });
    const result = await round(cat.providerId);
    expect(result).toMatchObject({ refillsChecked: 1, refillsChanged: 0, errors: 1, refillsRemaining: 1 });
    expect(await db.prisma.refill.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ upstreamStatus: null, lastCheckedAt: expect.any(Date) });
    expect(captured.lines.find((l) => l.message === 'provider sync: provider answered an error for one refill')?.meta).toMatchObject({ refillId: row.id, error: 'Refill not found' });
  });
});
