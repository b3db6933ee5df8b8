/**
 * The order workflow with the real provider sync (workflows/provider-sync-workflow.ts): dispatch wakes
 * `provider-sync-<id>`, which polls the simulator and signals providerUpdate on each upstream change.
 * The simulator runs on a virtual clock that the test moves; Temporal's time skips over the sync's sleeps.
 */
import { providerSyncWorkflowId } from '../../workflows/order-contract';
import { cancelOrder } from '../../worker/order-client';
import { eventNames } from '../support/temporal';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine({ providerSync: true });
});

afterEach(async () => {
  await expect(engine.deps.ledger.checkInvariant()).resolves.toBe(true);
});

afterAll(async () => {
  try {
    if (engine) expect(await engine.replayAll()).toBeGreaterThan(0);
  } finally {
    await engine?.shutdown();
  }
});

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
