/**
 * Drip-feed run by the engine and scheduled orders (issue 12), through the real order workflow, the
 * real provider sync and the simulator (virtual clock moved by the test; Temporal's time skips over
 * the timers between runs and the sync's sleeps). Orders are placed with OrderInput built by
 * test/support/place-typed-order.ts (the API's drip-feed and execute_at fields are another part of
 * the issue).
 */
import type { temporal as proto } from '@temporalio/proto';
import { ownStatusRows, statusView } from '../../api/v2/actions/status';
import { runsFromRows } from '../../api/views';
import { renderTimeline } from '../../observability/timeline';
import { createRefillRecords } from '../../activities/refill-records';
import { buildOrderInput, cancelOrder, moveOrder, requestRefill, reserveOrderId, resolveDispatch, startOrder } from '../../worker/order-client';
import type { OrderState, RefillRecord } from '../../workflows/order-contract';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';
import { placeTypedOrder } from '../support/place-typed-order';
import type { TypedOrderRequest } from '../support/place-typed-order';
import { DRIP_RUNS_PER_WORKFLOW_RUN } from '../../workflows/order-drip-feed';

let engine: TestEngine;
useTestEngine((started) => (engine = started), { providerSync: true });

const MINUTE = 60_000;

/** Places an order the way the API would: the service's snapshot, then the order type's fields. */
const place = (request: TypedOrderRequest) => placeTypedOrder(engine, request);

/** A drip-feed of `runs` × 100 followers (rate 0.90 / 1000: 0.09000 a run). */
async function dripFeed(link: string, runs: number, balance = '10.00000') {
  const userId = await engine.newUser(balance);
  const placed = await place({ userId, link, quantity: 100 * runs, extra: { dripFeed: { runs, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' } } });
  return { ...placed, userId };
}

const runSent = (index: number) => (s: OrderState) => (s.dripFeed?.list.length ?? 0) >= index && s.dripFeed!.list[index - 1]!.providerOrderId !== null;

/** Lets run `index` deliver upstream (10 simulated minutes), then 61 minutes of workflow time pass. */
async function deliverRun(orderId: number, index: number) {
  await engine.waitForState(orderId, runSent(index));
  engine.simClock!.advance(10 * MINUTE);
  await engine.temporal.env.sleep('61 minutes');
}

const adds = (link: string) => engine.simulator.state.listOrders(link);
const refundsOf = async (orderId: number) =>
  (await engine.prisma.ledgerEntry.findMany({ where: { orderId, kind: 'refund' }, orderBy: { id: 'asc' } })).map((e) => ({ amount: e.amount.toFixed(5), key: e.idempotencyKey }));

describe('drip-feed run by the engine', () => {
  it('10 runs every 60 minutes: one provider order per run, each sent 60 minutes after the previous, followed by the sync to Completed (R-CHARGE, R-NO-REFUND-DONE)', async () => {
    const link = engine.uniqueLink('drip-10');
    const order = await dripFeed(link, 10);
    expect(order.input.charge).toBe('0.90000');
    for (let i = 1; i <= 10; i++) await deliverRun(order.orderId, i);
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', quantity: 1000, remains: 0, refunded: '0.00000', refunds: [] });
    const runs = final.dripFeed!.list;
    expect(runs.map((r) => [r.index, r.quantity, r.status])).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 100, 'completed']));
    for (let i = 1; i < runs.length; i++) {
      const gap = runs[i]!.sentAt! - runs[i - 1]!.sentAt!;
      expect(gap).toBeGreaterThanOrEqual(60 * MINUTE);
      expect(gap).toBeLessThan(61 * MINUTE);
    }
    // Upstream: exactly ten orders of 100, the ones the runs name.
    const upstream = adds(link);
    expect(upstream.map((o) => o.quantity)).toEqual(Array(10).fill(100));
    expect(new Set(runs.map((r) => r.providerOrderId))).toEqual(new Set(upstream.map((o) => String(o.id))));
    // The runs' rows (REST, API v2, support) and the parent row agree with the workflow.
    const rows = await engine.prisma.orderRun.findMany({ where: { orderId: order.orderId }, orderBy: { runIndex: 'asc' } });
    expect(rows.map((r) => [r.runIndex, r.status, r.providerOrderId])).toEqual(runs.map((r) => [r.index, 'completed', r.providerOrderId]));
    expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).toMatchObject({ status: 'completed', remains: 0 });
    // API v2 `status` answers the runs and their ids, as panels do; REST shows every run.
    const v2 = statusView((await ownStatusRows(engine.prisma, order.userId, [order.orderId])).get(order.orderId)!, 'USD');
    expect(v2).toMatchObject({ status: 'Completed', remains: '0', runs: '10', orders: rows.map((r) => r.id) });
    expect(runsFromRows(rows, 'user').map((r) => [r.run, r.status, r.quantity, r.refunded])).toEqual(runs.map((r) => [r.index, 'completed', 100, '0.00000']));
    expect(runsFromRows(rows, 'user')[0]).not.toHaveProperty('providerOrderId');
    // Engineers: the order's story names the feed and every run as it begins.
    const story = renderTimeline([{ runId: 'run', history: await engine.history(order.orderId) }]).join('\n');
    expect(story).toMatch(/dripFeed=\{"runs":10,"intervalMinutes":60/);
    for (let i = 1; i <= 10; i++) expect(story).toMatch(new RegExp(`LocalActivity beginDripRun .*quantity=100 kind=ready run=${i}(?!\\d)`));
  });

  it('a long feed continues as new every DRIP_RUNS_PER_WORKFLOW_RUN runs: 13 runs in 2 history runs, each bounded; across the continue-as-new no run is sent twice or skipped and the interval holds', async () => {
    const link = engine.uniqueLink('drip-long');
    const order = await dripFeed(link, 13);
    const firstRunId = (await engine.handle(order.orderId).describe()).runId;
    for (let i = 1; i <= 13; i++) await deliverRun(order.orderId, i);
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', quantity: 1300, remains: 0, refunds: [] });
    const runs = final.dripFeed!.list;
    expect(runs.map((r) => [r.index, r.status])).toEqual(Array.from({ length: 13 }, (_, i) => [i + 1, 'completed']));
    for (let i = 1; i < runs.length; i++) {
      const gap = runs[i]!.sentAt! - runs[i - 1]!.sentAt!;
      expect(gap).toBeGreaterThanOrEqual(60 * MINUTE);
      expect(gap).toBeLessThan(61 * MINUTE);
    }
    const upstream = adds(link);
    expect(upstream).toHaveLength(13);
    expect(new Set(runs.map((r) => r.providerOrderId))).toEqual(new Set(upstream.map((o) => String(o.id))));
    // The history: runs 1-10, then 11-13, each well under a Default order's 29 events a run.
    const counts: number[] = [];
    let runId: string | null = firstRunId;
    while (runId) {
      const events: proto.api.history.v1.IHistoryEvent[] = (await engine.history(order.orderId, runId)).events ?? [];
      counts.push(events.length);
      runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? null;
    }
    expect(counts).toHaveLength(2);
    for (const events of counts) expect(events).toBeLessThan(DRIP_RUNS_PER_WORKFLOW_RUN * 29);
  }, 400_000);

  it('R-CANCEL-REQUEST after run 4: runs 5-10 refunded at once (R-CANCEL-FULL), run 4 in flight ends Partial at the provider and its undelivered part is refunded (R-PARTIAL); nothing more is sent', async () => {
    const link = engine.uniqueLink('drip-cancel');
    const order = await dripFeed(link, 10, '0.90000');
    for (let i = 1; i <= 3; i++) await deliverRun(order.orderId, i);
    await engine.waitForState(order.orderId, runSent(4));
    engine.simClock!.advance(7_000); // run 4: started after 5 s, 20 a second: 40 delivered
    const answer = await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId } });
    expect(answer).toMatchObject({ accepted: true, rule: 'R-CANCEL-REQUEST' });
    // The runs not sent are refunded before the answer: 6 × 0.09000.
    expect(await refundsOf(order.orderId)).toEqual([{ amount: '0.54000', key: `order-${order.orderId}:refund:unsent` }]);
    await engine.temporal.env.sleep('5 minutes');
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', remains: 660, refunded: '0.59400' });
    expect(final.refunds.map((r) => [r.amount, r.rule])).toEqual([['0.54000', 'R-CANCEL-FULL'], ['0.05400', 'R-PARTIAL']]);
    expect(final.dripFeed!.list.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'partial']);
    expect(await refundsOf(order.orderId)).toEqual([
      { amount: '0.54000', key: `order-${order.orderId}:refund:unsent` },
      { amount: '0.05400', key: `order-${order.orderId}:refund:run-4` },
    ]);
    await engine.temporal.env.sleep('3 hours');
    expect(adds(link)).toHaveLength(4);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.59400');
    await engine.history(order.orderId);
  });

  it('R-CANCEL-STALLED: a drip-feed on a service without cancel whose first run has not started 10 days after placement is canceled at once with its whole charge back (found by simulation seed 2), not left pending with its run in flight', async () => {
    const link = engine.uniqueLink('drip-stalled');
    engine.simulator.state.addScenario(link, { startDelayMs: 40 * 24 * 60 * MINUTE, speedPerSec: 0 });
    const userId = await engine.newUser('10.00000');
    // Placed 10 days and an hour ago (as the order's snapshot says): its first run has not started since.
    const placedAt = (await engine.temporal.env.currentTimeMs()) - (10 * 24 * 60 + 60) * MINUTE;
    const order = await place({ userId, link, quantity: 400, serviceId: engine.seed.serviceIds.followersNoCancel, extra: { placedAt, dripFeed: { runs: 4, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' } } });
    expect(order.input.charge).toBe('0.18000');
    await engine.waitForState(order.orderId, runSent(1));
    const answer = await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId } });
    expect(answer).toMatchObject({ accepted: true, rule: 'R-CANCEL-STALLED' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.18000' });
    expect(final.dripFeed!.list.map((r) => [r.index, r.status])).toEqual([[1, 'canceled']]);
    expect(await refundsOf(order.orderId)).toEqual([
      { amount: '0.13500', key: `order-${order.orderId}:refund:unsent` },
      { amount: '0.04500', key: `order-${order.orderId}:refund:run-1` },
    ]);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('10.00000');
    expect(adds(link)).toHaveLength(1);
    await engine.history(order.orderId); // replayed at the end, its patch marker included
  });

  it('a worker restart between two runs sends no run twice and skips none', async () => {
    const link = engine.uniqueLink('drip-restart');
    const order = await dripFeed(link, 4);
    await deliverRun(order.orderId, 1);
    await engine.waitForState(order.orderId, runSent(2));
    engine.simClock!.advance(10 * MINUTE);
    await engine.temporal.env.sleep('30 minutes');
    // Run 2 ended, run 3 is due in half an hour: the worker goes away and comes back meanwhile.
    const between = await engine.waitForState(order.orderId, (s) => s.dripFeed!.list.length === 2 && s.dripFeed!.list[1]!.settled);
    expect(between.dripFeed!.list[1]!.status).toBe('completed');
    await engine.restartWorker();
    await engine.temporal.env.sleep('31 minutes');
    await deliverRun(order.orderId, 3);
    await deliverRun(order.orderId, 4);
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', remains: 0, refunds: [] });
    expect(final.dripFeed!.list.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(adds(link).map((o) => o.quantity)).toEqual([100, 100, 100, 100]);
    await engine.history(order.orderId);
  });

  it('R-AUTO-CANCEL: a run the provider refuses is refunded and the feed goes on; R-ONE-ACTIVE-PER-LINK holds the link until the last run ends', async () => {
    const link = engine.uniqueLink('drip-refused');
    const rule = engine.simulator.state.addScenario(link, { add: { respond: 'error', error: 'private_account', times: 1 } });
    const order = await dripFeed(link, 2);
    const refused = await engine.waitForState(order.orderId, (s) => s.dripFeed!.list[0]?.status === 'canceled' && s.dripFeed!.list[0]!.settled);
    expect(refused.dripFeed!.list[0]!.refund).toEqual({ amount: '0.09000', rule: 'R-AUTO-CANCEL' });
    engine.simulator.state.removeScenario(rule.id);
    // Between the runs, the link is still the feed's: another order for it is refused.
    const other = await engine.newUser('1.00000');
    const orderId = await reserveOrderId(engine.prisma);
    const input = await buildOrderInput(engine.prisma, orderId, { userId: other, serviceId: engine.seed.serviceIds.followers, link, quantity: 100 });
    expect(await startOrder(engine.client, input)).toMatchObject({ accepted: false, code: 'link_busy', holderOrderId: order.orderId });
    await engine.temporal.env.sleep('61 minutes');
    await deliverRun(order.orderId, 2);
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', remains: 100, refunded: '0.09000' });
    expect(final.refunds.map((r) => r.rule)).toEqual(['R-AUTO-CANCEL']);
    await engine.history(order.orderId);
  });
});

describe('a drip-feed whose next run is sent with an unknown outcome (found by simulation seed 3)', () => {
  it("the row goes in_progress -> dispatch_uncertain, where support's list finds it; support's cancel refunds run 2 and the order ends partial by what its runs delivered", async () => {
    const link = engine.uniqueLink('drip-uncertain');
    const order = await dripFeed(link, 2);
    await engine.waitForState(order.orderId, runSent(1));
    // Run 2's add reaches the provider but answers an HTML 500: recorded upstream, outcome unknown here.
    engine.simulator.state.addScenario(link, { add: { respond: 'http500' } });
    engine.simClock!.advance(10 * MINUTE);
    await engine.temporal.env.sleep('61 minutes');
    await engine.waitForState(order.orderId, (s) => s.status === 'dispatch_uncertain' && (s.dripFeed?.list.length ?? 0) === 2);
    const row = await engine.prisma.order.findUnique({ where: { id: order.orderId } });
    expect(row?.status).toBe('dispatch_uncertain');
    const listed = await engine.prisma.order.findMany({ where: { status: 'dispatch_uncertain', id: order.orderId } });
    expect(listed).toHaveLength(1);
    const answer = await resolveDispatch(engine.client, order.orderId, { action: 'cancel', by: { userId: order.userId, kind: 'support' }, reason: 'test' });
    expect(answer).toMatchObject({ accepted: true, action: 'cancel' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', remains: 100, refunded: '0.09000' });
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('9.91000');
    expect((await engine.prisma.order.findUnique({ where: { id: order.orderId } }))?.status).toBe('partial');
    await engine.history(order.orderId);
  });
});

describe('refills of a drip-feed run by the engine', () => {
  it('R-REFILL-NEED on the delivered total, R-REFILL-COOLDOWN: a refill asks the provider to refill every run order that delivered (one provider refill each, once for a repeated request); the sync follows each, and the refill completes when all have', async () => {
    const link = engine.uniqueLink('drip-refill');
    const order = await dripFeed(link, 3);
    for (let i = 1; i <= 3; i++) await deliverRun(order.orderId, i);
    const done = await engine.waitForState(order.orderId, (s) => s.status === 'completed');
    const runOrders = done.dripFeed!.list.map((r) => r.providerOrderId!);
    const simRefills = () => runOrders.map((id) => engine.simulator.state.getOrder(Number(id))!.refillIds.length);
    const request = { requestedBy: { kind: 'user' as const, userId: order.userId }, requestId: 'drip-refill-1' };
    const ruleOf = (r: Awaited<ReturnType<typeof requestRefill>>) => (r.accepted ? 'accepted' : r.rule);
    // The count dropped 150 below the feed's start count + its total (R-REFILL-NEED on the whole feed).
    const current = engine.simulator.state.count(link);
    engine.simulator.state.setCount(link, current - 150);
    expect(ruleOf(await requestRefill(engine.client, order.orderId, { ...request, requestId: 'drip-refill-0' }))).toBe('R-REFILL-COOLDOWN');
    await engine.temporal.env.sleep('25 hours'); // R-REFILL-COOLDOWN: a day after completion
    const first = await requestRefill(engine.client, order.orderId, request);
    expect(first).toMatchObject({ accepted: true, refill: { status: 'pending', providerRefillId: null, counts: { startCount: done.startCount, quantity: 300, currentCount: current - 150 } } });
    const refill = (first as { refill: RefillRecord }).refill;
    expect(refill.parts!.map((p) => [p.runIndex, p.providerOrderId, p.status])).toEqual(runOrders.map((id, i) => [i + 1, id, 'pending']));
    expect(new Set(refill.parts!.map((p) => p.providerRefillId)).size).toBe(3);
    expect(simRefills()).toEqual([1, 1, 1]);
    // The same request again is the same refill: nothing more is sent.
    expect(await requestRefill(engine.client, order.orderId, request)).toMatchObject({ accepted: true, refill: { refillId: refill.refillId } });
    expect(simRefills()).toEqual([1, 1, 1]);
    // The provider refills each run order; the sync follows each part and the refill completes with the last.
    engine.simClock!.advance(MINUTE);
    await engine.temporal.env.sleep('10 minutes');
    const after = await engine.waitForState(order.orderId, (s) => s.refills?.recent.find((r) => r.refillId === refill.refillId)?.status === 'completed');
    expect(after.refills!.recent.at(-1)!.parts!.map((p) => p.status)).toEqual(['completed', 'completed', 'completed']);
    expect(after.refills!.lastCompletedAt).not.toBeNull();
    // The rows: the refill, and one part per run order (followed by the sync), all completed.
    const rows = async () => (await engine.prisma.refill.findMany({ where: { orderId: order.orderId }, orderBy: { id: 'asc' } })).map((r) => [r.parentRefillId, r.runIndex, r.status]);
    const expected = [[null, null, 'completed'], [refill.refillId, 1, 'completed'], [refill.refillId, 2, 'completed'], [refill.refillId, 3, 'completed']];
    for (let i = 0; i < 50 && JSON.stringify(await rows()) !== JSON.stringify(expected); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await rows()).toEqual(expected);
    // REST and API v2 see one refill (its parts within it), not four.
    const listed = await createRefillRecords(engine.prisma).listForOrder(order.orderId);
    expect(listed).toEqual([expect.objectContaining({ id: refill.refillId, status: 'completed', parts: [1, 2, 3].map((runIndex) => expect.objectContaining({ runIndex, status: 'completed' })) })]);
    expect(await createRefillRecords(engine.prisma).get(refill.parts![0]!.refillId)).toBeNull();
    await engine.history(order.orderId);
  });
});

describe('support and a drip-feed', () => {
  it('R-SUBSTITUTE: a move of a drip-feed is refused with the reason; R-CANCEL-FULL: support\'s cancel ends it at once with the rest of its charge back, and no run follows', async () => {
    const link = engine.uniqueLink('drip-support');
    const order = await dripFeed(link, 4, '0.36000');
    await deliverRun(order.orderId, 1);
    await engine.waitForState(order.orderId, runSent(2));
    expect(
      await moveOrder(engine.client, order.orderId, {
        target: { serviceId: engine.seed.serviceIds.followersNoLookup, providerId: engine.seed.noLookupProviderId, providerServiceId: '1', min: 50, max: 10_000 },
        requestedBy: { kind: 'support', userId: 1 },
        reason: 'provider too slow',
        requestId: 'drip-move-1',
      }),
    ).toMatchObject({ accepted: false, rule: 'R-SUBSTITUTE', reason: expect.stringMatching(/^a drip-feed sends each run anew/) });
    const answer = await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'support', userId: 1 }, mode: 'full_refund', reason: 'customer complaint', requestId: 'drip-support-cancel' });
    expect(answer).toMatchObject({ accepted: true, rule: 'R-CANCEL-FULL' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.36000', refunds: [{ amount: '0.36000', rule: 'R-CANCEL-FULL' }] });
    await engine.temporal.env.sleep('3 hours');
    expect(adds(link)).toHaveLength(2);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.36000');
    await engine.history(order.orderId);
  });
});

describe('drip-feed passed to the provider', () => {
  it('mode provider: one upstream order with runs and interval forwarded, the simulator serves one run an interval, the order follows it to Completed', async () => {
    const link = engine.uniqueLink('drip-provider');
    const userId = await engine.newUser('1.00000');
    const order = await place({ userId, link, quantity: 300, extra: { dripFeed: { runs: 3, intervalMinutes: 60, quantityPerRun: 100, mode: 'provider' } } });
    const sent = await engine.waitForState(order.orderId, (s) => s.providerOrderId !== null);
    const upstream = engine.simulator.state.getOrder(Number(sent.providerOrderId))!;
    expect(upstream).toMatchObject({ quantity: 300, drip: { runs: 3, perRun: 100, intervalMs: 60 * MINUTE } });
    engine.simClock!.advance(30 * MINUTE); // run 1 done, run 2 not begun: 100 delivered
    await engine.temporal.env.sleep('5 minutes');
    expect(await engine.waitForState(order.orderId, (s) => s.remains === 200)).toMatchObject({ status: 'in_progress' });
    engine.simClock!.advance(120 * MINUTE);
    await engine.temporal.env.sleep('5 minutes');
    expect(await engine.handle(order.orderId).result()).toMatchObject({ status: 'completed', remains: 0, refunds: [] });
    expect(engine.simulator.state.listOrders(link)).toHaveLength(1);
    await engine.history(order.orderId);
  });

  it('R-SUBSTITUTE: the workflow refuses support\'s move of a drip-feed its provider runs (the other provider would get runs/interval with the per-run quantity); nothing is sent anew', async () => {
    const link = engine.uniqueLink('drip-provider-move');
    const userId = await engine.newUser('1.00000');
    const order = await place({ userId, link, quantity: 300, extra: { dripFeed: { runs: 3, intervalMinutes: 60, quantityPerRun: 100, mode: 'provider' } } });
    await engine.waitForState(order.orderId, (s) => s.providerOrderId !== null);
    const answer = await moveOrder(engine.client, order.orderId, {
      target: { serviceId: engine.seed.serviceIds.followersNoLookup, providerId: engine.seed.noLookupProviderId, providerServiceId: '1', min: 50, max: 10_000 },
      requestedBy: { kind: 'support', userId: 1 },
      reason: 'provider too slow',
      requestId: 'drip-provider-move-1',
    });
    expect(answer).toMatchObject({ accepted: false, rule: 'R-SUBSTITUTE', reason: expect.stringMatching(/^a drip-feed its provider runs cannot be moved/) });
    const state = await engine.handle(order.orderId).query<OrderState>('state');
    expect(state).toMatchObject({ serviceId: engine.seed.serviceIds.followers, status: expect.stringMatching(/pending|in_progress/) });
    expect(state.moves ?? []).toEqual([]);
    expect(engine.simulator.state.listOrders(link)).toHaveLength(1);
    // Let it finish at its provider, so the sync follows nothing of it in the tests after this one.
    engine.simClock!.advance(150 * MINUTE);
    await engine.temporal.env.sleep('5 minutes');
    await engine.waitForState(order.orderId, (s) => s.status === 'completed');
    await engine.history(order.orderId);
  });
});

describe('scheduled orders', () => {
  it('execute_at: a durable timer, then the dispatch', async () => {
    const link = engine.uniqueLink('scheduled');
    const userId = await engine.newUser('1.00000');
    const now = await engine.temporal.env.currentTimeMs();
    const order = await place({ userId, link, quantity: 1000, extra: { executeAt: now + 3 * 60 * MINUTE } });
    await engine.temporal.env.sleep('2 hours');
    const waiting = await engine.state(order.orderId);
    expect(waiting).toMatchObject({ status: 'pending', providerOrderId: null, executeAt: now + 3 * 60 * MINUTE });
    expect(adds(link)).toHaveLength(0);
    await engine.temporal.env.sleep('61 minutes');
    const sent = await engine.waitForState(order.orderId, (s) => s.providerOrderId !== null);
    expect(sent.timestamps.dispatchedAt).toBeGreaterThanOrEqual(now + 3 * 60 * MINUTE);
    expect(adds(link)).toHaveLength(1);
    engine.simClock!.advance(10 * MINUTE);
    await engine.temporal.env.sleep('2 minutes');
    expect(await engine.handle(order.orderId).result()).toMatchObject({ status: 'completed' });
    await engine.history(order.orderId);
  });

  it('R-CANCEL-FULL: canceled before execute_at, the whole charge back, even on a service without the cancel flag; nothing reaches the provider', async () => {
    const link = engine.uniqueLink('scheduled-cancel');
    const userId = await engine.newUser('0.45000');
    const now = await engine.temporal.env.currentTimeMs();
    const order = await place({ userId, link, quantity: 1000, serviceId: engine.seed.serviceIds.followersNoCancel, extra: { executeAt: now + 24 * 60 * MINUTE } });
    await engine.temporal.env.sleep('1 hour');
    const answer = await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId } });
    expect(answer).toMatchObject({ accepted: true, rule: 'R-CANCEL-FULL' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.45000', rule: 'R-CANCEL-FULL' }] });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.45000');
    expect(adds(link)).toHaveLength(0);
    await engine.history(order.orderId);
  });
});
