/**
 * Issue 11, "Orders whose workflow is gone": the Temporal server is lost mid-delivery (the in-memory
 * one is stopped and a new one started, as restarting `npm start` does), the worker starts against
 * the new server and ensures the order recovery; every order settles with exact money: one debit and
 * one upstream `add` per order, refunds exactly per rule, balances equal to the ledger's sum.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { debitKey } from '../../activities/order-activities';
import { ensureOrderRecovery } from '../../recovery/ensure-recovery';
import { createRecoveryActivities } from '../../recovery/recovery-activities';
import { REJECT_UNPAID_MESSAGE } from '../../recovery/resume-order';
import { renderTimeline } from '../../observability/timeline';
import { buildOrderInput, cancelOrder, reserveOrderId } from '../../worker/order-client';
import { orderWorkflowId } from '../../workflows/order-contract';
import { ORDER_RECOVERY_WORKFLOW_ID } from '../../workflows/order-recovery-workflow';
import type { TestEngine } from '../support/engine';
import { eventNames, temporalKindFromEnvironment } from '../support/temporal';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started), { providerSync: true });

// Only the in-memory server can be lost and replaced by an empty one from a test.
const onInMemory = temporalKindFromEnvironment() === 'in-memory' ? it : it.skip;

async function exists(orderId: number): Promise<boolean> {
  try {
    await engine.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

/** A row as a placement leaves it when its workflow dies between the insert and the debit (or after the debit). */
async function strandedNewRow(userId: number, link: string, paid: boolean): Promise<number> {
  const orderId = await reserveOrderId(engine.prisma);
  const input = await buildOrderInput(engine.prisma, orderId, { userId, serviceId: engine.seed.serviceIds.likes, link, quantity: 1000 });
  const created = await engine.deps.orders.createOrder({
    id: orderId,
    workflowId: orderWorkflowId(orderId),
    userId,
    serviceId: input.serviceId,
    providerId: input.providerId,
    link,
    linkKey: input.linkKey,
    quantity: input.quantity,
    rate: input.rate,
    charge: input.charge,
    refillKind: 'none',
    cancelable: input.cancelable,
  });
  expect(created.ok).toBe(true);
  if (paid) await engine.deps.ledger.debitForOrder({ orderId, userId, amount: input.charge, idempotencyKey: debitKey(orderId) });
  return orderId;
}

onInMemory('orders in flight when the Temporal server is lost are found, restarted from their rows and settled with exact money (R-PARTIAL, R-CANCEL-FULL, R-NO-REFUND-DONE, R-ONE-ACTIVE-PER-LINK)', async () => {
  const { simulator } = engine;
  const userId = await engine.newUser('10.00000');
  const likes = engine.seed.serviceIds.likes; // 0.12 per 1000
  const links = {
    slow: engine.uniqueLink('rec-slow'),
    partial: engine.uniqueLink('rec-partial'),
    waiting: engine.uniqueLink('rec-waiting'),
    guaranteed: engine.uniqueLink('rec-guaranteed'),
    unpaid: engine.uniqueLink('rec-unpaid'),
    paid: engine.uniqueLink('rec-paid'),
  };
  simulator.state.addScenario(links.slow, { speedPerSec: 10 });
  simulator.state.addScenario(links.partial, { speedPerSec: 10, end: 'partial', partialRemains: 300 });
  simulator.state.addScenario(links.waiting, { startDelayMs: 3_600_000 });

  // Before the loss: three likes orders at the provider, a guaranteed followers order completed.
  const slow = await engine.placeOrder({ userId, serviceId: likes, link: links.slow });
  const partial = await engine.placeOrder({ userId, serviceId: likes, link: links.partial });
  const waiting = await engine.placeOrder({ userId, serviceId: likes, link: links.waiting });
  const guaranteed = await engine.placeOrder({ userId, link: links.guaranteed, quantity: 100 }); // followers, refill 30 days: 0.09
  for (const o of [slow, partial, waiting, guaranteed]) await engine.waitForState(o.orderId, (s) => s.providerOrderId !== null);
  engine.simClock!.advance(30_000);
  await engine.temporal.env.sleep('2 minutes');
  await engine.waitForState(slow.orderId, (s) => s.status === 'in_progress' && s.remains !== null && s.remains > 0);
  await engine.waitForState(partial.orderId, (s) => s.status === 'in_progress');
  await engine.waitForState(guaranteed.orderId, (s) => s.status === 'completed');
  // Two placements whose workflow died inside reserveAndDebit: before the debit, and after it.
  const unpaid = await strandedNewRow(userId, links.unpaid, false);
  const paid = await strandedNewRow(userId, links.paid, true);
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.43000'); // 10 − 4 × 0.12 − 0.09

  await engine.restartTemporal();
  for (const id of [slow.orderId, guaranteed.orderId]) expect(await exists(id)).toBe(false);

  // What the worker does when it starts (scripts/runtime/components.ts startWorker).
  await ensureOrderRecovery(engine.client, { intervalMs: 24 * 3_600_000 });
  const resumed = [slow.orderId, partial.orderId, waiting.orderId, guaranteed.orderId, paid];
  await until('every orphan has a workflow again', async () => (await Promise.all(resumed.map(exists))).every(Boolean));
  await until('the unpaid row is rejected', async () => (await engine.deps.orders.getOrder(unpaid))?.status === 'rejected');
  expect(await engine.deps.orders.getOrder(unpaid)).toMatchObject({ rejectReason: REJECT_UNPAID_MESSAGE, refunded: '0.00000' });
  expect(await engine.state(slow.orderId)).toMatchObject({ status: 'in_progress', providerOrderId: slow.result.accepted ? expect.any(String) : null });
  expect((await engine.state(guaranteed.orderId)).status).toBe('completed');
  expect((await engine.client.workflow.getHandle(orderWorkflowId(guaranteed.orderId)).describe()).status.name).toBe('RUNNING');
  await engine.waitForState(paid, (s) => s.providerOrderId !== null); // dispatched now, once

  // Support's full-refund cancel works on a recovered order (it was refused "in_progress" for ever before).
  const cancel = await cancelOrder(engine.client, waiting.orderId, {
    requestedBy: { kind: 'support', userId: 1 },
    mode: 'full_refund',
    reason: 'customer asked',
    requestId: 'rec-support-cancel',
  });
  expect(cancel).toMatchObject({ accepted: true, rule: 'R-CANCEL-FULL' });
  expect(await engine.handle(waiting.orderId).result()).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.12000', rule: 'R-CANCEL-FULL' }] });

  // The provider finishes; the (restarted) sync reports it; each order settles by its rule.
  engine.simClock!.advance(10 * 60_000);
  await engine.temporal.env.sleep('2 minutes');
  expect(await engine.handle(slow.orderId).result()).toMatchObject({ status: 'completed', remains: 0, refunded: '0.00000' });
  expect(await engine.handle(partial.orderId).result()).toMatchObject({ status: 'partial', remains: 300, refunds: [{ amount: '0.03600', rule: 'R-PARTIAL' }] });
  expect(await engine.handle(paid).result()).toMatchObject({ status: 'completed', refunded: '0.00000' });

  // Money: one debit per paid order, the two refunds, the balance is the ledger's sum.
  const entries = await engine.deps.ledger.entriesOf(userId);
  const debits = entries.filter((e) => e.kind === 'order_debit').map((e) => e.orderId).sort((a, b) => a! - b!);
  expect(debits).toEqual([slow.orderId, partial.orderId, waiting.orderId, guaranteed.orderId, paid].sort((a, b) => a - b));
  const refunds = entries.filter((e) => e.kind === 'refund').map((e) => [e.orderId, e.amount]);
  expect(refunds).toEqual(expect.arrayContaining([[partial.orderId, '0.03600'], [waiting.orderId, '0.12000']]));
  expect(refunds).toHaveLength(2);
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.58600'); // 9.43 + 0.12 + 0.036
  await expect(engine.deps.ledger.checkInvariant()).resolves.toBe(true);

  // One upstream order per dispatch, none for the unpaid row.
  const adds = (link: string) => simulator.state.calls('add').filter((c) => c.link === link).length;
  expect(Object.fromEntries(Object.entries(links).map(([k, l]) => [k, adds(l)]))).toEqual({ slow: 1, partial: 1, waiting: 1, guaranteed: 1, unpaid: 0, paid: 1 });

  // R-ONE-ACTIVE-PER-LINK: the links of the settled and the rejected orders are free again.
  for (const link of [links.waiting, links.unpaid]) {
    const again = await engine.placeOrder({ userId, serviceId: likes, link });
    expect(again.result).toMatchObject({ accepted: true });
  }

  // Support sees it: the new run's first event says the order was recovered, and from what.
  const history = await engine.history(slow.orderId);
  const timeline = renderTimeline([{ runId: 'run-1', history }]);
  expect(timeline.find((line) => line.includes('WorkflowExecutionStarted'))).toContain('recovered={"fromStatus":"in_progress"');
  for (const id of [partial.orderId, guaranteed.orderId, paid]) await engine.history(id);
  await engine.client.workflow.getHandle(ORDER_RECOVERY_WORKFLOW_ID).terminate('test over');
});

onInMemory('R-CANCEL-FULL: a workflow lost after abandonDispatch closed the fence and before its refund leaves an unsettled row; the recovery resumes it and the refund is posted, once, with nothing sent', async () => {
  const userId = await engine.newUser('1.00000');
  const link = engine.uniqueLink('rec-abandoned');
  engine.simulator.state.addScenario(link, { add: { respond: 'error', error: 'not_enough_funds' } }); // "try later", every time
  const placed = await engine.placeOrder({ userId, serviceId: engine.seed.serviceIds.likes, link }); // 0.12
  const orderId = placed.orderId;
  // The refund cannot be written yet: the workflow stays between the fence and its refund.
  const refund = `order-${orderId}:refund`;
  await engine.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_refund_${orderId}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.idempotency_key = '${refund}' THEN RAISE EXCEPTION 'refund refused by the test'; END IF; RETURN NEW; END $$`);
  await engine.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_refund_${orderId} BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION refuse_refund_${orderId}()`);

  const cancel = await cancelOrder(engine.client, orderId, { requestedBy: { kind: 'user', userId }, requestId: 'rec-abandoned-cancel' });
  expect(cancel).toMatchObject({ accepted: true, rule: 'R-CANCEL-REQUEST' });
  const addsAtCancel = engine.simulator.state.calls('add').filter((c) => c.link === link).length;
  expect(addsAtCancel).toBeGreaterThanOrEqual(1);
  await until('the refund was tried and refused', async () => {
    const pending = (await engine.handle(orderId).describe()).raw.pendingActivities ?? [];
    return pending.some((a) => a.activityType?.name === 'refundOrder' && (a.attempt ?? 0) >= 2);
  });
  // Not final without its money back: the fence is closed, the status waits for finish().
  expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({ status: 'pending', dispatchState: 'abandoned', providerOrderId: null });

  await engine.restartTemporal();
  await engine.prisma.$executeRawUnsafe(`DROP TRIGGER refuse_refund_${orderId} ON ledger_entries`);
  await engine.prisma.$executeRawUnsafe(`DROP FUNCTION refuse_refund_${orderId}()`);
  const round = await createRecoveryActivities(engine.deps).recoverOrphanedOrders();
  expect(round.resumed).toContain(orderId);

  expect(await engine.handle(orderId).result()).toMatchObject({ status: 'canceled', refunded: '0.12000', refunds: [{ amount: '0.12000', rule: 'R-CANCEL-FULL', idempotencyKey: refund }] });
  expect(await engine.deps.orders.getOrder(orderId)).toMatchObject({ status: 'canceled', refunded: '0.12000' });
  expect(await engine.deps.ledger.balanceOf(userId)).toBe('1.00000');
  expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.orderId === orderId).map((e) => e.kind)).toEqual(['order_debit', 'refund']);
  // The provider answered "try later" to every add; the closed fence sent nothing after the cancel.
  expect(engine.simulator.state.calls('add').filter((c) => c.link === link)).toHaveLength(addsAtCancel);
  expect(engine.simulator.state.listOrders(link)).toHaveLength(0);
  await engine.history(orderId);
});

it('only a workflow that does not exist is an orphan: a running order and a closed (terminated) one are left alone; two rounds at once start one run', async () => {
  const recovery = createRecoveryActivities(engine.deps);
  const userId = await engine.newUser('1.00000');
  const running = await engine.placeOrder({ userId, serviceId: engine.seed.serviceIds.likes });
  const closed = await engine.placeOrder({ userId, serviceId: engine.seed.serviceIds.likes });
  for (const o of [running, closed]) await engine.waitForState(o.orderId, (s) => s.providerOrderId !== null);
  await engine.handle(closed.orderId).terminate('operator stopped it');
  const runningEvents = (await engine.history(running.orderId)).events!.length;
  const link = engine.uniqueLink('rec-twice');
  const orphan = await strandedNewRow(userId, link, true);

  const rounds = await Promise.all([recovery.recoverOrphanedOrders(), recovery.recoverOrphanedOrders()]);
  expect(rounds.flatMap((r) => r.resumed)).toEqual([orphan]);
  expect(rounds.flatMap((r) => r.failed)).toEqual([]);
  expect(rounds.every((r) => r.checked >= 3)).toBe(true);
  expect((await engine.deps.orders.getOrder(closed.orderId))!.status).toBe('pending'); // terminated by hand: not restarted
  expect((await engine.client.workflow.getHandle(orderWorkflowId(closed.orderId)).describe()).status.name).toBe('TERMINATED');
  expect((await engine.history(running.orderId)).events!.length).toBe(runningEvents);

  await engine.waitForState(orphan, (s) => s.providerOrderId !== null);
  expect((await recovery.recoverOrphanedOrders()).resumed).toEqual([]);
  expect(engine.simulator.state.calls('add').filter((c) => c.link === link)).toHaveLength(1);
  expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.orderId === orphan && e.kind === 'order_debit')).toHaveLength(1);
  await engine.history(orphan);
});

it('the recovery workflow: ensured at every worker start as one workflow (order-recovery), a running one scans at once, its timer scans again after the interval', async () => {
  const handle = engine.client.workflow.getHandle(ORDER_RECOVERY_WORKFLOW_ID);
  const rounds = async () => eventNames(await handle.fetchHistory()).filter((n) => n === 'ActivityTaskCompleted').length;
  await ensureOrderRecovery(engine.client, { intervalMs: 10 * 60_000 });
  await until('the first round', async () => (await rounds()) === 1);
  await ensureOrderRecovery(engine.client, { intervalMs: 10 * 60_000 }); // a second worker starts
  await until('a second round at once', async () => (await rounds()) === 2);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  await engine.temporal.env.sleep('11 minutes');
  await until('a round after the interval', async () => (await rounds()) === 3);
  await handle.terminate('test over');
});
