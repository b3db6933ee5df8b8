/**
 * The order workflow with the real provider sync (workflows/provider-sync-workflow.ts): dispatch wakes
 * `provider-sync-<id>`, which polls the simulator and signals providerUpdate on each upstream change.
 * The simulator runs on a virtual clock that the test moves; Temporal's time skips over the sync's sleeps.
 */
import { providerSyncWorkflowId } from '../../workflows/order-contract';
import { cancelOrder, moveOrder } from '../../worker/order-client';
import { eventNames } from '../support/temporal';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started), { providerSync: true });

async function placedAndDispatched(link: string, balance = '10.00000') {
  const userId = await engine.newUser(balance);
  const placed = await engine.placeOrder({ userId, link });
  await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  return { ...placed, userId };
}

it('dispatch starts the provider sync; the sync drives the order to Completed (R-COUNTERS, R-NO-REFUND-DONE)', async () => {
  const order = await placedAndDispatched(engine.uniqueLink('sync-done'));
  const sync = await engine.client.workflow.getHandle(providerSyncWorkflowId(engine.seed.providerId)).describe();
  expect(sync.status.name).toBe('RUNNING');
  engine.simClock!.advance(10 * 60_000); // upstream: started after 5 s, 20 units/s: done
  await engine.temporal.env.sleep('2 minutes');
  const final = await engine.handle(order.orderId).result();
  expect(final).toMatchObject({ status: 'completed', remains: 0, refunded: '0.00000' });
  expect(final.startCount).not.toBeNull();
  expect(final.timestamps.startedAt).not.toBeNull();
  const names = eventNames(await engine.history(order.orderId));
  expect(names.length).toBeLessThan(40);
});

it('R-PARTIAL through the sync: upstream ends Partial → the undelivered part refunded once', async () => {
  const link = engine.uniqueLink('sync-partial');
  engine.simulator.state.addScenario(link, { end: 'partial', partialRemains: 300 });
  const order = await placedAndDispatched(link);
  engine.simClock!.advance(10 * 60_000);
  await engine.temporal.env.sleep('2 minutes');
  const final = await engine.handle(order.orderId).result();
  expect(final).toMatchObject({ status: 'partial', remains: 300, refunds: [{ amount: '0.27000', rule: 'R-PARTIAL' }] });
  await engine.history(order.orderId);
});

it('R-CANCEL-REQUEST through the sync: the provider acknowledges, ends the order, the sync reports it, the refund follows', async () => {
  const order = await placedAndDispatched(engine.uniqueLink('sync-cancel'), '0.90000');
  expect(await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId } })).toMatchObject({ accepted: true });
  await engine.temporal.env.sleep('2 minutes');
  const final = await engine.handle(order.orderId).result();
  // Not started upstream (the simulator's clock did not move): Canceled, the whole charge back.
  expect(final).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.90000', rule: 'R-CANCEL-FULL' }] });
  expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.90000');
  await engine.history(order.orderId);
});

it('R-SUBSTITUTE through the sync: moved mid-delivery, the old upstream\'s end comes by the sync, the rest is sent on and followed to Completed', async () => {
  const link = engine.uniqueLink('sync-move');
  engine.simulator.state.addScenario(link, { speedPerSec: 10 });
  const order = await placedAndDispatched(link);
  engine.simClock!.advance(35_000); // started after 5 s, then 10 units/s: about 300 delivered
  await engine.temporal.env.sleep('2 minutes');
  const started = await engine.waitForState(order.orderId, (s) => s.status === 'in_progress');
  expect(started.remains).toBeLessThan(1000);

  const answer = await moveOrder(engine.client, order.orderId, {
    target: { serviceId: engine.seed.serviceIds.followersNoLookup, providerId: engine.seed.noLookupProviderId, providerServiceId: '1', min: 50, max: 10_000 },
    requestedBy: { kind: 'support', userId: 1 },
    reason: 'first provider too slow',
    requestId: 'sync-move-1',
  });
  expect(answer).toMatchObject({ accepted: true, move: { phase: 'stopping' } });
  await engine.temporal.env.sleep('2 minutes'); // the sync reads the old upstream's end
  const moved = await engine.waitForState(order.orderId, (s) => s.moves?.[0]?.phase === 'moved' && s.providerOrderId !== null);
  const remaining = moved.moves![0]!.quantity!;
  expect(remaining).toBeGreaterThan(0);
  expect(remaining).toBeLessThan(1000);
  expect(engine.simulator.state.getOrder(Number(moved.providerOrderId))!.quantity).toBe(remaining);
  const sync = await engine.client.workflow.getHandle(providerSyncWorkflowId(engine.seed.noLookupProviderId)).describe();
  expect(sync.status.name).toBe('RUNNING');

  engine.simClock!.advance(10 * 60_000);
  await engine.temporal.env.sleep('2 minutes');
  const final = await engine.handle(order.orderId).result();
  expect(final).toMatchObject({ status: 'completed', remains: 0, refunds: [], serviceId: engine.seed.serviceIds.followersNoLookup });
  expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).toMatchObject({
    status: 'completed',
    providerId: engine.seed.noLookupProviderId,
    providerOrderId: moved.providerOrderId,
    dispatchQuantity: remaining,
    upstreamStatus: 'completed',
  });
  await engine.history(order.orderId);
});
