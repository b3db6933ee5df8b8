// Every API v2 action and every error text, over a real database with the API tests' fake Temporal
// (test/api/support/fake-temporal.ts: the order workflow's placement and cancel contract). The
// same journeys run against the real workflow in e2e.test.ts.
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import express from 'express';
import pino from 'pino';
import { apiV2Router } from '../../api/v2/router';
import type { RefillDesk } from '../../api/v2/actions/refill';
import { makeService, makeUser, startTestApi, writeCounts } from '../api/support/api';
import type { TestApi } from '../api/support/api';
import { fakeTemporal } from '../api/support/fake-temporal';
import type { FakeTemporal } from '../api/support/fake-temporal';
import { expectV2Answer, expectV2Error, postForm, postJson } from './support';

let api: TestApi;
let fake: FakeTemporal;
let serviceId: number;
let linkSeq = 0;
const newLink = () => `https://instagram.com/v2_acct_${++linkSeq}`;

beforeAll(async () => {
  api = await startTestApi({ temporal: (deps) => (fake = fakeTemporal(deps)).client });
  ({ serviceId } = await makeService(api.prisma, { rate: '1.2', min: 50, max: 10000 }));
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  fake.beforeDebit = undefined;
  fake.onUpdateWithStart = undefined;
});

const v2 = (fields: Record<string, string | number>) => postForm(api.app, fields);
const add = (key: string, fields: Record<string, string | number>) => v2({ key, action: 'add', ...fields });

/** Places an order through API v2 and returns its id. */
async function placed(key: string, fields: Record<string, string | number> = {}): Promise<number> {
  const res = await add(key, { service: serviceId, link: newLink(), quantity: 1000, ...fields });
  const body = expectV2Answer(res) as { order: number };
  expect(body).toEqual({ order: expect.any(Number) });
  return body.order;
}

describe('action=services', () => {
  it('lists the active catalogue: integer id, rate/min/max as strings, refill and cancel flags, type label', async () => {
    const inactive = await makeService(api.prisma, { active: false });
    const comments = await makeService(api.prisma, { type: 'custom_comments', rate: '3.5', min: 10, max: 500, cancelable: false });
    await api.prisma.service.update({ where: { id: comments.serviceId }, data: { refillKind: 'none', refillDays: null, name: 'IG Comments', category: 'Instagram Comments' } });
    const { key } = await makeUser(api.prisma);
    const list = expectV2Answer(await v2({ key, action: 'services' })) as Array<Record<string, unknown>>;
    expect(list.find((s) => s.service === serviceId)).toEqual({
      service: serviceId, name: 'Instagram followers', type: 'Default', category: 'Instagram',
      rate: '1.20000', min: '50', max: '10000', refill: true, cancel: true, dripfeed: false,
    });
    expect(list.find((s) => s.service === comments.serviceId)).toEqual({
      service: comments.serviceId, name: 'IG Comments', type: 'Custom Comments', category: 'Instagram Comments',
      rate: '3.50000', min: '10', max: '500', refill: false, cancel: false, dripfeed: false,
    });
    expect(list.find((s) => s.service === inactive.serviceId)).toBeUndefined();
    expect(list.map((s) => s.service)).toEqual([...list.map((s) => s.service as number)].sort((a, b) => a - b));
  });
});

describe('action=add', () => {
  it('R-CHARGE, R-BALANCE: {"order": <integer id>} only after the debit; the client never sees a workflow id', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const link = newLink();
    const res = await add(key, { service: String(serviceId), link, quantity: '333' });
    const body = expectV2Answer(res) as { order: number };
    expect(body).toEqual({ order: expect.any(Number) });
    expect(res.text).toBe(`{"order":${body.order}}`);
    expect(res.text).not.toContain('order-');
    const debits = (await api.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit');
    expect(debits).toEqual([expect.objectContaining({ orderId: body.order, amount: '-0.39960' })]);
    expect(await api.orders.getOrder(body.order)).toMatchObject({ userId, link, quantity: 333, charge: '0.39960', workflowId: `order-${body.order}` });
    // Placed exactly as POST /orders places: update-with-start of `placement` on order-<id>.
    expect(fake.calls.find((c) => c.workflowId === `order-${body.order}`)).toMatchObject({ update: 'placement', updateId: 'placement' });
    expect(api.logs.find((l) => l.msg === 'request' && l.path === '/api/v2' && l.orderId === body.order)).toMatchObject({ userId, status: 200 });
  });

  it('takes JSON numbers, string numbers, fields in any order, and ignores fields it does not know (currency, format)', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    expect(expectV2Answer(await postJson(api.app, { quantity: 100, link: newLink(), service: serviceId, action: 'add', key }))).toEqual({ order: expect.any(Number) });
    expect(expectV2Answer(await add(key, { link: newLink(), quantity: ' 100 ', service: ` ${serviceId}`, currency: 'USD', format: 'json' }))).toEqual({ order: expect.any(Number) });
  });

  it('empty drip-feed fields (runs=, interval=) are no drip-feed: a normal order', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    expect(expectV2Answer(await add(key, { service: serviceId, link: newLink(), quantity: 100, runs: '', interval: '' }))).toEqual({ order: expect.any(Number) });
  });

  describe('refusals write nothing', () => {
    let key: string;
    let userId: number;
    beforeAll(async () => {
      ({ key, userId } = await makeUser(api.prisma, { balance: '10' }));
    });

    async function refused(fields: Record<string, string | number>, text: string | RegExp) {
      const before = await writeCounts(api.prisma);
      expectV2Error(await add(key, fields), text);
      expect(await writeCounts(api.prisma)).toEqual(before);
      expect(await api.ledger.balanceOf(userId)).toBe('10.00000');
    }

    it.each([
      ['an unknown service', () => ({ service: 999_999, link: newLink(), quantity: 100 })],
      ['a service id that is not a number', () => ({ service: 'abc', link: newLink(), quantity: 100 })],
      ['no service', () => ({ link: newLink(), quantity: 100 })],
    ])('"Incorrect service ID": %s', async (_name, fields) => {
      await refused(fields(), 'Incorrect service ID');
    });

    it('R-MINMAX: "Incorrect service ID" for an inactive service (it is not in the list either)', async () => {
      const inactive = await makeService(api.prisma, { active: false });
      await refused({ service: inactive.serviceId, link: newLink(), quantity: 100 }, 'Incorrect service ID');
    });

    it('R-MINMAX: "Quantity less than minimal 50"', async () => {
      await refused({ service: serviceId, link: newLink(), quantity: 49 }, 'Quantity less than minimal 50');
    });

    it('R-MINMAX: "Quantity more than maximum 10000"', async () => {
      await refused({ service: serviceId, link: newLink(), quantity: 10001 }, 'Quantity more than maximum 10000');
    });

    it('R-MINMAX: the numbers are the service\'s own', async () => {
      const other = await makeService(api.prisma, { min: 100, max: 500 });
      await refused({ service: other.serviceId, link: newLink(), quantity: 99 }, 'Quantity less than minimal 100');
      await refused({ service: other.serviceId, link: newLink(), quantity: 501 }, 'Quantity more than maximum 500');
    });

    it.each([['missing', undefined], ['not a number', 'lots'], ['a fraction', '1.5'], ['negative', '-5'], ['zero', '0'], ['exponent', '1e3']])(
      '"Incorrect quantity": %s',
      async (_name, quantity) => {
        await refused({ service: serviceId, link: newLink(), ...(quantity === undefined ? {} : { quantity }) }, 'Incorrect quantity');
      },
    );

    it.each([['missing', undefined], ['not a link', 'hello world'], ['ftp', 'ftp://instagram.com/x'], ['credentials', 'https://user:pw@instagram.com/x'], ['no dot in the host', 'https://localhost/x']])(
      '"Bad link": %s',
      async (_name, link) => {
        await refused({ service: serviceId, quantity: 100, ...(link === undefined ? {} : { link }) }, 'Bad link');
      },
    );

    it('R-BALANCE: "Not enough funds on balance" (the fast check)', async () => {
      await refused({ service: serviceId, link: newLink(), quantity: 9000 }, 'Not enough funds on balance');
    });

    it('drip-feed (runs, interval) on a service that does not offer it: a clear refusal, not a silently different order', async () => {
      await refused({ service: serviceId, link: newLink(), quantity: 100, runs: 5, interval: 10 }, 'drip-feed is not offered for this service');
      await refused({ service: serviceId, link: newLink(), quantity: 100, runs: '2' }, 'drip-feed is not offered for this service');
    });

    it('fields of other order types (comments, subscriptions) are named in the refusal', async () => {
      await refused({ service: serviceId, link: newLink(), comments: 'nice\ngreat' }, /^comments is not a field of Default services/);
      await refused({ service: serviceId, username: 'someone', min: 100, max: 200, posts: 5, delay: 30 }, /^username is not a field of Default services/);
      await refused({ service: serviceId, link: newLink(), quantity: 100, execute_at: '2020-01-01 10:00' }, 'execute_at must be in the future (UTC)');
    });

    it('…but a wrong service is still "Incorrect service ID"', async () => {
      await refused({ service: 999_999, link: newLink(), comments: 'x' }, 'Incorrect service ID');
    });

    it('a Custom Comments service wants its comments (one per line), not a quantity', async () => {
      const comments = await makeService(api.prisma, { type: 'custom_comments' });
      await refused({ service: comments.serviceId, link: newLink(), quantity: 100 }, 'comments is required: the comments, one per line');
    });
  });

  it('R-BALANCE: a debit the workflow refuses (funds gone meanwhile) → "Not enough funds on balance", no debit', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '2' });
    fake.beforeDebit = async () => {
      await api.ledger.withdraw({ userId, amount: '2', panelAtFault: true, idempotencyKey: `v2-drain-${userId}`, reason: 'test' });
    };
    expectV2Error(await add(key, { service: serviceId, link: newLink(), quantity: 1000 }), 'Not enough funds on balance');
    expect((await api.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toEqual([]);
  });

  it('R-ONE-ACTIVE-PER-LINK: "You have active order with this link. …", naming the order that holds it, for any spelling and any user', async () => {
    const a = await makeUser(api.prisma, { balance: '10' });
    const b = await makeUser(api.prisma, { balance: '10' });
    const link = newLink();
    const holder = await placed(a.key, { link, quantity: 100 });
    const sentence = 'You have active order with this link. Please wait until order being completed.';
    const mine = await add(a.key, { service: serviceId, link, quantity: 100 });
    expectV2Error(mine, `${sentence} Active order: ${holder}`);
    const theirs = await add(b.key, { service: serviceId, link: `${link.replace('https://', 'http://www.')}/?utm_source=x`, quantity: 100 });
    expectV2Error(theirs, `${sentence} Active order: ${holder}`);
    expect((await api.ledger.entriesOf(b.userId)).map((e) => e.kind)).toEqual(['topup']);
  });

  it('R-BLOCKED: a blocked account → "Your account is blocked: it can place no orders"', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10', status: 'blocked' });
    expectV2Error(await add(key, { service: serviceId, link: newLink(), quantity: 100 }), 'Your account is blocked: it can place no orders');
    // It can still read its balance and orders.
    expect(expectV2Answer(await v2({ key, action: 'balance' }))).toEqual({ balance: '10.00000', currency: 'USD' });
  });

  it('no answer from the workflow in time: the refusal names the order id to check before placing again', async () => {
    const { key } = await makeUser(api.prisma, { balance: '10' });
    fake.onUpdateWithStart = async () => {
      fake.onUpdateWithStart = undefined;
      throw new WorkflowUpdateRPCTimeoutOrCancelledError('Workflow update call timeout or cancelled');
    };
    const res = await add(key, { service: serviceId, link: newLink(), quantity: 100 });
    const { error } = expectV2Answer(res) as { error: string };
    const orderId = Number(/^Order (\d+) is not confirmed yet; check it with action=status&order=\1 before placing it again$/.exec(error)?.[1]);
    expect(orderId).toBeGreaterThan(0);
  });

  it('an Idempotency-Key header (not in the protocol, honoured as in the REST API): the same order once', async () => {
    const { key, userId } = await makeUser(api.prisma, { balance: '10' });
    const fields = { key, action: 'add', service: serviceId, link: newLink(), quantity: 100 };
    const first = expectV2Answer(await postForm(api.app, fields).set('Idempotency-Key', 'v2-idem')) as { order: number };
    const again = expectV2Answer(await postForm(api.app, fields).set('Idempotency-Key', 'v2-idem')) as { order: number };
    expect(again).toEqual(first);
    expect((await api.ledger.entriesOf(userId)).filter((e) => e.kind === 'order_debit')).toHaveLength(1);
    expectV2Error(await postForm(api.app, { ...fields, quantity: 200 }).set('Idempotency-Key', 'v2-idem'), 'This Idempotency-Key was already used with a different request');
    expectV2Error(await postForm(api.app, { ...fields, link: newLink() }).set('Idempotency-Key', 'has space'), 'Incorrect request');
  });
});

describe('action=status', () => {
  let alice: { key: string; userId: number };
  let bob: { key: string; userId: number };
  let aliceOrder: number;
  let partialOrder: number;
  let bobOrder: number;

  beforeAll(async () => {
    alice = await makeUser(api.prisma, { balance: '10' });
    bob = await makeUser(api.prisma, { balance: '10' });
    aliceOrder = await placed(alice.key, { quantity: 1000 });
    partialOrder = await placed(alice.key, { quantity: 1000 });
    bobOrder = await placed(bob.key, { quantity: 100 });
    // R-PARTIAL: 157 of 1000 undelivered → 1.20000 × 157 / 1000 = 0.18840 back.
    await api.orders.updateOrderMirror(partialOrder, { status: 'in_progress', startCount: 3572, remains: 500, startedAt: new Date() });
    await api.ledger.refundOrder({ orderId: partialOrder, amount: '0.18840', idempotencyKey: `order-${partialOrder}:refund`, reason: 'R-PARTIAL' });
    await api.orders.updateOrderMirror(partialOrder, { status: 'partial', remains: 157 });
  });

  it('one order: charge, start_count, status, remains, currency, all strings', async () => {
    const res = await v2({ key: alice.key, action: 'status', order: aliceOrder });
    expect(expectV2Answer(res)).toEqual({ charge: '1.20000', start_count: '0', status: 'Pending', remains: '1000', currency: 'USD' });
    expect(Object.keys(expectV2Answer(res) as object)).toEqual(['charge', 'start_count', 'status', 'remains', 'currency']);
  });

  it('R-PARTIAL: a Partial order shows what it cost after its refund, its start count and remains', async () => {
    expect(expectV2Answer(await v2({ key: alice.key, action: 'status', order: String(partialOrder) }))).toEqual({
      charge: '1.01160', start_count: '3572', status: 'Partial', remains: '157', currency: 'USD',
    });
  });

  it('a drip-feed answers `runs` and `orders` (its runs\' ids, docs/smm-api-v2.md), and each id in `orders` is one the reseller can query: the run as an order (its share of the charge less its refund), never another order\'s id', async () => {
    const feed = await placed(alice.key, { quantity: 300 }); // charged 0.36000: 0.12000 a run of 100
    const run1 = await api.prisma.orderRun.create({ data: { orderId: feed, runIndex: 1, quantity: 100, providerOrderId: '900001', status: 'completed', startCount: 40, remains: 0 } });
    const run2 = await api.prisma.orderRun.create({ data: { orderId: feed, runIndex: 2, quantity: 100, providerOrderId: '900002', status: 'partial', startCount: 140, remains: 25, refunded: '0.03000' } });
    const run3 = await api.prisma.orderRun.create({ data: { orderId: feed, runIndex: 3, quantity: 100, providerOrderId: '900003', status: 'in_progress', startCount: 215, remains: 60 } });
    const parent = expectV2Answer(await v2({ key: alice.key, action: 'status', order: feed })) as { runs: string; orders: number[] };
    expect(parent).toMatchObject({ runs: '3', orders: [run1.id, run2.id, run3.id] });
    // The ids come from the orders' own sequence: none is (or will be) an order's id.
    expect(await api.prisma.order.count({ where: { id: { in: parent.orders } } })).toBe(0);
    expect(expectV2Answer(await v2({ key: alice.key, action: 'status', order: run2.id }))).toEqual({ charge: '0.09000', start_count: '140', status: 'Partial', remains: '25', currency: 'USD' });
    const many = expectV2Answer(await v2({ key: alice.key, action: 'status', orders: parent.orders.join(',') })) as Record<string, unknown>;
    expect(many).toEqual({
      [run1.id]: { charge: '0.12000', start_count: '40', status: 'Completed', remains: '0', currency: 'USD' },
      [run2.id]: { charge: '0.09000', start_count: '140', status: 'Partial', remains: '25', currency: 'USD' },
      [run3.id]: { charge: '0.12000', start_count: '215', status: 'In progress', remains: '60', currency: 'USD' },
    });
    // Another reseller cannot read them.
    expectV2Error(await v2({ key: bob.key, action: 'status', order: run1.id }), 'Incorrect order ID');
    expect(expectV2Answer(await v2({ key: bob.key, action: 'status', orders: String(run1.id) }))).toEqual({ [run1.id]: { error: 'Incorrect order ID' } });
  });

  it.each([
    ['an unknown id', () => 99_999_999],
    ['another user\'s order', () => bobOrder],
    ['not a number', () => 'abc'],
    ['zero', () => 0],
    ['negative', () => '-1'],
  ])('"Incorrect order ID": %s', async (_name, order) => {
    expectV2Error(await v2({ key: alice.key, action: 'status', order: order() }), 'Incorrect order ID');
  });

  it('"Incorrect order ID": no order at all', async () => {
    expectV2Error(await v2({ key: alice.key, action: 'status' }), 'Incorrect order ID');
  });

  it('many orders: keyed by id, a per-item error for unknown, foreign and malformed ids, each id once', async () => {
    const res = await v2({ key: alice.key, action: 'status', orders: `${aliceOrder}, ${partialOrder},${bobOrder},99999999,abc,${aliceOrder}` });
    const body = expectV2Answer(res) as Record<string, unknown>;
    expect(body).toEqual({
      [aliceOrder]: { charge: '1.20000', start_count: '0', status: 'Pending', remains: '1000', currency: 'USD' },
      [partialOrder]: { charge: '1.01160', start_count: '3572', status: 'Partial', remains: '157', currency: 'USD' },
      [bobOrder]: { error: 'Incorrect order ID' },
      99999999: { error: 'Incorrect order ID' },
      abc: { error: 'Incorrect order ID' },
    });
    expect(body.error).toBeUndefined(); // never a top-level error beside data
  });

  it('many orders as JSON arrays and PHP arrays (orders[]=…)', async () => {
    const json = expectV2Answer(await postJson(api.app, { key: alice.key, action: 'status', orders: [aliceOrder, bobOrder] }));
    expect(Object.keys(json as object).sort()).toEqual([String(aliceOrder), String(bobOrder)].sort());
    const php = expectV2Answer(await postForm(api.app, `key=${encodeURIComponent(alice.key)}&action=status&orders%5B%5D=${aliceOrder}&orders%5B%5D=${partialOrder}`));
    expect(Object.keys(php as object).sort()).toEqual([String(aliceOrder), String(partialOrder)].sort());
  });

  it('at most 100 ids: 100 are answered, 101 are "Too many orders: at most 100 per request"', async () => {
    const ids = Array.from({ length: 99 }, (_, i) => 90_000_000 + i);
    const hundred = expectV2Answer(await v2({ key: alice.key, action: 'status', orders: [aliceOrder, ...ids].join(',') })) as Record<string, unknown>;
    expect(Object.keys(hundred)).toHaveLength(100);
    expect(hundred[aliceOrder]).toMatchObject({ status: 'Pending' });
    expectV2Error(await v2({ key: alice.key, action: 'status', orders: [aliceOrder, ...ids, 1].join(',') }), 'Too many orders: at most 100 per request');
  });

  it('a staff key acts for its own user here: another user\'s order is "Incorrect order ID" (support\'s powers are REST only)', async () => {
    const admin = await makeUser(api.prisma, { role: 'admin' });
    expectV2Error(await v2({ key: admin.key, action: 'status', order: aliceOrder }), 'Incorrect order ID');
    expect(expectV2Answer(await v2({ key: admin.key, action: 'cancel', orders: String(aliceOrder) }))).toEqual([{ order: aliceOrder, cancel: { error: 'Incorrect order ID' } }]);
  });

  it('a token like __proto__ is just a wrong id', async () => {
    const res = await v2({ key: alice.key, action: 'status', orders: `__proto__,${aliceOrder}` });
    expect(res.text).toContain('"__proto__":{"error":"Incorrect order ID"}');
  });
});

describe('action=cancel', () => {
  let alice: { key: string; userId: number };
  let bob: { key: string; userId: number };

  beforeAll(async () => {
    alice = await makeUser(api.prisma, { balance: '20' });
    bob = await makeUser(api.prisma, { balance: '10' });
  });

  it('R-CANCEL-REQUEST: [{"order":id,"cancel":1}] through the workflow\'s cancel update; the order then shows Processing', async () => {
    const order = await placed(alice.key, { quantity: 100 });
    const res = await v2({ key: alice.key, action: 'cancel', orders: String(order) });
    expect(expectV2Answer(res)).toEqual([{ order, cancel: 1 }]);
    expect(fake.calls.find((c) => c.update === 'cancel' && c.workflowId === `order-${order}`)).toMatchObject({
      args: [{ requestedBy: { kind: 'user', userId: alice.userId, apiKeyId: expect.any(Number) } }],
    });
    expect(expectV2Answer(await v2({ key: alice.key, action: 'status', order }))).toMatchObject({ status: 'Processing' });
    // R-CANCEL-REQUEST: a second request while the first is carried out is refused, with the reason.
    expect(expectV2Answer(await v2({ key: alice.key, action: 'cancel', orders: String(order) }))).toEqual([
      { order, cancel: { error: 'A cancel request is already in progress' } },
    ]);
  });

  it('R-CANCEL-STALLED: a refusal is the item\'s error with the reason; other items still answer', async () => {
    const noCancel = await makeService(api.prisma, { cancelable: false });
    const refusedOrder = await placed(alice.key, { service: noCancel.serviceId, quantity: 100 });
    const okOrder = await placed(alice.key, { quantity: 100 });
    const bobOrder = await placed(bob.key, { quantity: 100 });
    const res = await v2({ key: alice.key, action: 'cancel', orders: `${refusedOrder},${okOrder},${bobOrder},77777777,abc` });
    expect(expectV2Answer(res)).toEqual([
      { order: refusedOrder, cancel: { error: expect.stringMatching(/^This service does not support cancellation; it can be canceled if the order has not started more than 10 days after it was placed/) } },
      { order: okOrder, cancel: 1 },
      { order: bobOrder, cancel: { error: 'Incorrect order ID' } },
      { order: 77777777, cancel: { error: 'Incorrect order ID' } },
      { order: 'abc', cancel: { error: 'Incorrect order ID' } },
    ]);
    // Bob's order was not touched.
    expect(fake.calls.filter((c) => c.update === 'cancel' && c.workflowId === `order-${bobOrder}`)).toEqual([]);
  });

  it('R-NO-REFUND-DONE: a finished order whose workflow closed answers from its row: "Order is already completed"', async () => {
    const order = await placed(alice.key, { quantity: 100 });
    await api.orders.updateOrderMirror(order, { status: 'completed', remains: 0 });
    fake.close(`order-${order}`);
    expect(expectV2Answer(await v2({ key: alice.key, action: 'cancel', orders: String(order) }))).toEqual([
      { order, cancel: { error: 'Order is already completed' } },
    ]);
  });

  it('a cancel that cannot be asked now (no workflow for an open order) is that item\'s error, not the call\'s', async () => {
    const row = await api.prisma.order.create({
      data: {
        workflowId: `orphan-${Date.now()}`, userId: alice.userId, serviceId, providerId: (await api.prisma.service.findUniqueOrThrow({ where: { id: serviceId } })).providerId,
        link: newLink(), linkKey: `orphan-${Date.now()}`, quantity: 100, rate: '1.2', charge: '0.12', refillKind: 'none', status: 'pending', cancelable: true,
      },
    });
    const res = await v2({ key: alice.key, action: 'cancel', order: row.id });
    expect(expectV2Answer(res)).toEqual([{ order: row.id, cancel: { error: 'Cancel could not be requested now, try again later' } }]);
    expect(api.logs.find((l) => l.msg === 'api v2: cancel failed' && l.orderId === row.id)).toBeDefined();
  });

  it('"Incorrect order ID" without orders; "Too many orders: at most 100 per request" over 100', async () => {
    expectV2Error(await v2({ key: alice.key, action: 'cancel' }), 'Incorrect order ID');
    expectV2Error(await v2({ key: alice.key, action: 'cancel', orders: ' , ,' }), 'Incorrect order ID');
    const ids = Array.from({ length: 101 }, (_, i) => 80_000_000 + i).join(',');
    expectV2Error(await v2({ key: alice.key, action: 'cancel', orders: ids }), 'Too many orders: at most 100 per request');
  });
});

describe('action=refill and action=refill_status (the engine\'s refill desk, over the fake workflow)', () => {
  let alice: { key: string; userId: number };
  let order: number;
  let bobOrder: number;

  beforeAll(async () => {
    alice = await makeUser(api.prisma, { balance: '10' });
    order = await placed(alice.key, { quantity: 100 });
    bobOrder = await placed((await makeUser(api.prisma, { balance: '10' })).key, { quantity: 100 });
  });

  it('R-REFILL-STATUS: refill of an order not completed: the workflow\'s reason as a sentence; another user\'s order: "Incorrect order ID"', async () => {
    expectV2Error(await v2({ key: alice.key, action: 'refill', order }), 'Only a completed order can be refilled (order is pending)');
    expectV2Error(await v2({ key: alice.key, action: 'refill', order: bobOrder }), 'Incorrect order ID');
    expectV2Error(await v2({ key: alice.key, action: 'refill' }), 'Incorrect order ID');
  });

  it('refill of many orders: per-item errors in the reference\'s array shape', async () => {
    expect(expectV2Answer(await v2({ key: alice.key, action: 'refill', orders: `${order},${bobOrder}` }))).toEqual([
      { order, refill: { error: 'Only a completed order can be refilled (order is pending)' } },
      { order: bobOrder, refill: { error: 'Incorrect order ID' } },
    ]);
  });

  it('R-REFILL-SERVICE: an order of a service without refill is refused from its row, without asking the workflow', async () => {
    const noRefill = await makeService(api.prisma, {});
    await api.prisma.service.update({ where: { id: noRefill.serviceId }, data: { refillKind: 'none', refillDays: null } });
    const plain = await placed(alice.key, { quantity: 100, service: noRefill.serviceId });
    const before = fake.calls.length;
    expectV2Error(await v2({ key: alice.key, action: 'refill', order: plain }), 'This service has no refill guarantee');
    expect(fake.calls.slice(before).filter((c) => c.update === 'refill')).toEqual([]);
  });

  it('a completed order after 24 hours: {"refill": "<id>"} (a string), the refills table id; refill_status answers Pending; lists use integers', async () => {
    const done = await placed(alice.key, { quantity: 100 });
    await api.orders.updateOrderMirror(done, { status: 'completed', finishedAt: new Date(Date.now() - 2 * 24 * 3600_000) });
    const single = expectV2Answer(await v2({ key: alice.key, action: 'refill', order: done })) as { refill: string };
    expect(single).toEqual({ refill: expect.stringMatching(/^\d+$/) });
    const row = await api.prisma.refill.findFirstOrThrow({ where: { orderId: done } });
    expect(single.refill).toBe(String(row.id));
    expect(fake.calls.find((c) => c.update === 'refill' && c.workflowId === `order-${done}`)).toMatchObject({ updateId: expect.stringMatching(/^refill-v2-/) });
    expect(expectV2Answer(await v2({ key: alice.key, action: 'refill_status', refill: row.id }))).toEqual({ status: 'Pending' });
    expect(expectV2Answer(await v2({ key: alice.key, action: 'refill_status', refills: `${row.id},999999` }))).toEqual([
      { refill: row.id, status: 'Pending' },
      { refill: 999999, status: { error: 'Refill not found' } },
    ]);
    // Someone else's refill is not found.
    const bob = await makeUser(api.prisma, { balance: '1' });
    expectV2Error(await v2({ key: bob.key, action: 'refill_status', refill: row.id }), 'Refill not found');
    const multi = expectV2Answer(await v2({ key: alice.key, action: 'refill', orders: `${done},${bobOrder}` })) as Array<{ order: number; refill: unknown }>;
    expect(multi).toEqual([{ order: done, refill: expect.any(Number) }, { order: bobOrder, refill: { error: 'Incorrect order ID' } }]);
  });

  it('refill_status: "Refill not found", one or many', async () => {
    expectV2Error(await v2({ key: alice.key, action: 'refill_status', refill: 123456 }), 'Refill not found');
    expectV2Error(await v2({ key: alice.key, action: 'refill_status' }), 'Refill not found');
    expect(expectV2Answer(await v2({ key: alice.key, action: 'refill_status', refills: '123456,x' }))).toEqual([
      { refill: 123456, status: { error: 'Refill not found' } },
      { refill: 'x', status: { error: 'Refill not found' } },
    ]);
  });

  it('"Too many refills: at most 100 per request" / "Too many orders: …" over 100 ids', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
    expectV2Error(await v2({ key: alice.key, action: 'refill_status', refills: ids }), 'Too many refills: at most 100 per request');
    expectV2Error(await v2({ key: alice.key, action: 'refill', orders: ids }), 'Too many orders: at most 100 per request');
  });

  it('with a refill desk wired in (what the refill feature will pass), the success shapes: "1" single, 1 in lists', async () => {
    const desk: RefillDesk = {
      async request(_who, o) {
        return o.id === order ? { refill: 41 } : { error: 'Order not eligible for refill.' };
      },
      async status(_who, refillId) {
        return refillId === 41 ? { status: 'Completed' } : { error: 'Refill not found' };
      },
    };
    const app = express().use('/api/v2', apiV2Router({ prisma: api.prisma, temporal: fake.client, ledger: api.ledger, orders: api.orders, logger: pino({ level: 'silent' }) }, { refills: desk }));
    const own = await placed(alice.key, { quantity: 100 });
    expect(expectV2Answer(await postForm(app, { key: alice.key, action: 'refill', order }))).toEqual({ refill: '41' });
    expect(expectV2Answer(await postForm(app, { key: alice.key, action: 'refill', orders: `${order},${own},${bobOrder}` }))).toEqual([
      { order, refill: 41 },
      { order: own, refill: { error: 'Order not eligible for refill.' } },
      { order: bobOrder, refill: { error: 'Incorrect order ID' } },
    ]);
    expect(expectV2Answer(await postForm(app, { key: alice.key, action: 'refill_status', refill: '41' }))).toEqual({ status: 'Completed' });
    expect(expectV2Answer(await postForm(app, { key: alice.key, action: 'refill_status', refills: '41,42' }))).toEqual([
      { refill: 41, status: 'Completed' },
      { refill: 42, status: { error: 'Refill not found' } },
    ]);
  });
});

describe('action=balance', () => {
  it('R-BALANCE: {"balance": 5 decimals, "currency"}, moving with orders', async () => {
    const { key } = await makeUser(api.prisma, { balance: '100.84292' });
    expect(expectV2Answer(await v2({ key, action: 'balance' }))).toEqual({ balance: '100.84292', currency: 'USD' });
    await placed(key, { quantity: 1000 });
    expect(expectV2Answer(await v2({ key, action: 'balance' }))).toEqual({ balance: '99.64292', currency: 'USD' });
  });

  it('the currency is configurable (apiV2Router option; PANEL_CURRENCY in createApp)', async () => {
    const { key } = await makeUser(api.prisma, { balance: '1' });
    const app = express().use('/api/v2', apiV2Router({ prisma: api.prisma, temporal: fake.client, ledger: api.ledger, orders: api.orders, logger: pino({ level: 'silent' }) }, { currency: 'EUR' }));
    expect(expectV2Answer(await postForm(app, { key, action: 'balance' }))).toEqual({ balance: '1.00000', currency: 'EUR' });
  });
});
