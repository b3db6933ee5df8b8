// /orders against a fake Temporal client (support/fake-temporal.ts) over the real database:
// the API's placement mapping, Idempotency-Key records, ownership, listing and cancel mapping.
// orders-e2e.test.ts runs the same journeys against the real workflow and worker.
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import request from 'supertest';
import { bearer, makeService, makeUser, startTestApi, writeCounts } from './support/api';
import type { TestApi } from './support/api';
import { fakeTemporal } from './support/fake-temporal';
import type { FakeTemporal } from './support/fake-temporal';

let api: TestApi;
let fake: FakeTemporal;
let serviceId: number;
let providerId: number;
let linkSeq = 0;
const newLink = () => `https://instagram.com/acct_${++linkSeq}`;

beforeAll(async () => {
  api = await startTestApi({ temporal: (deps) => (fake = fakeTemporal(deps)).client });
  ({ serviceId, providerId } = await makeService(api.prisma, { rate: '1.2', min: 50, max: 10000 }));
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  fake.beforeDebit = undefined;
  fake.onUpdateWithStart = undefined;
});

const place = (key: string, body: object, headers: Record<string, string> = {}) =>
  request(api.app).post('/orders').set(bearer(key)).set(headers).send(body);

describe('POST /orders', () => {
  it('R-CHARGE, R-PRICE-SNAPSHOT: places by update-with-start and answers 201 with the debited order', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const link = 'http://WWW.Instagram.com/Some.One/?utm_source=share';
    const res = await place(key, { service: serviceId, link, quantity: 333 });
    expect(res.status).toBe(201);
    const order = res.body.order;
    expect(res.headers.location).toBe(`/orders/${order.id}`);
    expect(order).toMatchObject({
      userId, serviceId, link, quantity: 333, rate: '1.20000', charge: '0.39960', refunded: '0.00000',
      status: 'pending', apiStatus: 'Pending', refill: { kind: 'days', days: 30 }, cancelable: true,
    });
    expect(order.providerId).toBeUndefined(); // users do not see which provider delivers
    expect(await api.ledger.balanceOf(userId)).toBe('9.60040');

    const call = fake.calls.find((c) => c.workflowId === `order-${order.id}`)!;
    expect(call).toMatchObject({ update: 'placement', updateId: 'placement', args: [] });
    expect(call.options).toMatchObject({
      workflowType: 'orderWorkflow', taskQueue: 'orders', workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    expect(fake.started.get(`order-${order.id}`)).toMatchObject({
      orderId: order.id, userId, serviceId, providerId, providerServiceId: '101', link, linkKey: 'https://instagram.com/Some.One',
      quantity: 333, rate: '1.20000', charge: '0.39960', guarantee: { kind: 'days', days: 30 }, cancelable: true,
      idempotencyKey: null, requestHash: null,
    });
    const line = api.logs.find((l) => l.msg === 'request' && l.path === '/orders' && l.status === 201);
    expect(line).toMatchObject({ orderId: order.id, userId });
  });

  it('R-BALANCE: not enough funds → 402 "not enough funds" at once: no order, no debit, Temporal not asked', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '1.19999' });
    const before = await writeCounts(api.prisma);
    const calls = fake.calls.length;
    const res = await place(key, { service: serviceId, link: newLink(), quantity: 1000 });
    expect(res.status).toBe(402);
    expect(res.body.error).toEqual({ code: 'insufficient_funds', message: 'not enough funds', rule: 'R-BALANCE' });
    expect(await writeCounts(api.prisma)).toEqual(before);
    expect(fake.calls.length).toBe(calls);
    expect(await api.ledger.balanceOf(userId)).toBe('1.19999');
  });

  it('R-BALANCE: a debit the workflow refuses (funds gone meanwhile) → 402, no debit', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '2' });
    fake.beforeDebit = async () => {
      await api.ledger.withdraw({ userId, amount: '2', panelAtFault: true, idempotencyKey: `drain-${userId}`, reason: 'test' });
    };
    const res = await place(key, { service: serviceId, link: newLink(), quantity: 1000 });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'insufficient_funds', message: 'not enough funds' });
    expect((await api.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toEqual([]);
  });

  it('R-ONE-ACTIVE-PER-LINK: a second order for the same (normalised) link → 409 naming the holder', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const first = await place(key, { service: serviceId, link: 'https://instagram.com/busy_one', quantity: 100 });
    expect(first.status).toBe(201);
    const before = await writeCounts(api.prisma);
    for (const link of ['instagram.com/busy_one/', 'http://www.INSTAGRAM.com/busy_one?igshid=abc']) {
      const res = await place(key, { service: serviceId, link, quantity: 100 });
      expect(res.status).toBe(409);
      expect(res.body.error).toEqual({
        code: 'link_busy', message: `active order for this link: ${first.body.order.id}`, rule: 'R-ONE-ACTIVE-PER-LINK', field: 'link', holderOrderId: first.body.order.id,
      });
    }
    expect(await writeCounts(api.prisma)).toEqual(before);
  });

  it('R-ONE-ACTIVE-PER-LINK: the workflow\'s refusal (a race the fast check missed) is 409 naming the holder too', async () => {
    const a = await makeUser(api.prisma, { balance: '10' });
    const b = await makeUser(api.prisma, { balance: '10' });
    const link = newLink();
    let holder = 0;
    fake.onUpdateWithStart = async () => {
      fake.onUpdateWithStart = undefined;
      const res = await place(b.key, { service: serviceId, link, quantity: 100 });
      holder = res.body.order.id;
    };
    const res = await place(a.key, { service: serviceId, link, quantity: 100 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'link_busy', message: `active order for this link: ${holder}`, holderOrderId: holder });
  });

  it('without an Idempotency-Key each POST is a new order', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const a = await place(key, { service: serviceId, link: newLink(), quantity: 100 });
    const b = await place(key, { service: serviceId, link: newLink(), quantity: 100 });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.order.id).not.toBe(b.body.order.id);
  });
});

describe('Idempotency-Key (Formance style)', () => {
  it('same key + same body replays the first answer: one order, one debit', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const body = { service: serviceId, link: newLink(), quantity: 500 };
    const first = await place(key, body, { 'Idempotency-Key': 'k-1' });
    expect(first.status).toBe(201);
    // Same content in another key order and with the numbers as digit strings: the same request.
    const again = await place(key, { quantity: '500', link: body.link, service: String(serviceId) }, { 'Idempotency-Key': 'k-1' });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/orders/${first.body.order.id}`);
    expect(again.body).toEqual(first.body);
    expect((await api.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
    const record = await api.prisma.idempotencyRecord.findUnique({ where: { userId_key: { userId, key: 'k-1' } } });
    expect(record).toMatchObject({ orderId: first.body.order.id, responseStatus: 201 });
    const row = await api.orders.getOrder(first.body.order.id);
    expect(row).toMatchObject({ idempotencyKey: 'k-1', requestHash: record!.requestHash });
  });

  it('same key + different body → 409, writing nothing', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const link = newLink();
    expect((await place(key, { service: serviceId, link, quantity: 500 }, { 'Idempotency-Key': 'k-2' })).status).toBe(201);
    const before = await writeCounts(api.prisma);
    const res = await place(key, { service: serviceId, link, quantity: 501 }, { 'Idempotency-Key': 'k-2' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
    expect(await writeCounts(api.prisma)).toEqual(before);
  });

  it('keys belong to their user: another user may use the same key for their own order', async () => {
    const a = await makeUser(api.prisma, { balance: '10' });
    const b = await makeUser(api.prisma, { balance: '10' });
    const ra = await place(a.key, { service: serviceId, link: newLink(), quantity: 100 }, { 'Idempotency-Key': 'shared' });
    const rb = await place(b.key, { service: serviceId, link: newLink(), quantity: 100 }, { 'Idempotency-Key': 'shared' });
    expect([ra.status, rb.status]).toEqual([201, 201]);
    expect(ra.body.order.id).not.toBe(rb.body.order.id);
  });

  it('the record is stored BEFORE the workflow starts', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    let seen: unknown = 'not called';
    fake.onUpdateWithStart = async (input) => {
      seen = await api.prisma.idempotencyRecord.findUnique({ where: { userId_key: { userId, key: 'early' } } });
      expect(input.idempotencyKey).toBe('early');
    };
    expect((await place(key, { service: serviceId, link: newLink(), quantity: 100 }, { 'Idempotency-Key': 'early' })).status).toBe(201);
    expect(seen).toMatchObject({ key: 'early', responseStatus: 0 });
  });

  it('concurrent requests with one key make one order; all answer the same', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const body = { service: serviceId, link: newLink(), quantity: 100 };
    const results = await Promise.all(Array.from({ length: 8 }, () => place(key, body, { 'Idempotency-Key': 'burst' })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.body.order.id)).size).toBe(1);
    expect((await api.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
  });

  it('a stored record without an answer (the API died mid-placement) is finished by the retry with the stored input', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const body = { service: serviceId, link: newLink(), quantity: 100 };
    let die = true;
    fake.onUpdateWithStart = async () => {
      if (die) {
        die = false;
        throw new Error('process killed');
      }
    };
    expect((await place(key, body, { 'Idempotency-Key': 'crash' })).status).toBe(500);
    const record = await api.prisma.idempotencyRecord.findUnique({ where: { userId_key: { userId, key: 'crash' } } });
    expect(record).toMatchObject({ responseStatus: 0 });
    const retry = await place(key, body, { 'Idempotency-Key': 'crash' });
    expect(retry.status).toBe(201);
    expect(retry.body.order.id).toBe(record!.orderId);
    expect(retry.headers['idempotent-replayed']).toBe('true');
  });

  it('no answer before the deadline → 503 placement_pending naming the order; the keyed retry gets the order', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const body = { service: serviceId, link: newLink(), quantity: 100 };
    fake.onUpdateWithStart = async () => {
      fake.onUpdateWithStart = undefined;
      throw new WorkflowUpdateRPCTimeoutOrCancelledError('Workflow update call timeout or cancelled');
    };
    const first = await place(key, body, { 'Idempotency-Key': 'slow' });
    expect(first.status).toBe(503);
    expect(first.body.error).toMatchObject({ code: 'placement_pending', orderId: expect.any(Number) });
    const retry = await place(key, body, { 'Idempotency-Key': 'slow' });
    expect(retry.status).toBe(201);
    expect(retry.body.order.id).toBe(first.body.error.orderId);
  });

  it('a retry after the workflow closed (ALREADY_EXISTS) answers from the placement outcome', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const body = { service: serviceId, link: newLink(), quantity: 100 };
    const first = await place(key, body, { 'Idempotency-Key': 'closed' });
    // As if the first answer had never been stored, and the order had finished since.
    const input = fake.started.get(`order-${first.body.order.id}`);
    await api.prisma.idempotencyRecord.update({
      where: { userId_key: { userId, key: 'closed' } },
      data: { responseStatus: 0, responseBody: { state: 'placing', input } as never },
    });
    fake.close(`order-${first.body.order.id}`);
    const retry = await place(key, body, { 'Idempotency-Key': 'closed' });
    expect(retry.status).toBe(201);
    expect(retry.body.order.id).toBe(first.body.order.id);
  });

  it('a refused placement is replayed as refused too (the first answer stands)', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '2' });
    fake.beforeDebit = async () => {
      await api.ledger.withdraw({ userId, amount: '2', panelAtFault: true, idempotencyKey: `drain2-${userId}`, reason: 'test' });
    };
    const body = { service: serviceId, link: newLink(), quantity: 1000 };
    expect((await place(key, body, { 'Idempotency-Key': 'refused' })).status).toBe(402);
    fake.beforeDebit = undefined;
    const again = await place(key, body, { 'Idempotency-Key': 'refused' });
    expect(again.status).toBe(402);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });
});

describe('GET /orders/:id and GET /orders', () => {
  let alice: { userId: number; key: string };
  let bob: { userId: number; key: string };
  let aliceOrders: number[];
  let bobOrder: number;

  beforeAll(async () => {
    alice = await makeUser(api.prisma, { balance: '100' });
    bob = await makeUser(api.prisma, { balance: '100' });
    aliceOrders = [];
    for (let i = 0; i < 5; i++) aliceOrders.push((await place(alice.key, { service: serviceId, link: `https://t.me/alice_${i}`, quantity: 100 })).body.order.id);
    bobOrder = (await place(bob.key, { service: serviceId, link: 'https://t.me/bob_0', quantity: 100 })).body.order.id;
    await api.orders.updateOrderMirror(aliceOrders[0], { status: 'in_progress', startCount: 10 });
    await api.orders.updateOrderMirror(aliceOrders[0], { status: 'completed', remains: 0 });
  });

  it('a user reads their own order from the row', async () => {
    const res = await request(api.app).get(`/orders/${aliceOrders[1]}`).set(bearer(alice.key));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'database', order: { id: aliceOrders[1], userId: alice.userId, status: 'pending', charge: '0.12000' } });
  });

  it('another user\'s order answers 404, exactly like a missing one (ids do not leak)', async () => {
    const theirs = await request(api.app).get(`/orders/${bobOrder}`).set(bearer(alice.key));
    const missing = await request(api.app).get('/orders/99999999').set(bearer(alice.key));
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual(missing.body);
    expect((await request(api.app).post(`/orders/${bobOrder}/cancel`).set(bearer(alice.key)).send({})).status).toBe(404);
  });

  it('support sees any order, with its provider', async () => {
    const support = await makeUser(api.prisma, { role: 'support' });
    const res = await request(api.app).get(`/orders/${bobOrder}`).set(bearer(support.key));
    expect(res.status).toBe(200);
    expect(res.body.order).toMatchObject({ id: bobOrder, userId: bob.userId, providerId });
    const list = await request(api.app).get(`/orders?userId=${bob.userId}`).set(bearer(support.key));
    expect(list.body.orders.map((o: { id: number }) => o.id)).toEqual([bobOrder]);
  });

  it('?live=1 answers from the workflow\'s state query', async () => {
    const res = await request(api.app).get(`/orders/${aliceOrders[2]}?live=1`).set(bearer(alice.key));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'workflow', order: { id: aliceOrders[2], status: 'pending' } });
    expect(fake.calls.some((c) => c.update === 'query:state' && c.workflowId === `order-${aliceOrders[2]}`)).toBe(true);
  });

  it('lists only the caller\'s orders, newest first, with keyset paging', async () => {
    const page1 = await request(api.app).get('/orders?limit=2').set(bearer(alice.key));
    expect(page1.status).toBe(200);
    expect(page1.body.orders.map((o: { id: number }) => o.id)).toEqual([aliceOrders[4], aliceOrders[3]]);
    const page2 = await request(api.app).get(`/orders?limit=2&cursor=${page1.body.nextCursor}`).set(bearer(alice.key));
    expect(page2.body.orders.map((o: { id: number }) => o.id)).toEqual([aliceOrders[2], aliceOrders[1]]);
    const page3 = await request(api.app).get(`/orders?limit=2&cursor=${page2.body.nextCursor}`).set(bearer(alice.key));
    expect(page3.body.orders.map((o: { id: number }) => o.id)).toEqual([aliceOrders[0]]);
    expect(page3.body.nextCursor).toBeNull();
  });

  it('filters by status, link (normalised) and creation time', async () => {
    const get = async (qs: string) => (await request(api.app).get(`/orders?${qs}`).set(bearer(alice.key))).body.orders.map((o: { id: number }) => o.id);
    expect(await get('status=completed')).toEqual([aliceOrders[0]]);
    expect(await get('status=pending,completed&limit=100')).toEqual([...aliceOrders].reverse());
    expect(await get('status=pending&status=completed')).toEqual([...aliceOrders].reverse());
    expect(await get(`link=${encodeURIComponent('http://T.me/alice_3/?utm_campaign=x')}`)).toEqual([aliceOrders[3]]);
    expect(await get('link=https://t.me/bob_0')).toEqual([]);
    expect(await get('createdAfter=2000-01-01T00:00:00Z&createdBefore=2999-01-01')).toEqual([...aliceOrders].reverse());
    expect(await get(`createdAfter=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
  });

  it('rejected placements (never paid) are not listed unless asked for', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '2' });
    fake.beforeDebit = async () => {
      await api.ledger.withdraw({ userId, amount: '2', panelAtFault: true, idempotencyKey: `drain3-${userId}`, reason: 'test' });
    };
    expect((await place(key, { service: serviceId, link: newLink(), quantity: 1000 })).status).toBe(402);
    expect((await request(api.app).get('/orders').set(bearer(key))).body.orders).toEqual([]);
    const rejected = (await request(api.app).get('/orders?status=rejected').set(bearer(key))).body.orders;
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ status: 'rejected', apiStatus: 'Canceled' });
  });
});

describe('POST /orders/:id/cancel', () => {
  it('R-CANCEL-REQUEST: accepted → 202 with the workflow\'s answer', async () => {
    const { key, userId, apiKeyId } = await makeUser(api.prisma, { balance: '10' });
    const order = (await place(key, { service: serviceId, link: newLink(), quantity: 100 })).body.order;
    const res = await request(api.app).post(`/orders/${order.id}/cancel`).set(bearer(key)).send({ reason: 'changed my mind', requestId: 'c-1' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ orderId: order.id, cancel: { accepted: true, rule: 'R-CANCEL-REQUEST', message: expect.any(String) } });
    const call = fake.calls.find((c) => c.update === 'cancel' && c.workflowId === `order-${order.id}`)!;
    expect(call.updateId).toBe('cancel-c-1');
    expect(call.args).toEqual([{ requestedBy: { kind: 'user', userId, apiKeyId }, reason: 'changed my mind', requestId: 'c-1' }]);
  });

  it('R-CANCEL-REQUEST: a refusal by the update\'s validator → 409 with its rule and reason', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const order = (await place(key, { service: serviceId, link: newLink(), quantity: 100 })).body.order;
    expect((await request(api.app).post(`/orders/${order.id}/cancel`).set(bearer(key)).send({})).status).toBe(202);
    const again = await request(api.app).post(`/orders/${order.id}/cancel`).set(bearer(key)).send({});
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({ code: 'cancel_refused', message: 'a cancel request is already in progress', rule: 'R-CANCEL-REQUEST', orderId: order.id });
  });

  it('R-NO-REFUND-DONE: a finished order whose workflow is closed is refused from its row', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const order = (await place(key, { service: serviceId, link: newLink(), quantity: 100 })).body.order;
    await api.orders.updateOrderMirror(order.id, { status: 'completed', remains: 0 });
    fake.close(`order-${order.id}`);
    const res = await request(api.app).post(`/orders/${order.id}/cancel`).set(bearer(key)).send({});
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'cancel_refused', rule: 'R-NO-REFUND-DONE', message: 'order is already completed' });
  });

  it('validates the body (unknown fields, empty reason) before asking the workflow', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    const order = (await place(key, { service: serviceId, link: newLink(), quantity: 100 })).body.order;
    const calls = fake.calls.length;
    const res = await request(api.app).post(`/orders/${order.id}/cancel`).set(bearer(key)).send({ refund: 'all' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'refund', rule: 'unknown_field' });
    expect(fake.calls.length).toBe(calls);
  });
});

describe('GET /balance', () => {
  it('shows the caller\'s balance as a 5-decimal string', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '12.3' });
    const res = await request(api.app).get('/balance').set(bearer(key));
    expect(res.body).toEqual({ userId, balance: '12.30000' });
  });
});
