/**
 * Placement (lifecycle step 1): reserve the id, update-with-start, the workflow's first activity
 * inserts the row and debits once; refusals end the workflow with nothing owed.
 * Real PostgreSQL, the simulator over HTTP, the in-memory Temporal server.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createOrderActivities, debitKey } from '../../activities/order-activities';
import type { ReserveAndDebitResult } from '../../activities/order-activities';
import { OrderRequestError, buildOrderInput, reserveOrderId, startOrder } from '../../worker/order-client';
import { eventNames } from '../support/temporal';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started));

describe('placement', () => {
  it('R-BALANCE: an accepted placement answers with the paid order; the row is pending and the charge debited once', async () => {
    const userId = await engine.newUser('10.00000');
    const placed = await engine.placeOrder({ userId, quantity: 1000 });
    expect(placed.result).toMatchObject({ accepted: true, order: { orderId: placed.orderId, status: 'pending', charge: '0.90000' } });
    if (!placed.result.accepted) throw new Error('unreachable');
    expect(placed.result.order.timestamps.paidAt).not.toBeNull();
    const row = await engine.deps.orders.getOrder(placed.orderId);
    expect(row).toMatchObject({ id: placed.orderId, workflowId: `order-${placed.orderId}`, status: 'pending', charge: '0.90000' });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.10000');
    const entries = (await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ amount: '-0.90000', orderId: placed.orderId, idempotencyKey: debitKey(placed.orderId) });
    await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    await engine.history(placed.orderId);
  });

  it('R-BALANCE: not enough funds → refused with "not enough funds", the row rejected, the link free, nothing taken', async () => {
    const userId = await engine.newUser('0.50000');
    const link = engine.uniqueLink('poor');
    const placed = await engine.placeOrder({ userId, link, quantity: 1000 });
    expect(placed.result).toEqual({ accepted: false, code: 'insufficient_funds', message: 'not enough funds' });
    const final = await engine.handle(placed.orderId).result();
    expect(final).toMatchObject({ status: 'rejected', rejectReason: 'not enough funds', refunded: '0.00000', refunds: [] });
    expect(await engine.deps.orders.getOrder(placed.orderId)).toMatchObject({ status: 'rejected', rejectReason: 'not enough funds' });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.50000');
    expect(await engine.deps.ledger.entryByKey(debitKey(placed.orderId))).toBeUndefined();
    // The rejected row holds nothing: the same link can be ordered again by someone who can pay.
    const again = await engine.placeOrder({ link, quantity: 1000 });
    expect(again.result.accepted).toBe(true);
    expect(eventNames(await engine.history(placed.orderId))).not.toContain('ActivityTaskScheduled'); // never dispatched
  });

  it('R-ONE-ACTIVE-PER-LINK: a busy link is refused naming the holder, and no row is left for the refused order', async () => {
    const link = engine.uniqueLink('busy');
    const first = await engine.placeOrder({ link });
    expect(first.result.accepted).toBe(true);
    const userId = await engine.newUser('5.00000');
    // Same link as pasted differently (www., trailing slash, tracking parameter): the same normalised key.
    const second = await engine.placeOrder({ userId, link: `${link.replace('https://', 'https://www.')}/?utm_source=x`, serviceId: engine.seed.serviceIds.likes });
    expect(second.result).toEqual({
      accepted: false,
      code: 'link_busy',
      message: `active order for this link: ${first.orderId}`,
      holderOrderId: first.orderId,
    });
    expect(await engine.handle(second.orderId).result()).toMatchObject({ status: 'rejected', rejectReason: `active order for this link: ${first.orderId}` });
    expect(await engine.deps.orders.getOrder(second.orderId)).toBeNull();
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('5.00000');
    await engine.history(second.orderId);
  });

  it('R-BLOCKED: a blocked user is refused; nothing is inserted or debited', async () => {
    const userId = await engine.newUser('5.00000');
    await engine.prisma.user.update({ where: { id: userId }, data: { status: 'blocked' } });
    const placed = await engine.placeOrder({ userId });
    expect(placed.result).toMatchObject({ accepted: false, code: 'user_blocked' });
    expect(await engine.deps.orders.getOrder(placed.orderId)).toBeNull();
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('5.00000');
  });

  it('R-BALANCE: two placements racing for one balance: exactly one is paid, the other refused', async () => {
    const userId = await engine.newUser('1.00000');
    const [a, b] = await Promise.all([engine.placeOrder({ userId }), engine.placeOrder({ userId })]);
    const accepted = [a, b].filter((p) => p.result.accepted);
    expect(accepted).toHaveLength(1);
    expect([a, b].find((p) => !p.result.accepted)!.result).toMatchObject({ code: 'insufficient_funds' });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.10000');
  });
});

describe('R-BALANCE: the debit happens exactly once', () => {
  it('a second update-with-start for the same order id joins the running workflow and gets the same answer', async () => {
    const userId = await engine.newUser('10.00000');
    const orderId = await reserveOrderId(engine.prisma);
    const input = await buildOrderInput(engine.prisma, orderId, {
      userId,
      serviceId: engine.seed.serviceIds.followers,
      link: engine.uniqueLink('twice'),
      quantity: 2000,
      placedAt: await engine.temporal.env.currentTimeMs(),
    });
    const [first, second] = await Promise.all([startOrder(engine.client, input), startOrder(engine.client, input)]);
    expect(first).toMatchObject({ accepted: true });
    expect(second).toEqual(first);
    const third = await startOrder(engine.client, input); // a client retry long after
    expect(third).toEqual(first);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('8.20000');
    const history = eventNames(await engine.history(orderId));
    expect(history.filter((e) => e === 'WorkflowExecutionStarted')).toHaveLength(1);
    expect(history.filter((e) => e === 'WorkflowExecutionUpdateAccepted')).toHaveLength(1);
  });

  it('reserveAndDebit retried (a crash after the row, after the debit, after the answer) replays: one row, one debit', async () => {
    const userId = await engine.newUser('3.00000');
    const orderId = await reserveOrderId(engine.prisma);
    const input = await buildOrderInput(engine.prisma, orderId, {
      userId,
      serviceId: engine.seed.serviceIds.followers,
      link: engine.uniqueLink('retry'),
      quantity: 1000,
    });
    const acts = createOrderActivities(engine.deps);
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
    // Attempt 1 crashed after inserting the row (status 'new'): simulate by inserting it first.
    await engine.deps.orders.createOrder({
      id: orderId, workflowId: `order-${orderId}`, userId, serviceId: input.serviceId, providerId: input.providerId,
      link: input.link, linkKey: input.linkKey, quantity: input.quantity, rate: input.rate, charge: input.charge,
      refillKind: 'days', refillDays: 30, cancelable: true,
    });
    const results: ReserveAndDebitResult[] = [];
    for (let attempt = 0; attempt < 3; attempt++) results.push(await env.run(acts.reserveAndDebit, input));
    expect(results[0]).toMatchObject({ accepted: true, replayed: false });
    expect(results[1]).toMatchObject({ accepted: true, replayed: true, paidAt: results[0].accepted ? results[0].paidAt : -1 });
    expect(results[2]).toEqual(results[1]);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('2.10000');
    expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
    expect(await engine.deps.orders.getOrder(orderId)).toMatchObject({ status: 'pending' });
    // A refused placement replays as refused, even if the balance grew meanwhile.
    const poorId = await reserveOrderId(engine.prisma);
    const poor = await buildOrderInput(engine.prisma, poorId, { userId, serviceId: engine.seed.serviceIds.followers, link: engine.uniqueLink('retry-poor'), quantity: 10000 });
    expect(await env.run(acts.reserveAndDebit, poor)).toMatchObject({ accepted: false, code: 'insufficient_funds' });
    await engine.topUp(userId, '100.00000');
    expect(await env.run(acts.reserveAndDebit, poor)).toMatchObject({ accepted: false, code: 'insufficient_funds', message: 'not enough funds' });
    expect(await engine.deps.ledger.entryByKey(debitKey(poorId))).toBeUndefined();
  });
});

describe('the placement helper (no HTTP)', () => {
  it('R-PRICE-SNAPSHOT, R-CHARGE: buildOrderInput copies rate, guarantee and cancel flag, computes the charge exactly', async () => {
    const input = await buildOrderInput(engine.prisma, 424242, {
      userId: engine.seed.userId,
      serviceId: engine.seed.serviceIds.followers,
      link: 'HTTPS://WWW.Instagram.com/Some.Account/?igshid=abc',
      quantity: 333,
      placedAt: 1_700_000_000_000,
    });
    expect(input).toMatchObject({
      orderId: 424242,
      providerId: engine.seed.providerId,
      providerServiceId: '1',
      link: 'HTTPS://WWW.Instagram.com/Some.Account/?igshid=abc',
      linkKey: 'https://instagram.com/Some.Account',
      rate: '0.90000',
      charge: '0.29970',
      guarantee: { kind: 'days', days: 30 },
      cancelable: true,
      placedAt: 1_700_000_000_000,
    });
  });

  it('R-MINMAX: a quantity outside the service limits, an inactive service or a bad link is refused before any workflow', async () => {
    const request = { userId: engine.seed.userId, serviceId: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 10 };
    await expect(buildOrderInput(engine.prisma, 1, request)).rejects.toThrow(OrderRequestError);
    await expect(buildOrderInput(engine.prisma, 1, request)).rejects.toThrow('quantity below minimum 50');
    await expect(buildOrderInput(engine.prisma, 1, { ...request, quantity: 100, link: 'ftp://x' })).rejects.toThrow(/link/);
    await expect(buildOrderInput(engine.prisma, 1, { ...request, serviceId: 999999 })).rejects.toThrow(/does not exist/);
  });

  it('reserveOrderId takes ids from the orders sequence without inserting a row', async () => {
    const a = await reserveOrderId(engine.prisma);
    const b = await reserveOrderId(engine.prisma);
    expect(b).toBeGreaterThan(a);
    expect(await engine.deps.orders.getOrder(a)).toBeNull();
  });
});
