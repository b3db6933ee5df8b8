/**
 * Cancel (lifecycle step 5): the `cancel` update with its validator (refused at once, with rule and
 * reason), the `requestCancel` signal with the same rules, the provider's acknowledgement, the local
 * cancel of stalled or not-yet-dispatched orders, and races with the provider's final status.
 */
import { cancelOrder } from '../../worker/order-client';
import { cancelSignal } from '../../workflows/order-messages';
import type { CancelRequest } from '../../workflows/order-contract';
import { eventNames } from '../support/temporal';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started));

const DAY = 24 * 3600_000;

async function dispatched(options: { serviceId?: number; link?: string; started?: boolean; balance?: string } = {}) {
  const userId = await engine.newUser(options.balance ?? '10.00000');
  const placed = await engine.placeOrder({ userId, serviceId: options.serviceId, link: options.link });
  const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  if (options.started) {
    await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount: 100, remains: 1000 });
    await engine.waitForState(placed.orderId, (s) => s.status === 'in_progress');
  }
  return { ...placed, userId, providerOrderId: state.providerOrderId! };
}

const byOwner = (userId: number, extra: Partial<CancelRequest> = {}): CancelRequest => ({ requestedBy: { kind: 'user', userId }, ...extra });
const refunds = async (orderId: number) =>
  (await engine.prisma.ledgerEntry.findMany({ where: { orderId, kind: 'refund' } })).map((e) => e.amount.toFixed(5));

describe('R-CANCEL-REQUEST: a cancelable service asks the provider; the refund follows its answer', () => {
  it('accepted → cancelRequested (row too, the provider asked once); the sync reports canceled → full refund', async () => {
    const order = await dispatched({ started: true, balance: '0.90000' });
    const cancelCalls = engine.simulator.state.calls('cancel').length;
    const answer = await cancelOrder(engine.client, order.orderId, byOwner(order.userId, { reason: 'changed my mind' }));
    expect(answer).toEqual({ accepted: true, rule: 'R-CANCEL-REQUEST', message: 'the provider was asked to cancel; the refund follows its answer' });
    const state = await engine.state(order.orderId);
    expect(state).toMatchObject({ status: 'in_progress', flags: { cancelRequested: true }, refunded: '0.00000', lastCancel: { accepted: true, rule: 'R-CANCEL-REQUEST' } });
    expect(await engine.deps.orders.getOrder(order.orderId)).toMatchObject({ cancelRequested: true, status: 'in_progress' });
    expect(engine.simulator.state.getOrder(Number(order.providerOrderId))!.cancelRequestedAt).not.toBeNull();
    expect(await refunds(order.orderId)).toEqual([]);
    // A second request while the first is carried out is refused at once.
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toEqual({
      accepted: false,
      rule: 'R-CANCEL-REQUEST',
      reason: 'a cancel request is already in progress',
    });
    await engine.providerUpdate(order.orderId, { status: 'canceled', startCount: 100, remains: 1000 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.90000', refunds: [{ amount: '0.90000', rule: 'R-CANCEL-FULL' }] });
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.90000');
    expect(engine.simulator.state.calls('cancel')).toHaveLength(cancelCalls + 1);
    await engine.history(order.orderId);
  });

  it('R-PARTIAL: the provider ends a cancel-requested order Partial → only the undelivered part is refunded', async () => {
    const order = await dispatched({ started: true });
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toMatchObject({ accepted: true });
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 250 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', refunds: [{ amount: '0.22500', rule: 'R-PARTIAL' }] });
    await engine.history(order.orderId);
  });

  it('R-NO-REFUND-DONE: the provider finishes the order despite the cancel → Completed, no refund', async () => {
    const order = await dispatched({ started: true });
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toMatchObject({ accepted: true });
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    expect(await engine.handle(order.orderId).result()).toMatchObject({ status: 'completed', refunded: '0.00000', refunds: [] });
    await engine.history(order.orderId);
  });

  it('the provider refuses the cancel → refused with its reason; the order goes on', async () => {
    const link = engine.uniqueLink('no-cancel-upstream');
    engine.simulator.state.addScenario(link, { cancel: 'refuse' });
    const order = await dispatched({ link, started: true });
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toEqual({
      accepted: false,
      rule: 'R-CANCEL-REQUEST',
      reason: 'the provider refused the cancel: Order cannot be canceled',
    });
    expect(await engine.state(order.orderId)).toMatchObject({ status: 'in_progress', flags: { cancelRequested: false } });
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    await engine.handle(order.orderId).result();
    await engine.history(order.orderId);
  });

  it('a retried request (same requestId) is one cancel with one answer', async () => {
    const order = await dispatched();
    const request = byOwner(order.userId, { requestId: 'req-123' });
    const cancelCalls = engine.simulator.state.calls('cancel').length;
    const first = await cancelOrder(engine.client, order.orderId, request);
    const again = await cancelOrder(engine.client, order.orderId, request);
    expect(first).toMatchObject({ accepted: true });
    expect(again).toEqual(first);
    await engine.handle(order.orderId).signal(cancelSignal, request); // the same request as a signal
    await engine.providerUpdate(order.orderId, { status: 'canceled', startCount: null, remains: 1000 });
    await engine.handle(order.orderId).result();
    expect(engine.simulator.state.calls('cancel')).toHaveLength(cancelCalls + 1);
    expect(await refunds(order.orderId)).toEqual(['0.90000']);
    await engine.history(order.orderId);
  });
});

describe('refused at once, with the rule and the reason', () => {
  it('R-CANCEL-STALLED: a started order of a service without cancel; R-CANCEL-REQUEST: someone else\'s order', async () => {
    const order = await dispatched({ serviceId: engine.seed.serviceIds.followersNoCancel, started: true });
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toEqual({
      accepted: false,
      rule: 'R-CANCEL-STALLED',
      reason: 'this service does not support cancellation and the order has already started',
    });
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId + 1000))).toEqual({
      accepted: false,
      rule: 'R-CANCEL-REQUEST',
      reason: "only the order's owner can cancel it",
    });
    // A validator's refusal leaves no trace in the order's history.
    const names = eventNames(await engine.history(order.orderId));
    expect(names.filter((n) => n === 'WorkflowExecutionUpdateAccepted')).toHaveLength(1); // placement only
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    await engine.handle(order.orderId).result();
  });

  it('the requestCancel signal: a refusal is recorded in the state (lastCancel), nothing else changes', async () => {
    const order = await dispatched({ serviceId: engine.seed.serviceIds.followersNoCancel });
    await engine.handle(order.orderId).signal(cancelSignal, byOwner(order.userId, { requestId: 'sig-1' }));
    const state = await engine.waitForState(order.orderId, (s) => s.lastCancel != null);
    expect(state.status).toBe('pending');
    expect(state.lastCancel).toMatchObject({ requestId: 'sig-1', accepted: false, rule: 'R-CANCEL-STALLED' });
    expect(state.lastCancel!.message).toMatch(/^this service does not support cancellation; it can be canceled if the order has not started more than 10 days after it was placed/);
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    await engine.handle(order.orderId).result();
    await engine.history(order.orderId);
  });

  it('the requestCancel signal, accepted, works like the update: the provider is asked', async () => {
    const order = await dispatched();
    await engine.handle(order.orderId).signal(cancelSignal, byOwner(order.userId));
    const state = await engine.waitForState(order.orderId, (s) => s.flags.cancelRequested);
    expect(state.lastCancel).toMatchObject({ accepted: true, rule: 'R-CANCEL-REQUEST' });
    await engine.providerUpdate(order.orderId, { status: 'canceled', startCount: null, remains: 1000 });
    expect(await engine.handle(order.orderId).result()).toMatchObject({ status: 'canceled', refunded: '0.90000' });
    await engine.history(order.orderId);
  });
});

describe('R-CANCEL-STALLED: a service without cancel', () => {
  it('is refused before 10 days and honoured after: canceled here, full refund, the provider asked anyway', async () => {
    const order = await dispatched({ serviceId: engine.seed.serviceIds.followersNoCancel, balance: '0.45000' });
    await engine.temporal.env.sleep(1 * DAY);
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toMatchObject({ accepted: false, rule: 'R-CANCEL-STALLED' });
    await engine.temporal.env.sleep(9 * DAY + 1000);
    await engine.waitForState(order.orderId, (s) => s.flags.stalled);
    expect(await cancelOrder(engine.client, order.orderId, byOwner(order.userId))).toEqual({
      accepted: true,
      rule: 'R-CANCEL-STALLED',
      message: 'order canceled: it had not started for more than 10 days; its charge is refunded',
    });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({
      status: 'canceled',
      rejectReason: 'canceled: not started more than 10 days after it was placed',
      refunds: [{ amount: '0.45000', rule: 'R-CANCEL-FULL' }],
    });
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.45000');
    expect(engine.simulator.state.calls('cancel').length).toBeGreaterThan(0); // best effort (this service refuses it)
    await engine.history(order.orderId);
  });
});

describe('races: one refund, never more than the charge', () => {
  it('a cancel update racing a Partial from the provider', async () => {
    const order = await dispatched({ started: true, balance: '0.90000' });
    const [answer] = await Promise.all([
      cancelOrder(engine.client, order.orderId, byOwner(order.userId)),
      engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 400 }),
    ]);
    const final = await engine.handle(order.orderId).result();
    expect(final.status).toBe('partial');
    expect(final.refunds).toEqual([expect.objectContaining({ amount: '0.36000', rule: 'R-PARTIAL' })]);
    expect(await refunds(order.orderId)).toEqual(['0.36000']);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.36000');
    // Whichever came first, the answer is consistent with what happened.
    if (!answer.accepted) expect(answer.rule).toBe('R-PARTIAL');
    await engine.history(order.orderId);
  });

  it('a stalled local cancel racing a Canceled and a Partial from the provider', async () => {
    const order = await dispatched({ serviceId: engine.seed.serviceIds.followersNoCancel, balance: '0.45000' });
    await engine.temporal.env.sleep(10 * DAY + 1000);
    await engine.waitForState(order.orderId, (s) => s.flags.stalled);
    await Promise.all([
      engine.handle(order.orderId).signal(cancelSignal, byOwner(order.userId)),
      engine.providerUpdate(order.orderId, { status: 'canceled', startCount: null, remains: 1000 }),
      engine.providerUpdate(order.orderId, { status: 'partial', startCount: 1, remains: 10 }),
    ]);
    const final = await engine.handle(order.orderId).result();
    expect(final.status).toBe('canceled');
    expect(final.refunds).toHaveLength(1);
    expect(final.refunded).toBe('0.45000');
    expect(await refunds(order.orderId)).toEqual(['0.45000']);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.45000');
    await engine.history(order.orderId);
  });

  it('a cancel while the dispatch waits for the provider ("try later"): canceled before it reached the provider, never sent after', async () => {
    const userId = await engine.newUser('0.90000');
    const link = engine.uniqueLink('cancel-while-retrying');
    engine.simulator.state.addScenario(link, { add: { respond: 'error', error: 'not_enough_funds' } });
    const placed = await engine.placeOrder({ userId, link });
    await engine.temporal.env.sleep('10 minutes'); // a few attempts, all "try later"
    const callsBefore = engine.simulator.state.calls('add').filter((c) => c.link === link).length;
    expect(callsBefore).toBeGreaterThan(1);
    expect(await cancelOrder(engine.client, placed.orderId, byOwner(userId))).toEqual({
      accepted: true,
      rule: 'R-CANCEL-REQUEST',
      message: 'order canceled before it reached the provider; its charge is refunded',
    });
    const final = await engine.handle(placed.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', providerOrderId: null, refunds: [{ amount: '0.90000', rule: 'R-CANCEL-FULL' }] });
    await engine.temporal.env.sleep('2 hours');
    expect(engine.simulator.state.calls('add').filter((c) => c.link === link)).toHaveLength(callsBefore);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.90000');
    await engine.history(placed.orderId);
  });
});
