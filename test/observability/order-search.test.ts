/**
 * Order search attributes: queries over OrderStatus, ProviderId, OrderUserId and OrderFlags find
 * exactly the matching orders, and follow them as they change.
 */
import { describeOrderExecution } from '../../observability/order-listing';
import { startTestEngine } from '../support/engine';
import { itUnlessOfficialServer } from '../support/official-server';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => engine?.shutdown());

async function orderIds(query: string): Promise<number[]> {
  const ids: number[] = [];
  for await (const info of engine.client.workflow.list({ query })) {
    ids.push(Number(info.workflowId.replace('order-', '')));
  }
  return ids.sort((a, b) => a - b);
}

/** Visibility is eventually consistent on real servers: poll until the answer settles. */
async function eventually(query: string, expected: number[]): Promise<void> {
  let last: number[] = [];
  for (let i = 0; i < 100; i += 1) {
    last = await orderIds(query);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(last).toEqual(expected);
}

itUnlessOfficialServer('visibility', 'finds orders by status, provider, user and flag, exactly, as they move', async () => {
  const user = await engine.newUser('100.00000');
  const a = await engine.placeOrder({ userId: user });
  const b = await engine.placeOrder({ userId: user });
  const c = await engine.placeOrder({ userId: user });
  for (const order of [a, b, c]) await engine.waitForState(order.orderId, (s) => s.providerOrderId !== null);
  const mine = `OrderUserId = ${user} AND ProviderId = ${engine.seed.providerId}`;

  await eventually(`${mine} AND OrderStatus = 'pending'`, [a.orderId, b.orderId, c.orderId]);

  await engine.providerUpdate(b.orderId, { status: 'in_progress', startCount: 10, remains: 1000 });
  await engine.waitForState(b.orderId, (s) => s.status === 'in_progress');
  await eventually(`${mine} AND OrderStatus = 'in_progress'`, [b.orderId]);
  await eventually(`${mine} AND OrderStatus IN ('pending', 'in_progress')`, [a.orderId, b.orderId, c.orderId]);

  await engine.providerUpdate(c.orderId, { status: 'partial', startCount: 10, remains: 400 });
  await engine.handle(c.orderId).result();
  await eventually(`${mine} AND OrderStatus = 'partial'`, [c.orderId]);
  await eventually(`${mine} AND OrderStatus = 'pending'`, [a.orderId]);

  // 24 hours without a start: the overdue flag, searchable (R-START-WINDOW).
  await engine.temporal.env.sleep('25 hours');
  await engine.waitForState(a.orderId, (s) => s.flags.overdue);
  await eventually(`${mine} AND OrderFlags = 'overdue'`, [a.orderId]);
  await eventually(`${mine} AND OrderOverdue = true`, [a.orderId]);

  // What `npm run orders -- --query ...` prints for each order found.
  const lines: string[] = [];
  for await (const execution of engine.client.workflow.list({ query: `${mine} AND OrderStatus = 'partial'` })) {
    lines.push(describeOrderExecution(execution));
  }
  expect(lines).toEqual([
    `order-${c.orderId}  COMPLETED   OrderId=${c.orderId} OrderStatus=partial OrderUserId=${user} OrderServiceId=${engine.seed.serviceIds.followers} ProviderId=${engine.seed.providerId} OrderFlags=- OrderOverdue=false OrderStalled=false`,
  ]);
});
