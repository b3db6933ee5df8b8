// Support's block through the whole engine (test/support/engine.ts): the real order workflow and
// worker on the in-memory Temporal server, the provider simulator over HTTP, a private database.
// R-CHARGEBACK: the account is blocked and its active orders get support's cancel update, as the
// terms allow; R-BLOCKED: no placement afterwards, through the API or straight to the workflow.
import type { Server } from 'node:http';
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

async function keyFor(userId: number, role: Role = 'user'): Promise<{ key: string; apiKeyId: number }> {
  const { key, keyHash, keyPrefix } = generateApiKey();
  const row = await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role } });
  return { key, apiKeyId: row.id };
}

beforeAll(async () => {
  engine = await startTestEngine();
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  server = createApp({ ...engine.deps, logger }).listen(0);
});
afterEach(async () => {
  await expect(engine.deps.ledger.checkInvariant()).resolves.toBe(true);
});
afterAll(async () => {
  try {
    if (engine) expect(await engine.replayAll()).toBeGreaterThan(0);
  } finally {
    await new Promise((resolve) => server?.close(resolve));
    await engine?.shutdown();
  }
});

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

describe('block after a chargeback (R-CHARGEBACK, R-BLOCKED), end to end', () => {
  let staff: { userId: number; key: string; apiKeyId: number };
  let customer: number;
  let customerKey: string;
  let cancelable: number;
  let started: number;
  let completed: number;
  let blockAnswer: request.Response;
  const block = () =>
    request(server)
      .post(`/support/users/${customer}/block`)
      .set(bearer(staff.key))
      .send({ reason: 'chargeback at the payment system, case 4411', requestId: 'e2e-block-1' });

  beforeAll(async () => {
    const staffUser = await engine.newUser();
    staff = { userId: staffUser, ...(await keyFor(staffUser, 'support')) };
    customer = await engine.newUser('10');
    customerKey = (await keyFor(customer)).key;
    const place = async (serviceId: number) => {
      const placed = await engine.placeOrder({ userId: customer, serviceId });
      await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
      return placed.orderId;
    };
    // Cancelable, dispatched, not started: the provider is asked to cancel.
    cancelable = await place(engine.seed.serviceIds.followers);
    // Started, on a service without cancel: the terms refuse (R-CANCEL-STALLED).
    started = await place(engine.seed.serviceIds.followersNoCancel);
    await engine.providerUpdate(started, { status: 'in_progress', startCount: 100, remains: 1000 });
    await engine.waitForState(started, (s) => s.status === 'in_progress');
    // Finished: not an active order, nothing to cancel.
    completed = await place(engine.seed.serviceIds.likes);
    await engine.providerUpdate(completed, { status: 'completed', startCount: 5, remains: 0 });
    await engine.handle(completed).result();
    blockAnswer = await block();
  });

  it('blocks the account and sends each active order support\'s cancel; a refusal is reported for its order', async () => {
    expect(blockAnswer.status).toBe(200);
    expect(blockAnswer.body).toMatchObject({ user: { id: customer, status: 'blocked' }, rule: 'R-BLOCKED', requestId: 'e2e-block-1', replayed: false });
    expect(blockAnswer.body.cancels).toEqual([
      { orderId: cancelable, accepted: true, rule: 'R-CANCEL-REQUEST', message: 'the provider was asked to cancel; the refund follows its answer', replayed: false },
      { orderId: started, accepted: false, rule: 'R-CANCEL-STALLED', reason: 'this service does not support cancellation and the order has already started', replayed: false },
    ]);
    // The cancel stands in the order's workflow as support's, with the key and the reason.
    const state = await engine.state(cancelable);
    expect(state).toMatchObject({ flags: { cancelRequested: true }, lastCancel: { accepted: true, rule: 'R-CANCEL-REQUEST' } });
    expect(state.lastCancel!.requestedBy).toEqual({ kind: 'support', userId: staff.userId, apiKeyId: staff.apiKeyId });
    expect(state.lastCancel!.requestId).toBe(`support-block:${customer}:e2e-block-1`);
    expect(engine.simulator.state.calls('cancel').length).toBeGreaterThanOrEqual(1);
    expect(await engine.state(started)).toMatchObject({ status: 'in_progress', flags: { cancelRequested: false } });
  });

  it('writes one user.block record and one order.cancel record per active order, each with who, key, why, before and after', async () => {
    // The cancels run concurrently: their records come in either order.
    const records = await engine.prisma.auditRecord.findMany({ where: { targetUserId: customer }, orderBy: [{ action: 'desc' }, { orderId: 'asc' }] });
    const who = { actorUserId: staff.userId, apiKeyId: staff.apiKeyId, reason: 'chargeback at the payment system, case 4411' };
    expect(records).toEqual([
      expect.objectContaining({ ...who, action: 'user.block', orderId: null, before: { status: 'active' }, after: { status: 'blocked', activeOrders: [cancelable, started] } }),
      expect.objectContaining({
        ...who,
        action: 'order.cancel',
        orderId: cancelable,
        before: { status: 'pending', cancelRequested: false },
        after: expect.objectContaining({ accepted: true, rule: 'R-CANCEL-REQUEST' }),
      }),
      expect.objectContaining({
        ...who,
        action: 'order.cancel',
        orderId: started,
        before: { status: 'in_progress', cancelRequested: false },
        after: expect.objectContaining({ accepted: false, rule: 'R-CANCEL-STALLED' }),
      }),
    ]);
  });

  it('a retried block (same requestId) is the same action: same answers, no new record, the provider not asked again', async () => {
    const auditBefore = await engine.prisma.auditRecord.count();
    const cancelCalls = engine.simulator.state.calls('cancel').length;
    const again = await block();
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.body.cancels).toEqual(blockAnswer.body.cancels.map((c: object) => ({ ...c, replayed: true })));
    expect(await engine.prisma.auditRecord.count()).toBe(auditBefore);
    expect(engine.simulator.state.calls('cancel')).toHaveLength(cancelCalls);
  });

  it('R-BLOCKED: the API refuses a placement (403), and so does the workflow when reached directly; nothing is debited', async () => {
    const balance = await engine.deps.ledger.balanceOf(customer);
    const res = await request(server)
      .post('/orders')
      .set(bearer(customerKey))
      .send({ service: engine.seed.serviceIds.likes, link: engine.uniqueLink(), quantity: 100 });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'user_blocked', rule: 'R-BLOCKED' });
    const direct = await engine.placeOrder({ userId: customer, serviceId: engine.seed.serviceIds.likes, quantity: 100 });
    expect(direct.result).toMatchObject({ accepted: false, code: 'user_blocked' });
    expect(await engine.deps.ledger.balanceOf(customer)).toBe(balance);
  });

  it('R-CANCEL-FULL: the provider confirms the cancel → canceled with a full refund to the blocked account', async () => {
    await engine.providerUpdate(cancelable, { status: 'canceled', startCount: null, remains: 1000 });
    const final = await engine.handle(cancelable).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.90000' });
    await engine.history(cancelable);
    // 10 - 0.90 (canceled, refunded) - 0.45 (started) - 0.12 (completed) + 0.90 refund
    expect(await engine.deps.ledger.balanceOf(customer)).toBe('9.43000');
    const found = await request(server).get(`/support/orders?userId=${customer}&status=canceled`).set(bearer(staff.key));
    expect(found.body.orders.map((o: { id: number }) => o.id)).toEqual([cancelable]);
  });

  it('unblock: the account places orders again', async () => {
    const res = await request(server).post(`/support/users/${customer}/unblock`).set(bearer(staff.key)).send({ reason: 'dispute lost by the customer' });
    expect(res.status).toBe(200);
    expect(res.body.user.status).toBe('active');
    const placed = await request(server)
      .post('/orders')
      .set(bearer(customerKey))
      .send({ service: engine.seed.serviceIds.likes, link: engine.uniqueLink(), quantity: 100 });
    expect(placed.status).toBe(201);
    await engine.history(placed.body.order.id);
    // Finish the started order so its workflow closes too.
    await engine.providerUpdate(started, { status: 'completed', startCount: 100, remains: 0 });
    await engine.handle(started).result();
    await engine.history(started);
  });
});
