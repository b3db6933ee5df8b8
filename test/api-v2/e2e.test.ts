// API v2 over the whole engine (test/support/engine.ts): the real order workflow and worker on the
// in-memory Temporal server, the provider simulator over HTTP, a private database. Orders are
// placed, followed, canceled and paid through POST /api/v2 only; the provider's progress arrives as
// the providerUpdate signals the provider sync sends.
import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';
import { expectV2Answer, expectV2Error, postForm } from './support';

let engine: TestEngine;
let server: Server;

beforeAll(async () => {
  engine = await startTestEngine();
  server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }) }).listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await engine?.shutdown();
});

async function userWithKey(balance: string): Promise<{ userId: number; key: string }> {
  const userId = await engine.newUser(balance);
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role: 'user' } });
  return { userId, key };
}

const v2 = (fields: Record<string, string | number>) => postForm(server, fields);

async function add(key: string, fields: Record<string, string | number>): Promise<number> {
  const body = expectV2Answer(await v2({ key, action: 'add', ...fields })) as { order: number };
  expect(body).toEqual({ order: expect.any(Number) });
  return body.order;
}

type V2Status = { charge: string; start_count: string; status: string; remains: string; currency: string };

/** Polls action=status until the answer matches (the row mirrors the workflow a moment later). */
async function statusWhen(key: string, order: number, predicate: (s: V2Status) => boolean, timeoutMs = 20_000): Promise<V2Status> {
  const until = Date.now() + timeoutMs;
  let last: V2Status | undefined;
  while (Date.now() < until) {
    last = expectV2Answer(await v2({ key, action: 'status', order })) as V2Status;
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`order ${order}: status never matched; last ${JSON.stringify(last)}`);
}

const balanceOf = async (key: string) => (expectV2Answer(await v2({ key, action: 'balance' })) as { balance: string }).balance;

describe('API v2 end to end', () => {
  it('R-CHARGE, R-BALANCE, R-PARTIAL: add answers after the debit; status follows Pending → In progress → Partial; the refund shows in balance', async () => {
    const { userId, key } = await userWithKey('10');
    const order = await add(key, { service: String(engine.seed.serviceIds.followers), link: engine.uniqueLink(), quantity: '1000' });
    // The debit happened before the answer.
    expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toEqual([expect.objectContaining({ orderId: order, amount: '-0.90000' })]);
    expect(await balanceOf(key)).toBe('9.10000');
    expect(await statusWhen(key, order, () => true)).toEqual({ charge: '0.90000', start_count: '0', status: 'Pending', remains: '1000', currency: 'USD' });

    await engine.waitForState(order, (s) => s.providerOrderId !== null);
    await engine.providerUpdate(order, { status: 'in_progress', startCount: 3572, remains: 600 });
    expect(await statusWhen(key, order, (s) => s.status === 'In progress')).toEqual({ charge: '0.90000', start_count: '3572', status: 'In progress', remains: '600', currency: 'USD' });

    await engine.providerUpdate(order, { status: 'partial', startCount: 3572, remains: 157 });
    await engine.handle(order).result();
    // 0.90000 × 157 / 1000 = 0.14130 back; the order now costs 0.75870.
    expect(await statusWhen(key, order, (s) => s.status === 'Partial')).toEqual({ charge: '0.75870', start_count: '3572', status: 'Partial', remains: '157', currency: 'USD' });
    expect(await balanceOf(key)).toBe('9.24130');
    expect(await engine.deps.ledger.checkInvariant()).toBe(true);
  });

  it('R-CANCEL-REQUEST, R-CANCEL-FULL: cancel → 1 through the workflow; Processing until the provider cancels; then Canceled, charge 0, refunded', async () => {
    const { key } = await userWithKey('10');
    const order = await add(key, { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 500 });
    await engine.waitForState(order, (s) => s.providerOrderId !== null);
    expect(await balanceOf(key)).toBe('9.55000');
    expect(expectV2Answer(await v2({ key, action: 'cancel', orders: `${order},99999999` }))).toEqual([
      { order, cancel: 1 },
      { order: 99999999, cancel: { error: 'Incorrect order ID' } },
    ]);
    expect((await engine.state(order)).flags.cancelRequested).toBe(true);
    expect(await statusWhen(key, order, (s) => s.status === 'Processing')).toMatchObject({ status: 'Processing', charge: '0.45000' });

    await engine.providerUpdate(order, { status: 'canceled', startCount: null, remains: 500 });
    await engine.handle(order).result();
    expect(await statusWhen(key, order, (s) => s.status === 'Canceled')).toEqual({ charge: '0.00000', start_count: '0', status: 'Canceled', remains: '500', currency: 'USD' });
    expect(await balanceOf(key)).toBe('10.00000');
  });

  it('R-CANCEL-STALLED: an order of a service without cancellation: the workflow\'s refusal, with its reason', async () => {
    const { key } = await userWithKey('10');
    const order = await add(key, { service: engine.seed.serviceIds.followersNoCancel, link: engine.uniqueLink(), quantity: 100 });
    const [item] = expectV2Answer(await v2({ key, action: 'cancel', orders: String(order) })) as Array<{ order: number; cancel: { error: string } }>;
    expect(item.order).toBe(order);
    expect(item.cancel.error).toMatch(/^This service does not support cancellation/);
  });

  it('R-NO-REFUND-DONE: a completed order (workflow closed): "Order is already completed"; status Completed', async () => {
    const { key } = await userWithKey('10');
    const order = await add(key, { service: engine.seed.serviceIds.likes, link: engine.uniqueLink(), quantity: 100 });
    await engine.waitForState(order, (s) => s.providerOrderId !== null);
    await engine.providerUpdate(order, { status: 'completed', startCount: 10, remains: 0 });
    await engine.handle(order).result();
    expect(await statusWhen(key, order, (s) => s.status === 'Completed')).toEqual({ charge: '0.01200', start_count: '10', status: 'Completed', remains: '0', currency: 'USD' });
    expect(expectV2Answer(await v2({ key, action: 'cancel', orders: String(order) }))).toEqual([{ order, cancel: { error: 'Order is already completed' } }]);
  });

  it('R-ONE-ACTIVE-PER-LINK: a second order for the link → the panels\' text naming the holder; R-BALANCE: not enough funds → no order', async () => {
    const a = await userWithKey('10');
    const b = await userWithKey('0.5');
    const link = engine.uniqueLink();
    const holder = await add(a.key, { service: engine.seed.serviceIds.followers, link, quantity: 100 });
    expectV2Error(await v2({ key: b.key, action: 'add', service: engine.seed.serviceIds.likes, link: `${link}/`, quantity: 100 }),
      `You have active order with this link. Please wait until order being completed. Active order: ${holder}`);
    expectV2Error(await v2({ key: b.key, action: 'add', service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 1000 }), 'Not enough funds on balance');
    expect(await engine.prisma.order.count({ where: { userId: b.userId } })).toBe(0);
    expect(await balanceOf(b.key)).toBe('0.50000');
  });

  it('multi status: own orders answered, another user\'s is "Incorrect order ID"', async () => {
    const a = await userWithKey('10');
    const b = await userWithKey('10');
    const mine = await add(a.key, { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 100 });
    const theirs = await add(b.key, { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 100 });
    const answer = expectV2Answer(await v2({ key: a.key, action: 'status', orders: `${mine},${theirs}` })) as Record<string, unknown>;
    expect(answer).toEqual({ [mine]: expect.objectContaining({ status: 'Pending', charge: '0.09000' }), [theirs]: { error: 'Incorrect order ID' } });
    expect(expectV2Answer(await v2({ key: a.key, action: 'cancel', orders: String(theirs) }))).toEqual([{ order: theirs, cancel: { error: 'Incorrect order ID' } }]);
    expect((await engine.state(theirs)).flags.cancelRequested).toBe(false);
  });

  it('dispatch_uncertain shows Pending; a user\'s cancel meanwhile is refused with the reason; overdue after 24 h is still Pending (R-START-WINDOW)', async () => {
    const { key } = await userWithKey('10');
    const link = engine.uniqueLink('uncertain');
    engine.simulator.state.addScenario(link, { add: { respond: 'empty', times: 1 } });
    // The provider without link lookup: the uncertainty stays until support resolves it.
    const order = await add(key, { service: engine.seed.serviceIds.followersNoLookup, link, quantity: 100 });
    await engine.waitForState(order, (s) => s.status === 'dispatch_uncertain');
    expect(await statusWhen(key, order, () => true)).toMatchObject({ status: 'Pending', start_count: '0', remains: '100' });
    expect(expectV2Answer(await v2({ key, action: 'cancel', orders: String(order) }))).toEqual([
      { order, cancel: { error: expect.stringMatching(/^Order is being confirmed with the provider/) } },
    ]);

    await engine.temporal.env.sleep('25 hours');
    await engine.waitForState(order, (s) => s.flags.overdue);
    const row = await engine.prisma.order.findUniqueOrThrow({ where: { id: order } });
    expect(row).toMatchObject({ status: 'dispatch_uncertain', overdue: true });
    expect(await statusWhen(key, order, () => true)).toMatchObject({ status: 'Pending' });
  });
});
