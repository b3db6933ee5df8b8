// The API over the whole engine (test/support/engine.ts): real workflow and worker on the
// in-memory Temporal server, the provider simulator over HTTP, a private database.
import type { Server } from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import type { Role } from '../../api/auth';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;
let server: Server;
const logs: Array<Record<string, unknown>> = [];

async function keyFor(userId: number, role: Role = 'user'): Promise<string> {
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role } });
  return key;
}

beforeAll(async () => {
  engine = await startTestEngine();
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  server = createApp({ ...engine.deps, logger }).listen(0);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await engine?.shutdown();
});

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const place = (key: string, body: object, headers: Record<string, string> = {}) =>
  request(server).post('/orders').set(bearer(key)).set(headers).send(body);

describe('POST /orders end to end', () => {
  it('R-CHARGE, R-BALANCE: 201 only after the debit, with the order as the workflow holds it', async () => {
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const link = engine.uniqueLink();
    const res = await place(key, { service: engine.seed.serviceIds.followers, link, quantity: 1000 });
    expect(res.status).toBe(201);
    const order = res.body.order;
    expect(order).toMatchObject({ userId, link, quantity: 1000, rate: '0.90000', charge: '0.90000', refunded: '0.00000' });
    expect(['pending', 'in_progress']).toContain(order.status);
    // The debit happened before the answer: it is in the ledger and the balance.
    const debits = (await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit');
    expect(debits).toEqual([expect.objectContaining({ orderId: order.id, amount: '-0.90000' })]);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.10000');
    expect((await request(server).get('/balance').set(bearer(key))).body.balance).toBe('9.10000');
    const row = await engine.deps.orders.getOrder(order.id);
    expect(row).toMatchObject({ id: order.id, workflowId: `order-${order.id}`, userId, charge: '0.90000' });
    expect(logs.find((l) => l.msg === 'request' && l.status === 201 && l.orderId === order.id)).toBeDefined();
  });

  it('R-BALANCE: not enough funds → 402 "not enough funds", no order and no debit', async () => {
    const userId = await engine.newUser('0.89999');
    const key = await keyFor(userId);
    const link = engine.uniqueLink();
    const res = await place(key, { service: engine.seed.serviceIds.followers, link, quantity: 1000 });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'insufficient_funds', message: 'not enough funds', rule: 'R-BALANCE' });
    expect(await engine.prisma.order.count({ where: { userId } })).toBe(0);
    expect((await engine.deps.ledger.entriesOf(userId)).map((e) => e.kind)).toEqual(['topup']);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.89999');
  });

  it('R-ONE-ACTIVE-PER-LINK: a busy link → 409 naming the order that holds it, even from another user', async () => {
    const a = await engine.newUser('10');
    const b = await engine.newUser('10');
    const link = engine.uniqueLink();
    const first = await place(await keyFor(a), { service: engine.seed.serviceIds.followers, link, quantity: 100 });
    expect(first.status).toBe(201);
    const second = await place(await keyFor(b), { service: engine.seed.serviceIds.likes, link: `${link.replace('https://', 'http://www.')}/`, quantity: 100 });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'link_busy',
      message: `active order for this link: ${first.body.order.id}`,
      rule: 'R-ONE-ACTIVE-PER-LINK',
      holderOrderId: first.body.order.id,
    });
    expect((await engine.deps.ledger.entriesOf(b)).map((e) => e.kind)).toEqual(['topup']);
  });

  it('Idempotency-Key: the same request replays the first answer (one order, one debit); another body → 409', async () => {
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const body = { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 500 };
    const first = await place(key, body, { 'Idempotency-Key': 'e2e-1' });
    expect(first.status).toBe(201);
    const again = await place(key, body, { 'Idempotency-Key': 'e2e-1' });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const other = await place(key, { ...body, quantity: 600 }, { 'Idempotency-Key': 'e2e-1' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
    expect(await engine.prisma.order.count({ where: { userId } })).toBe(1);
  });

  it('Idempotency-Key: a retry while the answer was never stored re-runs update-with-start on the same id and gets the same answer', async () => {
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const body = { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 500 };
    const first = await place(key, body, { 'Idempotency-Key': 'e2e-unstored' });
    expect(first.status).toBe(201);
    // As if the API had died after the workflow answered but before the answer was stored.
    const record = await engine.prisma.idempotencyRecord.findUniqueOrThrow({ where: { userId_key: { userId, key: 'e2e-unstored' } } });
    const stored = await engine.prisma.order.findUniqueOrThrow({ where: { id: record.orderId! } });
    await engine.prisma.idempotencyRecord.update({
      where: { id: record.id },
      data: { responseStatus: 0, responseBody: { state: 'placing', input: await workflowInput(record.orderId!) } as never },
    });
    const retry = await place(key, body, { 'Idempotency-Key': 'e2e-unstored' });
    expect(retry.status).toBe(201);
    expect(retry.body.order.id).toBe(stored.id);
    expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
  });
});

describe('after the workflow closed', () => {
  let userId: number;
  let key: string;
  let orderId: number;
  // A service without a refill guarantee: its workflow ends at Completed (a guaranteed order's stays
  // open for its refills, and awaiting it would skip Temporal's clock 27 days for the tests after).
  const body = () => ({ service: engine.seed.serviceIds.likes, link, quantity: 200 });
  let link: string;

  beforeAll(async () => {
    userId = await engine.newUser('10');
    key = await keyFor(userId);
    link = engine.uniqueLink();
    const placed = await place(key, body(), { 'Idempotency-Key': 'e2e-closed' });
    orderId = placed.body.order.id;
    // The provider delivers everything: the order completes and its workflow ends.
    await engine.waitForState(orderId, (s) => s.providerOrderId !== null);
    await engine.providerUpdate(orderId, { status: 'in_progress', startCount: 100, remains: 200 });
    await engine.providerUpdate(orderId, { status: 'completed', startCount: 100, remains: 0 });
    await engine.handle(orderId).result();
  });

  it('Idempotency-Key: a retry with no stored answer gets ALREADY_EXISTS and answers from the placement\'s outcome', async () => {
    const record = await engine.prisma.idempotencyRecord.findUniqueOrThrow({ where: { userId_key: { userId, key: 'e2e-closed' } } });
    await engine.prisma.idempotencyRecord.update({
      where: { id: record.id },
      data: { responseStatus: 0, responseBody: { state: 'placing', input: await workflowInput(orderId) } as never },
    });
    const retry = await place(key, body(), { 'Idempotency-Key': 'e2e-closed' });
    expect(retry.status).toBe(201);
    expect(retry.body.order.id).toBe(orderId);
    // Answered by Temporal's record of the placement update, not by the row fallback.
    expect(logs.filter((l) => String(l.msg).includes('answering from the order row'))).toEqual([]);
    expect((await engine.deps.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
  });

  it('R-NO-REFUND-DONE: a cancel of the completed order is refused with its rule and reason', async () => {
    const res = await request(server).post(`/orders/${orderId}/cancel`).set(bearer(key)).send({});
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'cancel_refused', rule: 'R-NO-REFUND-DONE', message: 'order is already completed' });
  });

  it('the row shows the final status; ?live=1 still answers (a closed workflow can be queried)', async () => {
    const row = await request(server).get(`/orders/${orderId}`).set(bearer(key));
    expect(row.body.order).toMatchObject({ status: 'completed', apiStatus: 'Completed', startCount: 100, remains: 0 });
    const live = await request(server).get(`/orders/${orderId}?live=1`).set(bearer(key));
    expect(live.status).toBe(200);
    expect(live.body.order).toMatchObject({ status: 'completed' });
  });
});

/** The OrderInput the workflow was started with (its first event). */
async function workflowInput(orderId: number): Promise<unknown> {
  const history = await engine.client.workflow.getHandle(`order-${orderId}`).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  return defaultPayloadConverter.fromPayload(payload!);
}

describe('reading and canceling end to end', () => {
  let alice: number;
  let aliceKey: string;
  let bobKey: string;
  let aliceOrder: number;

  beforeAll(async () => {
    alice = await engine.newUser('10');
    aliceKey = await keyFor(alice);
    bobKey = await keyFor(await engine.newUser('10'));
    aliceOrder = (await place(aliceKey, { service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 100 })).body.order.id;
  });

  it('a user gets and lists their own orders only; another user\'s order is 404', async () => {
    const own = await request(server).get(`/orders/${aliceOrder}`).set(bearer(aliceKey));
    expect(own.status).toBe(200);
    expect(own.body.order).toMatchObject({ id: aliceOrder, userId: alice });
    expect((await request(server).get(`/orders/${aliceOrder}`).set(bearer(bobKey))).status).toBe(404);
    const aliceList = await request(server).get('/orders').set(bearer(aliceKey));
    expect(aliceList.body.orders.map((o: { id: number }) => o.id)).toEqual([aliceOrder]);
    const bobList = await request(server).get('/orders').set(bearer(bobKey));
    expect(bobList.body.orders).toEqual([]);
  });

  it('?live=1 answers from the workflow\'s state query', async () => {
    const res = await request(server).get(`/orders/${aliceOrder}?live=1`).set(bearer(aliceKey));
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('workflow');
    expect(res.body.order).toMatchObject({ id: aliceOrder, userId: alice, charge: '0.09000' });
  });

  it('R-CANCEL-REQUEST: a cancel of a cancelable, unfinished order is accepted → 202', async () => {
    const res = await request(server).post(`/orders/${aliceOrder}/cancel`).set(bearer(aliceKey)).send({ reason: 'wrong link', requestId: 'e2e-cancel-1' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ orderId: aliceOrder, cancel: { accepted: true, rule: 'R-CANCEL-REQUEST' } });
    expect((await request(server).post(`/orders/${aliceOrder}/cancel`).set(bearer(bobKey)).send({})).status).toBe(404);
  });

  it('R-CANCEL-STALLED: a cancel of an order on a service without cancellation is refused at once → 409 with rule and reason', async () => {
    const order = (await place(aliceKey, { service: engine.seed.serviceIds.followersNoCancel, link: engine.uniqueLink(), quantity: 100 })).body.order;
    const res = await request(server).post(`/orders/${order.id}/cancel`).set(bearer(aliceKey)).send({});
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'cancel_refused', rule: 'R-CANCEL-STALLED', orderId: order.id });
    expect(res.body.error.message).toMatch(/does not support cancellation/);
  });

  it('R-CANCEL-STALLED: the workflow counts the 10 days from the placement time on the API\'s clock (ApiDeps.now), not its own start', async () => {
    // An API whose clock stands 11 days behind the workflow's: the order counts as placed 11 days ago
    // and never started, so the same cancel is honoured. (The simulation's API runs on Temporal's
    // skipped clock this way; with the wall clock there, every order after day 10 counted as stalled.)
    const placedAt = Date.now() - 11 * 24 * 3600_000;
    const behind = createApp({ ...engine.deps, logger: pino({ level: 'silent' }), now: () => placedAt }).listen(0);
    try {
      const order = (await request(behind).post('/orders').set(bearer(aliceKey)).send({ service: engine.seed.serviceIds.followersNoCancel, link: engine.uniqueLink(), quantity: 100 })).body.order;
      expect(Date.parse(order.createdAt)).toBe(placedAt);
      const res = await request(server).post(`/orders/${order.id}/cancel`).set(bearer(aliceKey)).send({ reason: 'never started' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ orderId: order.id, cancel: { accepted: true, rule: 'R-CANCEL-STALLED' } });
    } finally {
      await new Promise((resolve) => behind.close(resolve));
    }
  });
});
