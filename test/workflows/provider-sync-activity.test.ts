/**
 * pollProviderRound, run in a mocked activity Context against real PostgreSQL, the provider
 * simulator over HTTP, and our in-memory Temporal server (stand-in order workflows receive the
 * providerUpdate signals and answer queries).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import {
  createProviderSyncActivities,
  needsSignal,
  PROVIDER_REQUEST_FAILURE,
  type PollProviderRoundResult,
} from '../../activities/provider-sync-activities';
import { createProviderDirectory } from '../../activities/provider-directory';
import { ProviderUnavailableError } from '../../activities/provider';
import type { TestDatabase } from '../support/database';
import type { TestTemporal } from '../support/temporal';
import { closedPort } from '../provider/helpers';
import {
  addScenario,
  capturingLogger,
  seedCatalogue,
  seedOrders,
  startStandIns,
  syncRows,
  updatesOf,
  type Sim,
  startSyncHarness,
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

/** One round, in a (mocked) activity Context whose logger we read. */
function round(providerId: number, maxOrders = 1000, acts = activities): Promise<PollProviderRoundResult> {
  const env = new MockActivityEnvironment({ activityType: 'pollProviderRound' }, { logger: captured.logger });
  return env.run(acts.pollProviderRound, { providerId, maxOrders });
}

describe('one status call per 100 orders', () => {
  it('250 active orders → exactly 3 status calls per round, every round', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 250 });
    sim.resetCalls();
    const first = await round(cat.providerId);
    expect(sim.statusCalls()).toBe(3);
    expect(sim.sim.state.calls('status').map((c) => c.ids)).toEqual([100, 100, 50]);
    expect(first).toMatchObject({ checked: 250, providerCalls: 3, firstChecks: 250, changed: 0, signaled: 0, errors: 0, activeRemaining: 250 });

    sim.resetCalls();
    const second = await round(cat.providerId);
    expect(sim.statusCalls()).toBe(3);
    expect(second).toMatchObject({ checked: 250, providerCalls: 3, firstChecks: 0, changed: 0, signaled: 0 });
    const rows = await syncRows(db.prisma, orders.map((o) => o.id));
    expect([...rows.values()].every((r) => r.lastCheckedAt !== null && r.upstreamStatus === 'pending' && r.upstreamRemains === 1000)).toBe(true);
  });

  it('logs one line per round with orders checked, changed and duration (activity Context logger)', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    await seedOrders(db.prisma, sim.sim, cat, { count: 3 });
    captured.lines.length = 0;
    await round(cat.providerId);
    const lines = captured.lines.filter((l) => l.message === 'provider sync round');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('INFO');
    expect(lines[0]!.meta).toMatchObject({ providerId: cat.providerId, checked: 3, changed: 0, providerCalls: 1, durationMs: expect.any(Number) });
  });
});

describe('oldest check first: nobody starves', () => {
  it('with maxOrders below the active set, two rounds cover everyone and the third starts again with the oldest', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 250 });
    const ids = orders.map((o) => o.id);
    const checkedSince = async (since: Date) =>
      [...(await syncRows(db.prisma, ids)).values()].filter((r) => r.lastCheckedAt && r.lastCheckedAt >= since).map((r) => r.id).sort((a, b) => a - b);

    const t1 = new Date();
    expect(await round(cat.providerId, 125)).toMatchObject({ checked: 125, firstChecks: 125, providerCalls: 2 });
    const firstSet = await checkedSince(t1);
    expect(firstSet).toHaveLength(125);

    await new Promise((r) => setTimeout(r, 5));
    const t2 = new Date();
    expect(await round(cat.providerId, 125)).toMatchObject({ checked: 125, firstChecks: 125 });
    const secondSet = await checkedSince(t2);
    expect(new Set([...firstSet, ...secondSet]).size).toBe(250); // two rounds: everyone, once

    await new Promise((r) => setTimeout(r, 5));
    const t3 = new Date();
    expect(await round(cat.providerId, 125)).toMatchObject({ checked: 125, firstChecks: 0 });
    expect(await checkedSince(t3)).toEqual(firstSet); // the least recently checked come back first
  });

  it('the least recently checked orders go first, not the newest ones (what existing panels get wrong)', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 150 });
    const ids = orders.map((o) => o.id);
    // The 50 OLDEST orders were last checked an hour ago, the 100 newest a minute ago.
    const oldest = ids.slice(0, 50);
    await db.prisma.order.updateMany({ where: { id: { in: ids } }, data: { lastCheckedAt: new Date(Date.now() - 60_000), upstreamStatus: 'pending' } });
    await db.prisma.order.updateMany({ where: { id: { in: oldest } }, data: { lastCheckedAt: new Date(Date.now() - 3_600_000) } });
    const before = new Date();
    expect(await round(cat.providerId, 50)).toMatchObject({ checked: 50, providerCalls: 1 });
    const rows = await syncRows(db.prisma, ids);
    const polled = ids.filter((id) => rows.get(id)!.lastCheckedAt! >= before);
    expect(polled).toEqual(oldest);
  });
});

describe('signals only on change', () => {
  it('signals status changes and the first start count; remains-only progress is written without a signal', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 3, linkPrefix: 'change' });
    const ids = orders.map((o) => o.id);
    const standIns = await startStandIns(temporal.env.client, orders);
    const received = async () => Promise.all(ids.map(async (id) => updatesOf(standIns.get(id)!)));

    // Round 1: Pending, as the order already is → nothing to tell.
    expect(await round(cat.providerId)).toMatchObject({ checked: 3, changed: 0, signaled: 0 });
    // The simulator starts orders after 5 s and delivers 20/s: 10 s later they are In progress.
    sim.clock.advance(10_000);
    expect(await round(cat.providerId)).toMatchObject({ checked: 3, changed: 3, signaled: 3 });
    let updates = await received();
    for (const list of updates) {
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ status: 'in_progress', startCount: expect.any(Number), remains: 900, observedAt: expect.any(Number) });
      expect(list[0]!.raw).toMatchObject({ status: 'In progress' });
    }
    const startCounts = updates.map((l) => l[0]!.startCount);

    // Round 3: no upstream change → no signal.
    expect(await round(cat.providerId)).toMatchObject({ checked: 3, changed: 0, signaled: 0 });
    // Round 4: delivery progress only → no signal, upstream_remains follows.
    sim.clock.advance(5_000);
    expect(await round(cat.providerId)).toMatchObject({ checked: 3, changed: 0, signaled: 0 });
    const rows = await syncRows(db.prisma, ids);
    ids.forEach((id, i) => {
      expect(rows.get(id)).toMatchObject({ upstreamStatus: 'in_progress', upstreamRemains: 800, upstreamStartCount: startCounts[i] });
    });
    updates = await received();
    expect(updates.map((l) => l.length)).toEqual([1, 1, 1]);

    // Completed → signalled once; then nothing is left to follow for these orders.
    sim.clock.advance(60_000);
    expect(await round(cat.providerId)).toMatchObject({ checked: 3, changed: 3, signaled: 3, activeRemaining: 0 });
    updates = await received();
    for (const list of updates) expect(list.map((u) => u.status)).toEqual(['in_progress', 'completed']);
    expect(updates.map((l) => l[1]!.remains)).toEqual([0, 0, 0]);
    sim.resetCalls();
    expect(await round(cat.providerId)).toMatchObject({ checked: 0, providerCalls: 0, activeRemaining: 0 });
    expect(sim.statusCalls()).toBe(0);
  });

  it('is idempotent: a round repeated after a lost write re-signals only what still differs', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 3, linkPrefix: 'idem' });
    const standIns = await startStandIns(temporal.env.client, orders);
    sim.clock.advance(10_000);
    expect(await round(cat.providerId)).toMatchObject({ changed: 3, signaled: 3 });
    // As if the activity died after signalling order 0 but before writing its row.
    await db.prisma.order.update({ where: { id: orders[0]!.id }, data: { upstreamStatus: null, upstreamStartCount: null } });
    expect(await round(cat.providerId)).toMatchObject({ checked: 3, changed: 1, signaled: 1 });
    expect((await updatesOf(standIns.get(orders[0]!.id)!)).map((u) => u.status)).toEqual(['in_progress', 'in_progress']);
    expect((await updatesOf(standIns.get(orders[1]!.id)!)).map((u) => u.status)).toEqual(['in_progress']);
  });

  it('needsSignal: status moves and a first start count signal; count changes and remains alone do not', () => {
    const row = { status: 'pending', upstreamStatus: null, upstreamStartCount: null };
    expect(needsSignal(row, { status: 'pending', startCount: null })).toBe(false);
    expect(needsSignal(row, { status: 'in_progress', startCount: 10 })).toBe(true);
    expect(needsSignal({ ...row, status: 'in_progress' }, { status: 'in_progress', startCount: null })).toBe(false);
    expect(needsSignal({ ...row, upstreamStatus: 'pending' }, { status: 'pending', startCount: 5 })).toBe(true);
    const started = { status: 'in_progress', upstreamStatus: 'in_progress', upstreamStartCount: 5 };
    expect(needsSignal(started, { status: 'in_progress', startCount: 7 })).toBe(false);
    expect(needsSignal(started, { status: 'partial', startCount: 5 })).toBe(true);
  });
});

describe('provider quirks', () => {
  it('normalises lowercase, snake_case, Processing, Cancelled and "Unknown" remains before comparing and signalling', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    addScenario(sim.sim, 'qlower', { quirks: { statusCase: 'lower' } });
    addScenario(sim.sim, 'qsnake', { quirks: { statusCase: 'snake', numericFields: true } });
    addScenario(sim.sim, 'qproc', { quirks: { statusMap: { 'In progress': 'Processing' }, remainsUnknown: true } });
    addScenario(sim.sim, 'qcancel', { end: 'canceled', quirks: { statusMap: { Canceled: 'Cancelled' } } });
    const seeded = [];
    for (const prefix of ['qlower', 'qsnake', 'qproc', 'qcancel']) seeded.push(...(await seedOrders(db.prisma, sim.sim, cat, { count: 1, linkPrefix: prefix })));
    const standIns = await startStandIns(temporal.env.client, seeded);
    sim.clock.advance(10_000);
    expect(await round(cat.providerId)).toMatchObject({ checked: 4, changed: 4, signaled: 4, errors: 0 });
    const got = await Promise.all(seeded.map(async (o) => (await updatesOf(standIns.get(o.id)!))[0]!));
    expect(got.map((u) => [u.status, (u.raw as { status: string }).status])).toEqual([
      ['in_progress', 'in progress'],
      ['in_progress', 'in_progress'],
      ['in_progress', 'Processing'],
      ['canceled', 'Cancelled'],
    ]);
    expect(got[1]!.remains).toBe(900); // numeric fields
    expect(got[2]!.remains).toBeNull(); // "Unknown"
    const rows = await syncRows(db.prisma, seeded.map((o) => o.id));
    expect(seeded.map((o) => rows.get(o.id)!.upstreamStatus)).toEqual(['in_progress', 'in_progress', 'in_progress', 'canceled']);
  });
});

describe('errors', () => {
  it('per-id errors ("Incorrect order ID") and a missing order workflow are logged and counted; the round goes on', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const good = await seedOrders(db.prisma, sim.sim, cat, { count: 3, linkPrefix: 'good' });
    const bad = await seedOrders(db.prisma, sim.sim, cat, { count: 2, linkPrefix: 'bad', unknownAtProvider: true });
    const orphan = await seedOrders(db.prisma, sim.sim, cat, { count: 1, linkPrefix: 'orphan' }); // no workflow
    await startStandIns(temporal.env.client, good);
    sim.clock.advance(10_000);
    captured.lines.length = 0;
    expect(await round(cat.providerId)).toMatchObject({ checked: 6, changed: 4, signaled: 3, errors: 3, providerCalls: 1 });
    const warnings = captured.lines.filter((l) => l.level === 'WARN');
    expect(warnings.filter((w) => w.meta?.error === 'Incorrect order ID').map((w) => w.meta?.orderId)).toEqual(bad.map((o) => o.id));
    expect(warnings.some((w) => w.meta?.orderId === orphan[0]!.id && /workflow not found/.test(w.message))).toBe(true);

    const rows = await syncRows(db.prisma, [...good, ...bad, ...orphan].map((o) => o.id));
    for (const o of good) expect(rows.get(o.id)).toMatchObject({ upstreamStatus: 'in_progress' });
    // Errors go to the back of the queue with their upstream state untouched (the orphan's change is kept for later).
    for (const o of [...bad, ...orphan]) expect(rows.get(o.id)).toMatchObject({ upstreamStatus: null, lastCheckedAt: expect.any(Date) });

    // Once the order's workflow exists, the kept change is delivered.
    const late = await startStandIns(temporal.env.client, orphan);
    expect(await round(cat.providerId)).toMatchObject({ changed: 1, signaled: 1, errors: 2 });
    expect((await updatesOf(late.get(orphan[0]!.id)!)).map((u) => u.status)).toEqual(['in_progress']);
  });

  it('a failed HTTP call throws (retryable); batches already done stay done and are not signalled again', async () => {
    const cat = await seedCatalogue(db.prisma, sim.sim);
    const orders = await seedOrders(db.prisma, sim.sim, cat, { count: 130, linkPrefix: 'flaky' });
    const standIns = await startStandIns(temporal.env.client, orders);
    let statusCall = 0;
    const flaky = createProviderSyncActivities({
      prisma: db.prisma,
      temporal: temporal.env.client,
      providers: createProviderDirectory(db.prisma, {
        timeoutMs: 5_000,
        fetch: async (url, init) => {
          if (String(init?.body ?? '').includes('action=status') && ++statusCall === 2) {
            return new Response('<html>502 Bad Gateway</html>', { status: 502 });
          }
          return fetch(url, init);
        },
      }),
    });
    sim.clock.advance(10_000);
    const failure = await round(cat.providerId, 1000, flaky).catch((e) => e);
    expect(failure).toBeInstanceOf(ProviderUnavailableError);
    const afterFailure = await syncRows(db.prisma, orders.map((o) => o.id));
    expect([...afterFailure.values()].filter((r) => r.upstreamStatus === 'in_progress')).toHaveLength(100);

    // The retry asks the 30 never-checked orders first, and signals only them.
    expect(await round(cat.providerId, 1000, flaky)).toMatchObject({ checked: 130, firstChecks: 30, changed: 30, signaled: 30 });
    const counts = await Promise.all(orders.map(async (o) => (await updatesOf(standIns.get(o.id)!)).length));
    expect(counts.every((n) => n === 1)).toBe(true);
  });

  it('a provider that cannot be reached throws ProviderUnavailableError, a refused call a retryable failure; rows stay untouched', async () => {
    const down = await seedCatalogue(db.prisma, sim.sim, `http://127.0.0.1:${await closedPort()}/api/v2`);
    const [o] = await seedOrders(db.prisma, sim.sim, down, { count: 1, linkPrefix: 'down' });
    await expect(round(down.providerId)).rejects.toBeInstanceOf(ProviderUnavailableError);

    const badKey = await seedCatalogue(db.prisma, sim.sim);
    await db.prisma.provider.update({ where: { id: badKey.providerId }, data: { apiKey: 'wrong-key' } });
    const [p] = await seedOrders(db.prisma, sim.sim, badKey, { count: 1, linkPrefix: 'badkey' });
    const refused = await round(badKey.providerId).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused.type).toBe(PROVIDER_REQUEST_FAILURE);
    expect(refused.nonRetryable).toBe(false);
    expect(refused.message).toContain('Invalid API key');
    const rows = await syncRows(db.prisma, [o!.id, p!.id]);
    for (const r of rows.values()) expect(r).toMatchObject({ lastCheckedAt: null, upstreamStatus: null });
  });
});
