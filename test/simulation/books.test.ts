// Each book check of the simulation (simulation/books.ts) passes on right books and catches a
// deliberately broken ledger or order row in a test database.
import { createLedger, topUpKey } from '../../activities/ledger';
import type { Ledger } from '../../activities/ledger';
import type { PrismaClient } from '../../generated/prisma/client';
import { checkActivePerLink, checkBalances, checkBooks, checkOrphanMoney } from '../../simulation/books';
import type { BookCheck } from '../../simulation/books';
import type { OrderWorkflowFacts } from '../../simulation/histories';
import type { OrderState } from '../../workflows/order-contract';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';

let db: TestDatabase;
let prisma: PrismaClient;
let ledger: Ledger;
let serviceId: number;
let providerId: number;
let seq = 0;

beforeEach(async () => {
  db = await createTestDatabase();
  prisma = db.prisma;
  ledger = createLedger(prisma);
  const provider = await prisma.provider.create({ data: { name: 'p', apiUrl: 'http://127.0.0.1:1/api/v2', apiKey: 'k' } });
  providerId = provider.id;
  serviceId = (await prisma.service.create({ data: { name: 's', category: 'c', providerId, providerServiceId: '1', rate: '0.90000', min: 10, max: 10000 } })).id;
});
afterEach(async () => {
  await db.drop();
});

async function user(balance = '100.00000'): Promise<number> {
  const u = await prisma.user.create({ data: { name: `u${++seq}` } });
  await ledger.credit({ userId: u.id, amount: balance, kind: 'topup', idempotencyKey: topUpKey(`t${seq}`), reference: `t${seq}` });
  return u.id;
}

/** A paid order of 1000 at 0.90 (charge 0.90000), debited once through the ledger. */
async function order(userId: number, fields: { status?: string; remains?: number; link?: string } = {}): Promise<number> {
  const link = fields.link ?? `https://instagram.com/a${++seq}`;
  const o = await prisma.order.create({
    data: {
      workflowId: `order-x${++seq}`, userId, serviceId, providerId, link, linkKey: link, quantity: 1000, rate: '0.90000', charge: '0.90000',
      refillKind: 'none', refillDays: null, cancelable: true, status: fields.status ?? 'completed', remains: fields.remains ?? null,
    },
  });
  await ledger.debitForOrder({ orderId: o.id, userId, amount: '0.90000', idempotencyKey: `order-${o.id}:debit` });
  return o.id;
}

const named = (checks: BookCheck[], name: string) => checks.find((c) => c.name === name)!;
const failing = (checks: BookCheck[]) => checks.filter((c) => c.failures.length > 0).map((c) => c.name);

it('right books pass every check: a completed order, a partial one refunded by R-PARTIAL, a canceled one refunded in full', async () => {
  const u = await user();
  await order(u);
  const partial = await order(u, { status: 'partial', remains: 100 });
  await ledger.refundOrder({ orderId: partial, amount: '0.09000', idempotencyKey: `order-${partial}:refund` });
  const canceled = await order(u, { status: 'canceled' });
  await ledger.refundOrder({ orderId: canceled, amount: '0.90000', idempotencyKey: `order-${canceled}:refund` });
  expect(failing(await checkBooks({ prisma }))).toEqual([]);
});

it('balances: catches a balance that is not the sum of its ledger entries', async () => {
  const u = await user();
  await prisma.$executeRaw`UPDATE users SET balance = balance + 1 WHERE id = ${u}`;
  const check = await checkBalances(prisma);
  expect(check.failures).toEqual([expect.objectContaining({ userId: u, message: expect.stringContaining('≠ sum of ledger entries') })]);
});

it('debits: catches a second debit of one order and a charge that is not rate × quantity / 1000', async () => {
  const u = await user();
  const twice = await order(u);
  await ledger.debitForOrder({ orderId: twice, userId: u, amount: '0.90000', idempotencyKey: `order-${twice}:debit-again` });
  const overcharged = await order(u);
  await prisma.$executeRaw`UPDATE orders SET charge = 0.95 WHERE id = ${overcharged}`;
  const debits = named(await checkBooks({ prisma }), 'debits');
  expect(debits.failures.map((f) => f.orderId)).toEqual(expect.arrayContaining([twice, overcharged]));
  expect(debits.failures.find((f) => f.orderId === twice)!.message).toContain('2 debits');
});

it('refunds: catches a refund on a completed order (R-NO-REFUND-DONE) and a partial refunded the delivered part', async () => {
  const u = await user();
  const completed = await order(u);
  await ledger.refundOrder({ orderId: completed, amount: '0.10000', idempotencyKey: `order-${completed}:refund` });
  const partial = await order(u, { status: 'partial', remains: 100 });
  await ledger.refundOrder({ orderId: partial, amount: '0.81000', idempotencyKey: `order-${partial}:refund` });
  const refunds = named(await checkBooks({ prisma }), 'refunds');
  expect(refunds.failures.map((f) => f.orderId).sort()).toEqual([completed, partial].sort());
  expect(refunds.failures.find((f) => f.orderId === partial)!.message).toContain('the rule gives 0.09000');
});

it('orphan-money: catches a refund posted on another user\'s balance than its order\'s', async () => {
  const owner = await user();
  const other = await user();
  const o = await order(owner, { status: 'canceled' });
  await prisma.$executeRaw`
    INSERT INTO ledger_entries (user_id, amount, kind, order_id, idempotency_key, balance_after)
    VALUES (${other}, 0.9, 'refund', ${o}, 'stray-refund', (SELECT balance + 0.9 FROM users WHERE id = ${other}))`;
  const check = await checkOrphanMoney(prisma);
  expect(check.failures).toEqual([expect.objectContaining({ orderId: o, message: expect.stringContaining(`order ${o} is user ${owner}'s`) })]);
});

it('active-per-link: catches two active orders on one link (with the unique index gone)', async () => {
  const u = await user();
  await prisma.$executeRawUnsafe('DROP INDEX orders_active_link_key');
  await order(u, { status: 'in_progress', link: 'https://instagram.com/same' });
  const second = await order(u, { status: 'pending', link: 'https://instagram.com/same' });
  const check = await checkActivePerLink(prisma);
  expect(check.failures).toEqual([expect.objectContaining({ orderId: second })]);
});

it('workflows: catches a missing workflow and a workflow whose status or refund differs from its row', async () => {
  const u = await user();
  const missing = await order(u);
  const differs = await order(u);
  const agrees = await order(u);
  const state = (orderId: number, status: string, refunded: string) =>
    ({ orderId, status, refunded, charge: '0.90000', providerOrderId: null, guarantee: { kind: 'none' } }) as unknown as OrderState;
  const facts = (orderId: number, s: OrderState): OrderWorkflowFacts => ({ orderId, runs: [], state: s, open: false, events: 0, actions: 0, activityFailures: 0 });
  const workflows = new Map([
    [differs, facts(differs, state(differs, 'partial', '0.09000'))],
    [agrees, facts(agrees, state(agrees, 'completed', '0.00000'))],
  ]);
  const check = named(await checkBooks({ prisma, workflows }), 'workflows');
  expect(check.failures.map((f) => f.orderId).sort()).toEqual([missing, differs, differs].sort());
});

it('upstream: catches an upstream order no order owns (a second dispatch), not one a move explains', async () => {
  const u = await user();
  const o = await order(u, { link: 'https://instagram.com/twice' });
  await prisma.$executeRaw`UPDATE orders SET provider_order_id = '501' WHERE id = ${o}`;
  const apiKeyOf = new Map([[providerId, 'key-a']]);
  const upstream = (ids: number[]) => ({ orders: ids.map((id) => ({ apiKey: 'key-a', id, link: 'https://instagram.com/twice' })), apiKeyOf });
  expect(named(await checkBooks({ prisma, upstream: upstream([501]) }), 'upstream').failures).toEqual([]);
  const check = named(await checkBooks({ prisma, upstream: upstream([501, 502]) }), 'upstream');
  expect(check.failures).toEqual([expect.objectContaining({ orderId: o, message: expect.stringContaining('upstream order 502') })]);
});

it('upstream: each run of an engine drip-feed owns its upstream order (order_runs), not a second dispatch', async () => {
  const u = await user();
  const o = await order(u, { link: 'https://instagram.com/p/drip' });
  await prisma.$executeRaw`UPDATE orders SET provider_order_id = '602', drip_feed = '{"runs": 2, "intervalMinutes": 60, "quantityPerRun": 500, "mode": "engine"}'::jsonb WHERE id = ${o}`;
  await prisma.$executeRaw`INSERT INTO order_runs (order_id, run_index, quantity, provider_order_id, status, updated_at) VALUES (${o}, 1, 500, '601', 'completed', now()), (${o}, 2, 500, '602', 'completed', now())`;
  const apiKeyOf = new Map([[providerId, 'key-a']]);
  const upstream = (ids: number[]) => ({ orders: ids.map((id) => ({ apiKey: 'key-a', id, link: 'https://instagram.com/p/drip' })), apiKeyOf });
  expect(named(await checkBooks({ prisma, upstream: upstream([601, 602]) }), 'upstream').failures).toEqual([]);
  expect(named(await checkBooks({ prisma, upstream: upstream([601, 602, 603]) }), 'upstream').failures).toEqual([expect.objectContaining({ orderId: o, message: expect.stringContaining('upstream order 603') })]);
});

it('scheduled: catches an upstream order of a scheduled order placed before its execute_at', async () => {
  const u = await user();
  const early = await order(u);
  const onTime = await order(u);
  const executeAt = Date.UTC(2026, 5, 1, 12, 0);
  await prisma.$executeRaw`UPDATE orders SET execute_at = ${new Date(executeAt)}, provider_order_id = (700 + id)::text WHERE id IN (${early}, ${onTime})`;
  const apiKeyOf = new Map([[providerId, 'key-a']]);
  const orders = [
    { apiKey: 'key-a', id: 700 + early, link: 'x', createdAt: executeAt - 30 * 60_000 },
    { apiKey: 'key-a', id: 700 + onTime, link: 'y', createdAt: executeAt + 1000 },
  ];
  const check = named(await checkBooks({ prisma, upstream: { orders, apiKeyOf } }), 'scheduled');
  expect(check.checked).toBe(2);
  expect(check.failures).toEqual([expect.objectContaining({ orderId: early, message: expect.stringContaining('30.0 min before execute_at') })]);
});

it('fields: catches a type field the provider got changed (a comment list trimmed), not one sent as the order has it', async () => {
  const u = await user();
  const o = await order(u);
  const comments = 'great 1  \r\n\r\nwow 2';
  await prisma.$executeRaw`UPDATE orders SET service_type = 'custom_comments', provider_fields = ${JSON.stringify({ comments })}::jsonb, provider_order_id = '801' WHERE id = ${o}`;
  const apiKeyOf = new Map([[providerId, 'key-a']]);
  const sent = (text: string) => ({ orders: [{ apiKey: 'key-a', id: 801, link: 'x', fields: { link: 'x', comments: text } }], apiKeyOf });
  expect(named(await checkBooks({ prisma, upstream: sent(comments) }), 'fields').failures).toEqual([]);
  expect(named(await checkBooks({ prisma, upstream: sent('great 1\nwow 2') }), 'fields').failures).toEqual([expect.objectContaining({ orderId: o, message: expect.stringContaining('upstream order 801: comments') })]);
});
