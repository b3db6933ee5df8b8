// Support's powers over one order (issue 6) without a workflow: who may call them, body validation
// (400 naming field and rule), 404, and what the API itself owns: the update it sends (name, update
// id namespaced from the requestId, who, mode), the one audit record per requestId (replayed
// answers, 409 for a reused requestId, concurrent twins), a closed workflow refused from the row,
// Temporal not answering (503, nothing recorded), and R-SUBSTITUTE's catalogue check before any
// update. The real workflow's side is in support-orders-e2e.test.ts.
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import request from 'supertest';
import type { OrderRecord, OrderRecords } from '../../activities/order-records';
import type { OrderStatus } from '../../domain/order-status';
import { reserveOrderId } from '../../worker/order-client';
import { orderWorkflowId } from '../../workflows/order-contract';
import { CANCEL_REFUSED_FAILURE, SUPPORT_REFUSED_FAILURE } from '../../workflows/order-messages';
import { bearer, makeService, makeUser, startTestApi, writeCounts } from './support/api';
import type { TestApi } from './support/api';
import { orderInput } from '../db/fixtures';
import { stateOf } from './support/fake-temporal';

// ---------------------------------------------------------------- a stand-in order workflow

interface Call {
  name: string;
  workflowId: string;
  updateId?: string;
  args: unknown[];
}
type Answer = (call: Call) => Promise<unknown>;

/** A Temporal client whose order workflows answer with `fake.answer`; one answer per update id, as Temporal dedupes. */
function fakeWorkflows(orders: () => OrderRecords) {
  const calls: Call[] = [];
  const byUpdateId = new Map<string, Promise<unknown>>();
  const fake = {
    calls,
    answer: (async () => ({ accepted: true, rule: 'R-CANCEL-FULL', message: 'canceled' })) as Answer,
    client: undefined as unknown as Client,
  };
  fake.client = {
    withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
    workflow: {
      getHandle(workflowId: string) {
        return {
          async executeUpdate(def: { name: string }, options: { args: unknown[]; updateId?: string }) {
            const call = { name: def.name, workflowId, updateId: options.updateId, args: options.args };
            calls.push(call);
            const key = `${workflowId}/${options.updateId ?? Math.random()}`;
            if (!byUpdateId.has(key)) {
              // A refused or failed update leaves nothing behind: the same update id may be tried again.
              const answer = fake.answer(call);
              byUpdateId.set(key, answer);
              answer.catch(() => byUpdateId.delete(key));
            }
            return byUpdateId.get(key);
          },
          async query() {
            const order = await orders().getOrderByWorkflowId(workflowId);
            if (!order) throw new WorkflowNotFoundError('not found', workflowId, undefined);
            return stateOf(order);
          },
        };
      },
    },
  } as unknown as Client;
  return fake;
}

const refusedBy = (type: string, result: { accepted: false; rule: string; reason: string }) =>
  new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type, message: result.reason, details: [result], nonRetryable: true }));

// ---------------------------------------------------------------- setup

let api: TestApi;
let fake: ReturnType<typeof fakeWorkflows>;
let admin: { userId: number; key: string; apiKeyId: number };
let support: { userId: number; key: string; apiKeyId: number };
let customer: { userId: number; key: string; apiKeyId: number };
let catalogue: { providerId: number; serviceId: number };

beforeAll(async () => {
  api = await startTestApi({
    temporal: ({ orders }) => {
      fake = fakeWorkflows(() => orders);
      return fake.client;
    },
  });
  [admin, support, customer] = await Promise.all([
    makeUser(api.prisma, { role: 'admin' }),
    makeUser(api.prisma, { role: 'support' }),
    makeUser(api.prisma, { balance: '50' }),
  ]);
  catalogue = await makeService(api.prisma);
});
afterAll(() => api?.close());
beforeEach(() => {
  fake.calls.length = 0;
  fake.answer = async () => ({ accepted: true, rule: 'R-CANCEL-FULL', message: 'canceled' });
});
afterEach(async () => {
  await expect(api.ledger.checkInvariant()).resolves.toBe(true);
});

const post = (key: string, path: string, body: object = {}) => request(api.app).post(path).set(bearer(key)).send(body);
const auditOf = (orderId: number) => api.prisma.auditRecord.findMany({ where: { orderId }, orderBy: { id: 'asc' } });

/** An order row as the workflow's mirror would leave it (no workflow, no debit), under its workflow id `order-<id>`. */
async function makeOrder(status: OrderStatus = 'pending', patch: { remains?: number } = {}): Promise<OrderRecord> {
  const id = await reserveOrderId(api.prisma);
  const created = await api.orders.createOrder(orderInput({ userId: customer.userId, ...catalogue }, { id, workflowId: orderWorkflowId(id) }));
  if (!created.ok) throw new Error('link busy');
  if (status !== 'new') {
    await api.orders.updateOrderMirror(id, { status: 'pending', providerOrderId: `UP-${id}` });
    if (status === 'completed' || status === 'partial') await api.orders.updateOrderMirror(id, { status: 'in_progress' });
    if (status !== 'pending') await api.orders.updateOrderMirror(id, { status });
  }
  if (patch.remains !== undefined) await api.orders.updateOrderMirror(id, { remains: patch.remains });
  return (await api.orders.getOrder(id))!;
}

/** The three routes, with a body each route accepts. */
const routes = (orderId: number, serviceId: number): Array<[string, object]> => [
  [`/support/orders/${orderId}/cancel`, { refund: 'full', reason: 'customer asked support' }],
  [`/support/orders/${orderId}/move`, { serviceId, reason: 'the provider is slow' }],
  [`/support/orders/${orderId}/resolve-dispatch`, { action: 'redispatch', reason: 'the provider has nothing' }],
];

// ---------------------------------------------------------------- roles

describe('roles', () => {
  it("a user's key gets 403 on support's cancel, move, resolve-dispatch and the refill retry, even for its own order; nothing is written or sent", async () => {
    const order = await makeOrder();
    const before = { ...(await writeCounts(api.prisma)), audit: await api.prisma.auditRecord.count() };
    const paths = [...routes(order.id, catalogue.serviceId), [`/orders/${order.id}/refills/1/retry`, { reason: 'please' }] as [string, object]];
    for (const [path, body] of paths) {
      const res = await post(customer.key, path, body);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 403, 'forbidden']);
    }
    expect({ ...(await writeCounts(api.prisma)), audit: await api.prisma.auditRecord.count() }).toEqual(before);
    expect(fake.calls).toEqual([]);
  });

  it('support and admin reach each route (404 for an unknown order, after the body is checked)', async () => {
    for (const who of [support, admin]) {
      for (const [path, body] of routes(999_999, catalogue.serviceId)) {
        const res = await post(who.key, path, body);
        expect([path, res.status, res.body.error?.code]).toEqual([path, 404, 'not_found']);
      }
    }
  });
});

// ---------------------------------------------------------------- validation

describe('bodies: 400 naming the field and the rule; 404; nothing sent', () => {
  let order: OrderRecord;
  beforeAll(async () => {
    order = await makeOrder();
  });

  it.each([
    ['cancel', {}, 'refund', 'enum'],
    ['cancel', { refund: 'some', reason: 'x' }, 'refund', 'enum'],
    ['cancel', { refund: 'full' }, 'reason', 'required'],
    ['cancel', { refund: 'none', reason: '   ' }, 'reason', 'min'],
    ['cancel', { refund: 'none', reason: 'x'.repeat(501) }, 'reason', 'max'],
    ['cancel', { refund: 'full', reason: 'x', mode: 'no_refund' }, 'mode', 'unknown_field'],
    ['cancel', { refund: 'full', reason: 'x', requestId: 'has space' }, 'requestId', 'invalid_format'],
    ['move', { reason: 'x' }, 'serviceId', 'required'],
    ['move', { serviceId: 1.5, reason: 'x' }, 'serviceId', 'type'],
    ['move', { serviceId: 2 }, 'reason', 'required'],
    ['resolve-dispatch', { action: 'attach', reason: 'x' }, 'providerOrderId', 'required'],
    ['resolve-dispatch', { action: 'redispatch', providerOrderId: '5', reason: 'x' }, 'providerOrderId', 'unknown_field'],
    ['resolve-dispatch', { action: 'guess', reason: 'x' }, 'action', 'enum'],
    ['resolve-dispatch', { action: 'cancel' }, 'reason', 'required'],
  ])('%s %j → 400 %s (%s)', async (route, body, field, rule) => {
    const res = await post(support.key, `/support/orders/${order.id}/${route}`, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', field });
    if (rule !== 'invalid_format') expect(res.body.error.rule).toBe(rule);
    expect(fake.calls).toEqual([]);
  });

  it('R-CANCEL-NO-REFUND: refund "none" needs a reason (400), nothing sent, nothing recorded', async () => {
    const res = await post(support.key, `/support/orders/${order.id}/cancel`, { refund: 'none' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'reason', rule: 'required', message: 'reason: reason is required' });
    expect(fake.calls).toEqual([]);
    expect(await auditOf(order.id)).toEqual([]);
  });

  it('ids that are not ids are 404; a move to an unknown service is 422', async () => {
    for (const [path, body] of routes(0, catalogue.serviceId)) {
      expect((await post(support.key, path.replace('/0/', '/abc/'), body)).status).toBe(404);
    }
    const res = await post(support.key, `/support/orders/${order.id}/move`, { serviceId: 999_999, reason: 'faster' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'unknown_service', field: 'serviceId' });
    expect(fake.calls).toEqual([]);
  });

  it('R-REFILL-SUPPORT: a refill retry needs a reason (400)', async () => {
    const res = await post(support.key, `/orders/${order.id}/refills/1/retry`, {});
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'reason', rule: 'required' });
  });
});

// ---------------------------------------------------------------- what is sent, what is recorded

describe('the update and its one audit record', () => {
  it('support cancel: update `cancel` with mode full_refund / no_refund, support as requestedBy, the reason, a namespaced request id; 202', async () => {
    const order = await makeOrder('in_progress');
    const res = await post(support.key, `/support/orders/${order.id}/cancel`, { refund: 'full', reason: ' customer asked support ', requestId: 'c-1' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ orderId: order.id, result: { accepted: true, rule: 'R-CANCEL-FULL', message: 'canceled' }, requestId: 'c-1', replayed: false });
    expect(fake.calls).toEqual([
      {
        name: 'cancel',
        workflowId: `order-${order.id}`,
        updateId: `cancel-support-cancel:${order.id}:c-1`,
        args: [{ requestedBy: { kind: 'support', userId: support.userId, apiKeyId: support.apiKeyId }, reason: 'customer asked support', requestId: `support-cancel:${order.id}:c-1`, mode: 'full_refund' }],
      },
    ]);
    const none = await post(admin.key, `/support/orders/${order.id}/cancel`, { refund: 'none', reason: 'fraud' });
    expect(none.status).toBe(202);
    expect(none.body.requestId).toEqual(expect.any(String));
    expect((fake.calls[1].args[0] as { mode: string; requestedBy: { kind: string } })).toMatchObject({ mode: 'no_refund', requestedBy: { kind: 'admin' } });

    const records = await auditOf(order.id);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      actorUserId: support.userId,
      apiKeyId: support.apiKeyId,
      action: 'order.cancel',
      targetUserId: customer.userId,
      reason: 'customer asked support',
      requestId: `order.cancel:${order.id}:c-1`,
      before: { status: 'in_progress', serviceId: catalogue.serviceId, providerId: catalogue.providerId, providerOrderId: `UP-${order.id}`, refunded: '0.00000', remains: null },
      after: {
        request: { refund: 'full' },
        result: { accepted: true, rule: 'R-CANCEL-FULL', message: 'canceled' },
        state: { source: 'workflow', status: 'in_progress', serviceId: catalogue.serviceId, refunded: '0.00000', lastMove: null },
      },
    });
    expect(records[1]).toMatchObject({ actorUserId: admin.userId, reason: 'fraud', after: { request: { refund: 'none' } } });
  });

  it('the same requestId again is the same action: the stored answer, replayed, one record, no second update; another reason or refund → 409', async () => {
    const order = await makeOrder();
    const body = { refund: 'none', reason: 'spam link', requestId: 'same-1' };
    const first = await post(support.key, `/support/orders/${order.id}/cancel`, body);
    fake.answer = async () => ({ accepted: false, rule: 'R-CANCEL-NO-REFUND', reason: 'changed its mind' });
    const again = await post(support.key, `/support/orders/${order.id}/cancel`, body);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(fake.calls).toHaveLength(1);
    for (const other of [{ ...body, reason: 'another reason' }, { ...body, refund: 'full' }]) {
      const res = await post(support.key, `/support/orders/${order.id}/cancel`, other);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'idempotency_key_reused', field: 'requestId' });
    }
    // The same requestId on another order is another action.
    fake.answer = async () => ({ accepted: true, rule: 'R-CANCEL-NO-REFUND', message: 'canceled' });
    const other = await makeOrder();
    expect((await post(support.key, `/support/orders/${other.id}/cancel`, body)).body.replayed).toBe(false);
    expect(await auditOf(order.id)).toHaveLength(1);
  });

  it('concurrent twins with one requestId: one update id, one record, the same answer (one of them replayed)', async () => {
    const order = await makeOrder();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.answer = async () => {
      await gate;
      return { accepted: true, rule: 'R-CANCEL-FULL', message: 'canceled' };
    };
    const body = { refund: 'full', reason: 'double click', requestId: 'twin-1' };
    const both = Promise.all([1, 2, 3].map(() => post(support.key, `/support/orders/${order.id}/cancel`, body)));
    await new Promise((r) => setTimeout(r, 200));
    release();
    const answers = await both;
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.map((a) => a.body.replayed).sort()).toEqual([false, true, true]);
    for (const answer of answers) expect(answer.body.result).toEqual({ accepted: true, rule: 'R-CANCEL-FULL', message: 'canceled' });
    expect(new Set(fake.calls.map((c) => c.updateId))).toEqual(new Set([`cancel-support-cancel:${order.id}:twin-1`]));
    expect(await auditOf(order.id)).toHaveLength(1);
  });

  it("a refusal by the workflow is 409 `<action>_refused` with its rule and reason, and is recorded (the same request again replays it)", async () => {
    const order = await makeOrder();
    fake.answer = async () => {
      throw refusedBy(CANCEL_REFUSED_FAILURE, { accepted: false, rule: 'R-CANCEL-FULL', reason: 'a cancel by support is already being carried out' });
    };
    const body = { refund: 'full', reason: 'again', requestId: 'refused-1' };
    const res = await post(support.key, `/support/orders/${order.id}/cancel`, body);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: 'cancel_refused',
      message: 'a cancel by support is already being carried out',
      reason: 'a cancel by support is already being carried out',
      rule: 'R-CANCEL-FULL',
      orderId: order.id,
      requestId: 'refused-1',
      replayed: false,
    });
    const again = await post(support.key, `/support/orders/${order.id}/cancel`, body);
    expect(again.body.error).toMatchObject({ code: 'cancel_refused', replayed: true });
    const [record] = await auditOf(order.id);
    expect(record.after).toMatchObject({ result: { accepted: false, rule: 'R-CANCEL-FULL' }, state: { status: 'pending' } });
    expect((record.before as { status: string }).status).toBe('pending');

    fake.answer = async () => {
      throw refusedBy(SUPPORT_REFUSED_FAILURE, { accepted: false, rule: 'dispatch_uncertain', reason: 'the order\'s dispatch is not uncertain (it is pending)' });
    };
    const resolve = await post(support.key, `/support/orders/${order.id}/resolve-dispatch`, { action: 'attach', providerOrderId: 77, reason: 'seen in the panel' });
    expect(resolve.status).toBe(409);
    expect(resolve.body.error).toMatchObject({ code: 'resolve_refused', rule: 'dispatch_uncertain' });
    expect(fake.calls.at(-1)).toMatchObject({
      name: 'resolveDispatch',
      args: [{ action: 'attach', providerOrderId: '77', by: { kind: 'support', userId: support.userId }, reason: 'seen in the panel', requestId: expect.stringMatching(new RegExp(`^support-resolve:${order.id}:`)) }],
    });
  });

  it('a closed workflow: 409 "order is <status>" from the row, recorded', async () => {
    const order = await makeOrder('completed');
    fake.answer = async (call) => {
      throw new WorkflowNotFoundError('workflow execution already completed', call.workflowId, undefined);
    };
    const res = await post(support.key, `/support/orders/${order.id}/cancel`, { refund: 'none', reason: 'fraud' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'cancel_refused', rule: 'R-CANCEL-NO-REFUND', message: 'order is completed' });
    expect(await auditOf(order.id)).toEqual([expect.objectContaining({ action: 'order.cancel', after: expect.objectContaining({ result: { accepted: false, rule: 'R-CANCEL-NO-REFUND', reason: 'order is completed' } }) })]);
  });

  it('Temporal not answering: 503 naming the requestId, nothing recorded; the same request again goes through', async () => {
    const order = await makeOrder();
    fake.answer = async () => {
      throw new Error('deadline exceeded');
    };
    const body = { action: 'redispatch', reason: 'provider has nothing', requestId: 'flaky-1' };
    const res = await post(support.key, `/support/orders/${order.id}/resolve-dispatch`, body);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'order_action_unavailable', requestId: 'flaky-1', orderId: order.id });
    expect(await auditOf(order.id)).toEqual([]);
    fake.answer = async () => ({ accepted: true, action: 'redispatch', message: 'sent again' });
    const again = await post(support.key, `/support/orders/${order.id}/resolve-dispatch`, body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ orderId: order.id, result: { accepted: true, action: 'redispatch', message: 'sent again' }, requestId: 'flaky-1', replayed: false });
    expect(await auditOf(order.id)).toEqual([expect.objectContaining({ action: 'order.resolve_dispatch', requestId: `order.resolve_dispatch:${order.id}:flaky-1` })]);
  });
});

// ---------------------------------------------------------------- R-SUBSTITUTE before the update

describe('R-SUBSTITUTE: the catalogue check before the move update', () => {
  let similar: number;
  let otherCategory: number;
  let lessGuarantee: number;
  let small: number;
  beforeAll(async () => {
    const provider = await api.prisma.provider.create({ data: { name: 'backup', apiUrl: 'http://127.0.0.1:1/api/v2', apiKey: 'k' } });
    const base = { providerId: provider.id, providerServiceId: '7', rate: '2.00000', min: 50, max: 10000, refillKind: 'days', refillDays: 30, cancelable: false };
    similar = (await api.prisma.service.create({ data: { ...base, name: 'IG followers B', category: 'Instagram' } })).id;
    otherCategory = (await api.prisma.service.create({ data: { ...base, name: 'YT views', category: 'YouTube' } })).id;
    lessGuarantee = (await api.prisma.service.create({ data: { ...base, name: 'IG no refill', category: 'Instagram', refillKind: 'none', refillDays: null } })).id;
    small = (await api.prisma.service.create({ data: { ...base, name: 'IG small', category: 'Instagram', max: 500 } })).id;
  });

  it('a similar service: update `move` with the target as the catalogue has it, the undelivered part checked against its bounds; 202', async () => {
    const order = await makeOrder('in_progress', { remains: 400 });
    fake.answer = async (call) => ({ accepted: true, rule: 'R-SUBSTITUTE', message: 'moving', move: { requestId: (call.args[0] as { requestId: string }).requestId, phase: 'stopping' } });
    // 400 undelivered fits the small service's 50..500.
    const res = await post(support.key, `/support/orders/${order.id}/move`, { serviceId: small, reason: 'provider stalled', requestId: 'mv-1' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ orderId: order.id, result: { accepted: true, rule: 'R-SUBSTITUTE' }, requestId: 'mv-1', replayed: false });
    const service = await api.prisma.service.findUniqueOrThrow({ where: { id: small } });
    expect(fake.calls).toEqual([
      {
        name: 'move',
        workflowId: `order-${order.id}`,
        updateId: `move-support-move:${order.id}:mv-1`,
        args: [{ target: { serviceId: small, providerId: service.providerId, providerServiceId: '7', min: 50, max: 500 }, requestedBy: { kind: 'support', userId: support.userId, apiKeyId: support.apiKeyId }, reason: 'provider stalled', requestId: `support-move:${order.id}:mv-1` }],
      },
    ]);
    expect(await auditOf(order.id)).toEqual([expect.objectContaining({ action: 'order.move', reason: 'provider stalled', after: expect.objectContaining({ request: { serviceId: small } }) })]);
    expect((await post(support.key, `/support/orders/${order.id}/move`, { serviceId: similar, reason: 'provider stalled', requestId: 'mv-1' })).status).toBe(409);
  });

  it.each([
    ['another category', () => otherCategory, 'pending', /is not similar/],
    ['a shorter guarantee', () => lessGuarantee, 'pending', /guarantees less than the order was sold with/],
    ['bounds the undelivered 1000 does not fit', () => small, 'pending', /the undelivered 1000 is outside/],
    ['the service it is on', () => catalogue.serviceId, 'pending', /already on this service/],
    ['a final order', () => similar, 'completed', /the order is completed/],
    ['an uncertain dispatch', () => similar, 'dispatch_uncertain', /resolve it first/],
  ] as const)('refused, 409 move_refused R-SUBSTITUTE, no update sent, recorded: %s', async (_what, target, status, reason) => {
    const order = await makeOrder(status as OrderStatus);
    const res = await post(support.key, `/support/orders/${order.id}/move`, { serviceId: target(), reason: 'try another' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'move_refused', rule: 'R-SUBSTITUTE', message: expect.stringMatching(reason) });
    expect(fake.calls).toEqual([]);
    expect(await auditOf(order.id)).toEqual([expect.objectContaining({ action: 'order.move', after: expect.objectContaining({ result: expect.objectContaining({ accepted: false, rule: 'R-SUBSTITUTE' }) }) })]);
  });
});

// ---------------------------------------------------------------- refill retry

describe('R-REFILL-SUPPORT: the refill retry writes one refill.retry record per requestId', () => {
  it('records who, why, the refill before and the answer after; the same requestId again replays it without a second update', async () => {
    const order = await makeOrder('completed');
    const refill = await api.prisma.refill.create({
      data: { orderId: order.id, requestId: 'r-1', requestedBy: { kind: 'user', userId: customer.userId }, sendAttempt: 1, status: 'rejected', reason: 'the provider rejected the refill' },
    });
    const now = Date.now();
    const record = { refillId: refill.id, requestId: 'r-1', requestedBy: { kind: 'user', userId: customer.userId }, status: 'pending', providerRefillId: 'PR-2', reason: null, attempts: 2, counts: null, requestedAt: now, updatedAt: now, completedAt: null };
    fake.answer = async () => ({ accepted: true, refill: record });
    const path = `/orders/${order.id}/refills/${refill.id}/retry`;
    const first = await post(support.key, path, { reason: 'customer wrote to support', requestId: 'retry-1' });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ orderId: order.id, refill: { id: refill.id, status: 'pending', attempts: 2 }, requestId: 'retry-1', replayed: false });
    expect(fake.calls).toEqual([
      expect.objectContaining({ name: 'retryRefill', args: [{ refillId: refill.id, requestedBy: { kind: 'support', userId: support.userId, apiKeyId: support.apiKeyId }, reason: 'customer wrote to support', requestId: `support-retry:${order.id}:retry-1` }] }),
    ]);
    const again = await post(support.key, path, { reason: 'customer wrote to support', requestId: 'retry-1' });
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(fake.calls).toHaveLength(1);
    expect((await post(support.key, path, { reason: 'another', requestId: 'retry-1' })).status).toBe(409);
    expect(await auditOf(order.id)).toEqual([
      expect.objectContaining({
        action: 'refill.retry',
        actorUserId: support.userId,
        apiKeyId: support.apiKeyId,
        reason: 'customer wrote to support',
        requestId: `refill.retry:${order.id}:retry-1`,
        before: { orderStatus: 'completed', refill: { id: refill.id, status: 'rejected', attempts: 1, reason: 'the provider rejected the refill', providerRefillId: null } },
        after: expect.objectContaining({ request: { refillId: refill.id }, result: expect.objectContaining({ accepted: true }) }),
      }),
    ]);
  });
});
