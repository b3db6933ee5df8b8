/**
 * Dispatch (lifecycle step 2) against the provider simulator over HTTP: placed, refused
 * (R-AUTO-CANCEL), "try later" with backoff, and ambiguous answers reconciled without ever sending
 * `add` twice for one attempt.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createOrderActivities } from '../../activities/order-activities';
import type { DispatchResult } from '../../activities/order-activities';
import type { Scenario } from '../../provider-simulator';
import { cancelOrder, resolveDispatch } from '../../worker/order-client';
import { eventNames } from '../support/temporal';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started));

/** A link of its own with a simulator scenario for it. */
function scenarioLink(prefix: string, scenario: Scenario): string {
  const link = engine.uniqueLink(prefix);
  engine.simulator.state.addScenario(link, scenario);
  return link;
}

const addCalls = (link: string) => engine.simulator.state.calls('add').filter((c) => c.link === link).length;
const owner = (userId: number) => ({ requestedBy: { kind: 'user' as const, userId } });

it('dispatch: the provider takes the order; its id is recorded on the order and the row, and the provider sync is woken', async () => {
  const link = engine.uniqueLink('ok');
  const placed = await engine.placeOrder({ link });
  const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  const upstream = engine.simulator.state.listOrders(link);
  expect(upstream).toHaveLength(1);
  expect(state).toMatchObject({ status: 'pending', providerOrderId: String(upstream[0]!.id) });
  expect(state.timestamps.dispatchedAt).not.toBeNull();
  const row = await engine.prisma.order.findUniqueOrThrow({ where: { id: placed.orderId } });
  expect(row).toMatchObject({ providerOrderId: String(upstream[0]!.id), dispatchState: 'answered', dispatchAttempt: 1 });
  expect(engine.wakes).toContain(engine.seed.providerId);
  const history = await engine.history(placed.orderId);
  // Scheduled with a 10 s heartbeat timeout (it heartbeats while it runs): a worker that dies
  // mid-dispatch is noticed then, not at the minute of its start-to-close timeout.
  const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'dispatchOrder');
  expect(Number(scheduled?.activityTaskScheduledEventAttributes?.heartbeatTimeout?.seconds)).toBe(10);
});

it('R-AUTO-CANCEL: the provider refuses the order (bad link) → canceled with a full refund, exactly once', async () => {
  const userId = await engine.newUser('2.00000');
  const link = scenarioLink('refused', { add: { respond: 'error', error: 'bad_link' } });
  const placed = await engine.placeOrder({ userId, link });
  const final = await engine.handle(placed.orderId).result();
  expect(final).toMatchObject({
    status: 'canceled',
    rejectReason: 'the provider refused the order: Bad link',
    refunded: '0.90000',
    refunds: [{ amount: '0.90000', rule: 'R-AUTO-CANCEL', idempotencyKey: `order-${placed.orderId}:refund` }],
  });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('2.00000');
  expect(await engine.deps.orders.getOrder(placed.orderId)).toMatchObject({ status: 'canceled', refunded: '0.90000' });
  expect(addCalls(link)).toBe(1);
  await engine.history(placed.orderId);
});

it('provider "Not enough funds" is retried with backoff (30 s, then 60 s) and then placed', async () => {
  const link = scenarioLink('funds', { add: { respond: 'error', error: 'not_enough_funds', times: 2 } });
  const placed = await engine.placeOrder({ link });
  await engine.temporal.env.sleep('5 minutes');
  const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  expect(state.status).toBe('pending');
  expect(addCalls(link)).toBe(3);
  const history = await engine.history(placed.orderId);
  const started = history.events!.find((e) => e.activityTaskStartedEventAttributes)!;
  expect(started.activityTaskStartedEventAttributes!.attempt).toBe(3);
  // Retries write no history; the backoff shows as the time between scheduling and completion.
  const at = (type: string) => {
    const event = history.events!.find((e) => eventNames({ events: [e] })[0] === type)!;
    return Number(event.eventTime!.seconds) * 1000 + Math.floor((event.eventTime!.nanos ?? 0) / 1e6);
  };
  expect(at('ActivityTaskCompleted') - at('ActivityTaskScheduled')).toBeGreaterThanOrEqual(90_000);
  expect(at('ActivityTaskCompleted') - at('ActivityTaskScheduled')).toBeLessThan(150_000);
  expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: placed.orderId } })).toMatchObject({ dispatchAttempt: 3, dispatchState: 'answered' });
});

it('provider "try later" for 24 hours → the order is canceled with a full refund (R-CANCEL-FULL)', async () => {
  const userId = await engine.newUser('1.00000');
  const link = scenarioLink('never', { add: { respond: 'error', error: 'not_enough_funds' } });
  const placed = await engine.placeOrder({ userId, link });
  const handle = engine.handle(placed.orderId);
  const final = await handle.result();
  expect(final.status).toBe('canceled');
  expect(final.rejectReason).toMatch(/^the provider did not take the order/);
  expect(final.refunds).toEqual([expect.objectContaining({ amount: '0.90000', rule: 'R-CANCEL-FULL' })]);
  expect(final.timestamps.finishedAt! - final.timestamps.placedAt).toBeGreaterThanOrEqual(23 * 3600_000);
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('1.00000');
  // Backoff doubles up to 30 minutes: about 55 attempts in 24 hours, not thousands.
  expect(addCalls(link)).toBeGreaterThan(40);
  expect(addCalls(link)).toBeLessThan(70);
  await engine.history(placed.orderId);
});

describe('ambiguous add (the provider may or may not have the order)', () => {
  it('an empty answer → dispatch_uncertain (users cannot cancel), then orders_by_link finds it: attached, add sent once', async () => {
    const userId = await engine.newUser('5.00000');
    const link = scenarioLink('empty', { add: { respond: 'empty', times: 1 } });
    const placed = await engine.placeOrder({ userId, link });
    const uncertain = await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    expect(uncertain.providerOrderId).toBeNull();
    expect(await engine.deps.orders.getOrder(placed.orderId)).toMatchObject({ status: 'dispatch_uncertain' });
    expect(await cancelOrder(engine.client, placed.orderId, owner(userId))).toEqual({
      accepted: false,
      rule: 'R-CANCEL-REQUEST',
      reason: expect.stringContaining('being confirmed with the provider'),
    });

    await engine.temporal.env.sleep('3 minutes'); // the reconcile delay
    const upstream = engine.simulator.state.listOrders(link);
    expect(upstream).toHaveLength(1);
    const state = await engine.waitForState(placed.orderId, (s) => s.status === 'pending' && s.providerOrderId !== null);
    expect(state.providerOrderId).toBe(String(upstream[0]!.id));
    expect(addCalls(link)).toBe(1);
    expect(engine.simulator.state.calls('orders_by_link').filter((c) => c.link === link)).toHaveLength(1);
    expect(await engine.deps.orders.getOrder(placed.orderId)).toMatchObject({ status: 'pending', providerOrderId: String(upstream[0]!.id) });

    await engine.providerUpdate(placed.orderId, { status: 'completed', startCount: 10, remains: 0 });
    expect(await engine.handle(placed.orderId).result()).toMatchObject({ status: 'completed', refunded: '0.00000' });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('4.10000');
    await engine.history(placed.orderId);
  });

  it('a 500 after which the provider has nothing → orders_by_link finds none → dispatched again → placed', async () => {
    const link = scenarioLink('lost', { add: { respond: 'http500', record: false, times: 1 } });
    const placed = await engine.placeOrder({ link });
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    await engine.temporal.env.sleep('3 minutes');
    const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    expect(state.status).toBe('pending');
    expect(addCalls(link)).toBe(2);
    expect(engine.simulator.state.listOrders(link)).toHaveLength(1);
    expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: placed.orderId } })).toMatchObject({ dispatchAttempt: 2, dispatchState: 'answered' });
    await engine.history(placed.orderId);
  });

  it('lookup unsupported → waits for support: resolveDispatch attach gives it the provider order id', async () => {
    const link = scenarioLink('nolookup-attach', { add: { respond: 'empty', times: 1 } });
    const placed = await engine.placeOrder({ link, serviceId: engine.seed.serviceIds.followersNoLookup });
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    await engine.temporal.env.sleep('1 hour');
    expect(await engine.state(placed.orderId)).toMatchObject({ status: 'dispatch_uncertain', providerOrderId: null });
    expect(engine.simulator.state.calls('orders_by_link').filter((c) => c.link === link)).toHaveLength(0);

    const upstreamId = String(engine.simulator.state.listOrders(link)[0]!.id);
    const answer = await resolveDispatch(engine.client, placed.orderId, { action: 'attach', providerOrderId: upstreamId, by: { userId: 1 }, reason: 'seen in the provider panel', requestId: 'attach-1' });
    expect(answer).toMatchObject({ accepted: true, action: 'attach', providerOrderId: upstreamId });
    // The same request again is the same resolution: same answer, nothing done twice.
    expect(await resolveDispatch(engine.client, placed.orderId, { action: 'attach', providerOrderId: upstreamId, by: { userId: 1 }, requestId: 'attach-1' })).toEqual(answer);
    const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId === upstreamId);
    expect(state.status).toBe('pending');
    expect(addCalls(link)).toBe(1);
    expect(engine.wakes).toContain(engine.seed.noLookupProviderId);
    await engine.history(placed.orderId);
  });

  it('lookup unsupported → resolveDispatch redispatch sends the order again', async () => {
    const link = scenarioLink('nolookup-again', { add: { respond: 'http500', record: false, times: 1 } });
    const placed = await engine.placeOrder({ link, serviceId: engine.seed.serviceIds.followersNoLookup });
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    expect(await resolveDispatch(engine.client, placed.orderId, { action: 'redispatch', by: { userId: 1 } })).toMatchObject({ accepted: true, action: 'redispatch' });
    const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    expect(state.status).toBe('pending');
    expect(addCalls(link)).toBe(2);
    await engine.history(placed.orderId);
  });

  it('lookup unsupported → resolveDispatch cancel ends it canceled with a full refund (R-CANCEL-FULL)', async () => {
    const userId = await engine.newUser('1.00000');
    const link = scenarioLink('nolookup-cancel', { add: { respond: 'http500', record: false, times: 1 } });
    const placed = await engine.placeOrder({ userId, link, serviceId: engine.seed.serviceIds.followersNoLookup });
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    expect(await resolveDispatch(engine.client, placed.orderId, { action: 'cancel', by: { userId: 1 }, reason: 'provider confirms nothing arrived' })).toMatchObject({ accepted: true, action: 'cancel' });
    const final = await engine.handle(placed.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.90000', refunds: [{ rule: 'R-CANCEL-FULL', amount: '0.90000' }] });
    expect(final.rejectReason).toContain('provider confirms nothing arrived');
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('1.00000');
    expect(addCalls(link)).toBe(1);
    await engine.history(placed.orderId);
  });

  it('resolveDispatch on an order whose dispatch is not uncertain is refused at once, with the status', async () => {
    const placed = await engine.placeOrder({ link: engine.uniqueLink('resolve-settled') });
    await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    expect(await resolveDispatch(engine.client, placed.orderId, { action: 'redispatch', by: { userId: 1 } })).toEqual({
      accepted: false,
      rule: 'dispatch_uncertain',
      reason: "the order's dispatch is not uncertain (status pending)",
    });
  });
});

/** A pending orders row (workflow id `<tag>-<link>`) on the first provider's followers service, with no workflow: for activity tests. */
async function pendingOrder(link: string, tag: string): Promise<number> {
  const created = await engine.deps.orders.createOrder({
    workflowId: `${tag}-${link}`, userId: engine.seed.userId, serviceId: engine.seed.serviceIds.followers, providerId: engine.seed.providerId,
    link, linkKey: link, quantity: 100, rate: '0.90000', charge: '0.09000', refillKind: 'none', cancelable: true,
  });
  if (!created.ok) throw new Error('unreachable');
  await engine.prisma.order.update({ where: { id: created.order.id }, data: { status: 'pending' } });
  return created.order.id;
}

/**
 * A later order on the link whose add the provider never recorded (an attempt died mid-call): the
 * reconcile finds no upstream order of its own, attaches nothing, and reopens its fence.
 */
async function expectLostAddFindsNone(acts: ReturnType<typeof createOrderActivities>, env: MockActivityEnvironment, link: string): Promise<void> {
  const later = await pendingOrder(link, 'reconcile-later');
  await engine.prisma.order.update({ where: { id: later }, data: { dispatchState: 'sending', dispatchAttempt: 1 } });
  expect(await env.run(acts.findUpstreamOrder, later)).toEqual({ kind: 'none' });
  expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: later } })).toMatchObject({ providerOrderId: null, dispatchState: null });
}

describe('the dispatch fence (orders.dispatch_state)', () => {
  it('an attempt that finds "sending" (an earlier attempt died mid-call) sends nothing and answers uncertain', async () => {
    const acts = createOrderActivities(engine.deps);
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
    const link = engine.uniqueLink('fence');
    const id = await pendingOrder(link, 'fence');
    await engine.prisma.order.update({ where: { id }, data: { dispatchState: 'sending', dispatchAttempt: 1 } });

    expect(await env.run(acts.dispatchOrder, id)).toMatchObject({ kind: 'uncertain' });
    // Nothing recorded by attempt 1: as far as the row knows it may still be waiting for its answer.
    expect(await env.run(acts.abandonDispatch, id)).toEqual({ kind: 'uncertain', attemptAnswered: false });
    expect(addCalls(link)).toBe(0);
    // Once attempt 1 records that its answer was lost, the fence says so (a support cancel stops waiting).
    const lost = { action: 'add', attempt: 1, kind: 'uncertain', code: 'timeout', at: Date.now() };
    await engine.prisma.order.update({ where: { id }, data: { lastProviderAnswer: lost } });
    expect(await env.run(acts.abandonDispatch, id)).toEqual({ kind: 'uncertain', attemptAnswered: true });

    // Reconciled as "not there": the fence opens, one new attempt sends once.
    expect(await env.run(acts.findUpstreamOrder, id)).toEqual({ kind: 'none' });
    const placed = await env.run(acts.dispatchOrder, id);
    expect(placed).toMatchObject({ kind: 'placed', replayed: false });
    // A retry of the same attempt after its answer was recorded replays it.
    expect(await env.run(acts.dispatchOrder, id)).toMatchObject({ kind: 'placed', replayed: true });
    expect(addCalls(link)).toBe(1);

    // Once abandoned (a cancel closed the fence), nothing is ever sent for an order; the status is
    // left to the workflow's finish(), which refunds before the row goes final.
    const link2 = engine.uniqueLink('fence-closed');
    const other = await pendingOrder(link2, 'fence');
    expect(await env.run(acts.abandonDispatch, other)).toEqual({ kind: 'abandoned' });
    expect(await env.run(acts.abandonDispatch, other)).toEqual({ kind: 'abandoned' }); // a retry
    expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: other } })).toMatchObject({ status: 'pending', dispatchState: 'abandoned', finishedAt: null });
    expect(await env.run(acts.dispatchOrder, other)).toEqual({ kind: 'abandoned', status: 'abandoned' });
    expect(addCalls(link2)).toBe(0);
  });

  it('orders_by_link never attaches an upstream order that a run of an engine drip-feed holds to a later order on the same link (seen in the simulation: seed 42, 3,000 orders / 18 days)', async () => {
    const acts = createOrderActivities(engine.deps);
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
    const link = engine.uniqueLink('reconcile-drip-run');
    // A drip-feed's first run reached the provider; its upstream order is kept in order_runs, and the
    // orders row moved on (between runs it points at none), then the feed finished.
    const feed = await pendingOrder(link, 'reconcile-feed');
    const run = (await env.run(acts.dispatchOrder, feed)) as DispatchResult;
    if (run.kind !== 'placed') throw new Error(`expected placed, got ${run.kind}`);
    await engine.prisma.orderRun.create({ data: { orderId: feed, runIndex: 1, quantity: 100, providerOrderId: run.providerOrderId, status: 'completed' } });
    await engine.prisma.order.update({ where: { id: feed }, data: { providerOrderId: null, status: 'completed' } });

    await expectLostAddFindsNone(acts, env, link);
    expect(engine.simulator.state.calls('orders_by_link').filter((c) => c.link === link)).toHaveLength(1);
  });

  it('R-SUBSTITUTE: orders_by_link never attaches the upstream order a move left at the old provider to a later order on the same link', async () => {
    const acts = createOrderActivities(engine.deps);
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
    const link = engine.uniqueLink('reconcile-moved');
    // Sent to the first provider, then moved to the other one once its upstream order stopped.
    const moved = await pendingOrder(link, 'reconcile-moved');
    const first = (await env.run(acts.dispatchOrder, moved)) as DispatchResult;
    if (first.kind !== 'placed') throw new Error(`expected placed, got ${first.kind}`);
    const to = { serviceId: engine.seed.serviceIds.followersNoLookup, providerId: engine.seed.noLookupProviderId, quantity: 100 };
    expect(await env.run(acts.switchService, moved, { ...to, fromProviderOrderId: first.providerOrderId })).toEqual({ kind: 'switched' });
    expect(await env.run(acts.switchService, moved, { ...to, fromProviderOrderId: first.providerOrderId })).toEqual({ kind: 'switched' }); // a retry
    expect(await engine.prisma.movedUpstreamOrder.findMany({ where: { orderId: moved } })).toMatchObject([
      { providerId: engine.seed.providerId, providerOrderId: first.providerOrderId },
    ]);
    await engine.prisma.order.update({ where: { id: moved }, data: { status: 'completed' } });

    // A later order on the link at the first provider, whose add that provider never recorded.
    await expectLostAddFindsNone(acts, env, link);
  });

  it('R-SUBSTITUTE: switchService holds the same fence: refused while an add may be in flight, placed when one landed, then moves the row once', async () => {
    const acts = createOrderActivities(engine.deps);
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
    const link = engine.uniqueLink('fence-move');
    const id = await pendingOrder(link, 'fence');
    const to = { serviceId: engine.seed.serviceIds.followersNoLookup, providerId: engine.seed.noLookupProviderId, quantity: 60 };
    await engine.prisma.order.update({ where: { id }, data: { dispatchState: 'sending', dispatchAttempt: 1 } });
    expect(await env.run(acts.switchService, id, { ...to, fromProviderOrderId: null })).toEqual({ kind: 'uncertain' });

    await engine.prisma.order.update({ where: { id }, data: { dispatchState: 'answered', providerOrderId: '777', upstreamStatus: 'in_progress' } });
    expect(await env.run(acts.switchService, id, { ...to, fromProviderOrderId: null })).toEqual({ kind: 'placed', providerOrderId: '777' });

    // The old upstream order 777 stopped: the row moves, its fence and sync bookkeeping start afresh.
    expect(await env.run(acts.switchService, id, { ...to, fromProviderOrderId: '777' })).toEqual({ kind: 'switched' });
    expect(await engine.prisma.order.findUniqueOrThrow({ where: { id } })).toMatchObject({
      serviceId: to.serviceId, providerId: to.providerId, dispatchQuantity: 60, providerOrderId: null, dispatchState: null, upstreamStatus: null,
    });
    // A retry finds it done; the next dispatch sends the 60 to the new provider.
    expect(await env.run(acts.switchService, id, { ...to, fromProviderOrderId: '777' })).toEqual({ kind: 'switched' });
    const placed = (await env.run(acts.dispatchOrder, id)) as DispatchResult;
    expect(placed).toMatchObject({ kind: 'placed', replayed: false });
    if (placed.kind !== 'placed') throw new Error('unreachable');
    expect(engine.simulator.state.getOrder(Number(placed.providerOrderId))!.quantity).toBe(60);
    // The database refuses a quantity above the order's (CHECK orders_dispatch_quantity_check).
    await expect(engine.prisma.order.update({ where: { id }, data: { dispatchQuantity: 101 } })).rejects.toThrow(/orders_dispatch_quantity_check/);
  });
});

it('every dispatch path above keeps its history small', async () => {
  // Not a rule: a guard that retries and reconciliation do not write an event per attempt.
  const link = engine.uniqueLink('small');
  const placed = await engine.placeOrder({ link });
  await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  expect(eventNames(await engine.history(placed.orderId)).length).toBeLessThan(20);
});
