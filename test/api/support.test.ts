// Support's powers without a workflow (issue 6): who may call what (user, support, admin), the
// order search by each filter, the audit trail and its listing, blocking and unblocking an account
// (R-CHARGEBACK, R-BLOCKED), manual balance corrections. Blocks that cancel orders through the real
// workflow are in support-e2e.test.ts. The money invariant holds after every test.
import request from 'supertest';
import type { OrderRecord } from '../../activities/order-records';
import { bearer, makeService, makeUser, startTestApi, writeCounts } from './support/api';
import type { TestApi } from './support/api';

let api: TestApi;
let admin: { userId: number; key: string; apiKeyId: number };
let support: { userId: number; key: string; apiKeyId: number };
let customer: { userId: number; key: string; apiKeyId: number };
let catalogue: { providerId: number; serviceId: number };

beforeAll(async () => {
  api = await startTestApi();
  admin = await makeUser(api.prisma, { role: 'admin', name: 'admin' });
  support = await makeUser(api.prisma, { role: 'support', name: 'support' });
  customer = await makeUser(api.prisma, { name: 'customer', balance: '50' });
  catalogue = await makeService(api.prisma);
});
afterAll(async () => {
  await api?.close();
});
afterEach(async () => {
  // The money invariant: every balance is the sum of its ledger entries.
  await expect(api.ledger.checkInvariant()).resolves.toBe(true);
});

const get = (key: string, path: string) => request(api.app).get(path).set(bearer(key));
const post = (key: string, path: string, body: object = {}, headers: Record<string, string> = {}) =>
  request(api.app).post(path).set(bearer(key)).set(headers).send(body);
const auditCount = (where: Parameters<TestApi['prisma']['auditRecord']['count']>[0] = {}) => api.prisma.auditRecord.count(where);

let linkSeq = 0;
/** An order row as the workflow's mirror would leave it (no workflow, no debit). */
async function makeOrder(
  userId: number,
  patch: Parameters<TestApi['orders']['updateOrderMirror']>[1] = {},
  link = `https://www.instagram.com/support-${++linkSeq}/`,
): Promise<OrderRecord> {
  const created = await api.orders.createOrder({
    workflowId: `order-test-${Date.now()}-${++linkSeq}`,
    userId,
    serviceId: catalogue.serviceId,
    providerId: catalogue.providerId,
    link,
    linkKey: link.replace('://www.', '://').replace(/\/$/, ''),
    quantity: 100,
    rate: '1.20000',
    charge: '0.12000',
    refillKind: 'days',
    refillDays: 30,
    cancelable: true,
  });
  if (!created.ok) throw new Error('link busy');
  const { status, ...rest } = patch;
  if (status && status !== 'new') {
    if (status !== 'pending' && status !== 'rejected') await api.orders.updateOrderMirror(created.order.id, { status: 'pending' });
    await api.orders.updateOrderMirror(created.order.id, { status });
  }
  if (Object.keys(rest).length > 0) await api.orders.updateOrderMirror(created.order.id, rest);
  return (await api.orders.getOrder(created.order.id))!;
}

describe('roles: user, support, admin', () => {
  const supportRoutes = (userId: number): Array<[string, string, object?]> => [
    ['GET', '/support/orders'],
    ['GET', `/support/orders?userId=${userId}`],
    ['GET', `/support/users/${userId}`],
    ['POST', `/support/users/${userId}/block`, { reason: 'chargeback' }],
    ['POST', `/support/users/${userId}/unblock`, { reason: 'resolved' }],
  ];
  const adminOnlyRoutes = (userId: number): Array<[string, string, object?]> => [
    ['POST', '/admin/users', { name: 'New admin' }],
    ['GET', `/admin/users/${userId}`],
    ['POST', `/admin/users/${userId}/api-keys`, { role: 'admin' }],
    ['POST', `/admin/users/${userId}/api-keys`, { role: 'support' }],
    ['POST', `/admin/users/${userId}/top-ups`, { amount: '10', paymentReference: 'pay-role-test' }],
    ['POST', `/admin/users/${userId}/corrections`, { amount: '10', reason: 'goodwill' }],
    ['POST', `/admin/users/${userId}/withdrawals`, { amount: '1', panelAtFault: true, reason: 'r' }],
    ['POST', `/admin/users/${userId}/chargebacks`, { amount: '1', reason: 'r' }],
    ['GET', '/admin/audit'],
    ['GET', '/admin/providers'],
    ['POST', '/admin/services', { name: 'x' }],
  ];
  const call = (key: string, [method, path, body]: [string, string, object?]) =>
    method === 'GET' ? get(key, path) : post(key, path, body ?? {});

  it("a user's key gets 403 on every support and admin route, and nothing is written", async () => {
    const target = await makeUser(api.prisma, { balance: '5' });
    const before = { ...(await writeCounts(api.prisma)), audit: await auditCount() };
    for (const route of [...supportRoutes(target.userId), ...adminOnlyRoutes(target.userId)]) {
      const res = await call(customer.key, route);
      expect([route, res.status, res.body.error?.code]).toEqual([route, 403, 'forbidden']);
    }
    expect({ ...(await writeCounts(api.prisma)), audit: await auditCount() }).toEqual(before);
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: target.userId } })).status).toBe('active');
  });

  it('support gets 403 on admin-only routes: no admin (or any key) creation, no top-up, no correction, no audit listing', async () => {
    const target = await makeUser(api.prisma, { balance: '5' });
    const before = { ...(await writeCounts(api.prisma)), audit: await auditCount() };
    for (const route of adminOnlyRoutes(target.userId)) {
      const res = await call(support.key, route);
      expect([route, res.status, res.body.error?.message]).toEqual([route, 403, 'this endpoint needs role admin']);
    }
    expect({ ...(await writeCounts(api.prisma)), audit: await auditCount() }).toEqual(before);
    expect(await api.ledger.balanceOf(target.userId)).toBe('5.00000');
  });

  it('support and admin may call every support route', async () => {
    for (const who of [support, admin]) {
      const target = await makeUser(api.prisma);
      for (const route of supportRoutes(target.userId)) {
        const res = await call(who.key, route);
        expect([route, res.status]).toEqual([route, 200]);
      }
    }
  });

  it('support may not block or unblock a staff account; an admin may', async () => {
    const colleague = await makeUser(api.prisma, { role: 'support' });
    const res = await post(support.key, `/support/users/${colleague.userId}/block`, { reason: 'test' });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe('only an admin can block or unblock a staff account');
    expect((await post(support.key, `/support/users/${admin.userId}/block`, { reason: 'test' })).status).toBe(403);
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: colleague.userId } })).status).toBe('active');
    const byAdmin = await post(admin.key, `/support/users/${colleague.userId}/block`, { reason: 'left the company' });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.user.status).toBe('blocked');
    expect((await post(admin.key, `/support/users/${colleague.userId}/unblock`, { reason: 'back' })).body.user.status).toBe('active');
  });
});

describe('GET /support/orders: search by each filter', () => {
  let alice: number;
  let bob: number;
  let o: Record<string, OrderRecord>;

  beforeAll(async () => {
    alice = (await makeUser(api.prisma)).userId;
    bob = (await makeUser(api.prisma)).userId;
    o = {
      pending: await makeOrder(alice, { status: 'pending', providerOrderId: 'UP-1001' }),
      overdue: await makeOrder(alice, { status: 'pending', overdue: true, providerOrderId: 'UP-1002' }),
      stalled: await makeOrder(alice, { status: 'pending', overdue: true, stalled: true }),
      uncertain: await makeOrder(alice, { status: 'dispatch_uncertain' }),
      canceling: await makeOrder(bob, { status: 'in_progress', cancelRequested: true, providerOrderId: 'UP-1003' }),
      completed: await makeOrder(bob, { status: 'completed', providerOrderId: 'UP-1004' }),
      rejected: await makeOrder(bob, { status: 'rejected', rejectReason: 'insufficient funds' }),
    };
    // Creation times a second apart, so the time filters have clear cuts.
    const t0 = Date.now() - 60_000;
    for (const [i, name] of ['pending', 'overdue', 'stalled', 'uncertain'].entries()) {
      await api.prisma.order.update({ where: { id: o[name].id }, data: { createdAt: new Date(t0 + i * 1000) } });
      o[name] = (await api.orders.getOrder(o[name].id))!;
    }
    await api.prisma.refill.create({
      data: { orderId: o.completed.id, requestedBy: { kind: 'user', userId: bob }, requestId: 'refill-1', status: 'failed', reason: 'provider refused' },
    });
  });

  const ids = async (query: string, key = support.key) => {
    const res = await get(key, `/support/orders?${query}`);
    expect([query, res.status]).toEqual([query, 200]);
    return (res.body.orders as Array<{ id: number }>).map((x) => x.id);
  };
  const mine = (query: string) => ids(`userId=${alice}&${query}`);

  it('by id (one or several), userId (every status by default, rejected included)', async () => {
    expect(await ids(`id=${o.overdue.id}`)).toEqual([o.overdue.id]);
    expect(await ids(`id=${o.pending.id},${o.completed.id}`)).toEqual([o.completed.id, o.pending.id]);
    expect(await ids(`id=${o.pending.id}&id=${o.uncertain.id}`)).toEqual([o.uncertain.id, o.pending.id]);
    expect(await ids(`id=999999`)).toEqual([]);
    expect(await ids(`userId=${alice}`)).toEqual([o.uncertain.id, o.stalled.id, o.overdue.id, o.pending.id]);
    expect(await ids(`userId=${bob}`)).toEqual([o.rejected.id, o.completed.id, o.canceling.id]);
  });

  it('by link, as stored or in any spelling that normalises the same (R-ONE-ACTIVE-PER-LINK)', async () => {
    expect(await ids(`link=${encodeURIComponent(o.stalled.link)}`)).toEqual([o.stalled.id]);
    const spelled = o.stalled.link.replace('https://www.', 'http://').replace(/\/$/, '?utm_source=ig');
    expect(await ids(`link=${encodeURIComponent(spelled)}`)).toEqual([o.stalled.id]);
    expect(await ids(`link=${encodeURIComponent('instagram.com/nobody-ordered-this')}`)).toEqual([]);
  });

  it('by status, one or several', async () => {
    expect(await mine('status=pending')).toEqual([o.stalled.id, o.overdue.id, o.pending.id]);
    expect(await ids(`userId=${bob}&status=rejected,completed`)).toEqual([o.rejected.id, o.completed.id]);
    expect(await ids(`userId=${bob}&status=in_progress&status=completed`)).toEqual([o.completed.id, o.canceling.id]);
  });

  it("by provider and by the provider's order id", async () => {
    expect(await ids(`providerId=${catalogue.providerId}&userId=${bob}`)).toEqual([o.rejected.id, o.completed.id, o.canceling.id]);
    expect(await ids(`providerId=${catalogue.providerId + 1000}`)).toEqual([]);
    expect(await ids('providerOrderId=UP-1003')).toEqual([o.canceling.id]);
    expect(await ids('providerOrderId=UP-9999')).toEqual([]);
  });

  it('by flag: overdue, stalled, dispatch_uncertain, cancel_requested, refill_failed; several flags must all hold', async () => {
    expect(await mine('flag=overdue')).toEqual([o.stalled.id, o.overdue.id]);
    expect(await mine('flag=stalled')).toEqual([o.stalled.id]);
    expect(await mine('flag=overdue,stalled')).toEqual([o.stalled.id]);
    expect(await mine('flag=dispatch_uncertain')).toEqual([o.uncertain.id]);
    expect(await ids(`userId=${bob}&flag=cancel_requested`)).toEqual([o.canceling.id]);
    expect(await ids(`userId=${bob}&flag=refill_failed`)).toEqual([o.completed.id]);
    expect(await mine('flag=refill_failed')).toEqual([]);
  });

  it('by creation time (createdBefore exclusive, createdAfter exclusive)', async () => {
    const cut = new Date(Date.parse(o.stalled.createdAt)).toISOString();
    expect(await mine(`createdAfter=${encodeURIComponent(cut)}`)).toEqual([o.uncertain.id]);
    expect(await mine(`createdBefore=${encodeURIComponent(cut)}`)).toEqual([o.overdue.id, o.pending.id]);
    expect(await mine('createdBefore=2000-01-01')).toEqual([]);
  });

  it('pages with the keyset cursor, newest first', async () => {
    const seen: number[] = [];
    let cursor: number | null = null;
    do {
      const res = await get(support.key, `/support/orders?userId=${alice}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.orders.map((x: { id: number }) => x.id));
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([o.uncertain.id, o.stalled.id, o.overdue.id, o.pending.id]);
  });

  it('answers staff views (provider and its order id) to support and admin alike', async () => {
    const res = await get(admin.key, `/support/orders?id=${o.canceling.id}`);
    expect(res.body.orders[0]).toMatchObject({
      id: o.canceling.id,
      userId: bob,
      status: 'in_progress',
      apiStatus: 'Processing',
      providerId: catalogue.providerId,
      providerOrderId: 'UP-1003',
      flags: { overdue: false, stalled: false, cancelRequested: true },
    });
  });

  it('refuses unknown filters and bad values with 400 naming the field', async () => {
    const bad = async (query: string, field: string, rule: string) => {
      const res = await get(support.key, `/support/orders?${query}`);
      expect([query, res.status, res.body.error.field, res.body.error.rule]).toEqual([query, 400, field, rule]);
    };
    await bad('flag=refunded', 'query.flag.0', 'enum');
    await bad('status=lost', 'query.status.0', 'enum');
    await bad('id=abc', 'query.id.0', 'type');
    await bad('limit=5000', 'query.limit', 'max');
    await bad('createdAfter=yesterday', 'query.createdAfter', 'format');
    await bad('owner=1', 'query.owner', 'unknown_field');
  });
});

describe('blocking and unblocking an account (R-CHARGEBACK, R-BLOCKED)', () => {
  it('blocks with a reason: status blocked, one audit record with who, key, why, before and after', async () => {
    const target = await makeUser(api.prisma, { balance: '10' });
    const res = await post(support.key, `/support/users/${target.userId}/block`, { reason: 'chargeback #77', requestId: 'blk-1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { id: target.userId, status: 'blocked' }, rule: 'R-BLOCKED', requestId: 'blk-1', replayed: false, cancels: [] });
    const records = await api.prisma.auditRecord.findMany({ where: { targetUserId: target.userId } });
    expect(records).toEqual([
      expect.objectContaining({
        action: 'user.block',
        actorUserId: support.userId,
        apiKeyId: support.apiKeyId,
        reason: 'chargeback #77',
        before: { status: 'active' },
        after: { status: 'blocked', activeOrders: [] },
        requestId: `user.block:${target.userId}:blk-1`,
        createdAt: expect.any(Date),
      }),
    ]);
  });

  it('a blocked user can place no orders: REST 403 R-BLOCKED and API v2 "Your account is blocked", nothing written', async () => {
    const target = await makeUser(api.prisma, { balance: '10' });
    await post(support.key, `/support/users/${target.userId}/block`, { reason: 'chargeback' });
    const before = await writeCounts(api.prisma);
    const rest = await post(target.key, '/orders', { service: catalogue.serviceId, link: 'https://instagram.com/blocked-one', quantity: 100 });
    expect(rest.status).toBe(403);
    expect(rest.body.error).toMatchObject({ code: 'user_blocked', rule: 'R-BLOCKED' });
    const v2 = await request(api.app)
      .post('/api/v2')
      .type('form')
      .send({ key: target.key, action: 'add', service: String(catalogue.serviceId), link: 'https://instagram.com/blocked-one', quantity: '100' });
    expect(v2.body).toEqual({ error: 'Your account is blocked: it can place no orders' });
    expect(await writeCounts(api.prisma)).toEqual(before);
    expect(await api.ledger.balanceOf(target.userId)).toBe('10.00000');
  });

  it('a retried block (same requestId) is one action: one status change, one audit record, the first answer', async () => {
    const target = await makeUser(api.prisma);
    const body = { reason: 'chargeback #78', requestId: 'blk-retry' };
    const first = await post(support.key, `/support/users/${target.userId}/block`, body);
    const again = await post(support.key, `/support/users/${target.userId}/block`, body);
    expect(first.body.replayed).toBe(false);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ replayed: true, user: { status: 'blocked' }, cancels: [] });
    expect(await auditCount({ where: { targetUserId: target.userId } })).toBe(1);
    // The same requestId with another reason is another request: refused, nothing written.
    const other = await post(support.key, `/support/users/${target.userId}/block`, { ...body, reason: 'something else' });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_key_reused', field: 'requestId' });
    expect(await auditCount({ where: { targetUserId: target.userId } })).toBe(1);
  });

  it('concurrent twins with one requestId write one record', async () => {
    const target = await makeUser(api.prisma);
    const body = { reason: 'chargeback #79', requestId: 'blk-twins' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(admin.key, `/support/users/${target.userId}/block`, body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.filter((a) => a.body.replayed === false)).toHaveLength(1);
    expect(await auditCount({ where: { targetUserId: target.userId, action: 'user.block' } })).toBe(1);
  });

  it('without a requestId every block is its own action (its own record)', async () => {
    const target = await makeUser(api.prisma);
    await post(support.key, `/support/users/${target.userId}/block`, { reason: 'first' });
    const second = await post(support.key, `/support/users/${target.userId}/block`, { reason: 'second look' });
    expect(second.body.replayed).toBe(false);
    const records = await api.prisma.auditRecord.findMany({ where: { targetUserId: target.userId }, orderBy: { id: 'asc' } });
    expect(records.map((r) => [r.reason, r.before, r.after])).toEqual([
      ['first', { status: 'active' }, { status: 'blocked', activeOrders: [] }],
      ['second look', { status: 'blocked' }, { status: 'blocked', activeOrders: [] }],
    ]);
  });

  it('a block lists the active orders; when Temporal cannot take a cancel, that order is reported (not an error) and no cancel is audited', async () => {
    const target = await makeUser(api.prisma);
    const active = await makeOrder(target.userId, { status: 'pending' });
    const done = await makeOrder(target.userId, { status: 'completed' });
    const res = await post(support.key, `/support/users/${target.userId}/block`, { reason: 'chargeback', requestId: 'blk-no-temporal' });
    expect(res.status).toBe(200);
    expect(res.body.user.status).toBe('blocked');
    expect(res.body.cancels).toEqual([
      { orderId: active.id, accepted: false, code: 'cancel_unavailable', reason: expect.stringContaining('same requestId'), replayed: false },
    ]);
    const block = await api.prisma.auditRecord.findFirstOrThrow({ where: { targetUserId: target.userId, action: 'user.block' } });
    expect(block.after).toEqual({ status: 'blocked', activeOrders: [active.id] });
    expect(await auditCount({ where: { action: 'order.cancel', orderId: { in: [active.id, done.id] } } })).toBe(0);
    expect(api.logs.some((l) => l.msg === 'block: cancel could not be requested' && l.orderId === active.id)).toBe(true);
  });

  it('unblocks with a reason (audited once per requestId); the user can order again', async () => {
    const target = await makeUser(api.prisma);
    const place = () => post(target.key, '/orders', { service: catalogue.serviceId, link: 'https://instagram.com/unblocked', quantity: 100 });
    await post(support.key, `/support/users/${target.userId}/block`, { reason: 'chargeback' });
    expect((await place()).body.error.code).toBe('user_blocked');
    const body = { reason: 'dispute withdrawn', requestId: 'unblk-1' };
    const res = await post(support.key, `/support/users/${target.userId}/unblock`, body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { status: 'active' }, replayed: false, changed: true });
    expect((await post(support.key, `/support/users/${target.userId}/unblock`, body)).body).toMatchObject({ replayed: true, changed: true });
    const records = await api.prisma.auditRecord.findMany({ where: { targetUserId: target.userId, action: 'user.unblock' } });
    expect(records).toEqual([
      expect.objectContaining({ actorUserId: support.userId, apiKeyId: support.apiKeyId, reason: 'dispute withdrawn', before: { status: 'blocked' }, after: { status: 'active' } }),
    ]);
    // Unblocked: the placement's R-BLOCKED check passes; the next check (R-BALANCE, an empty balance) answers now.
    const again = await place();
    expect([again.status, again.body.error.rule]).toEqual([402, 'R-BALANCE']);
    // An active user unblocked again: nothing changes, still one record for that request.
    const noop = await post(support.key, `/support/users/${target.userId}/unblock`, { reason: 'double check' });
    expect(noop.body).toMatchObject({ changed: false, user: { status: 'active' } });
  });

  it('a reason is required; unknown user → 404; bad ids → 404', async () => {
    const target = await makeUser(api.prisma);
    for (const body of [{}, { reason: '' }, { reason: '   ' }]) {
      const res = await post(support.key, `/support/users/${target.userId}/block`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe('reason');
    }
    expect((await post(support.key, `/support/users/${target.userId}/block`, { reason: 'x', extra: 1 })).body.error.rule).toBe('unknown_field');
    expect((await post(support.key, '/support/users/999999/block', { reason: 'x' })).status).toBe(404);
    expect((await post(support.key, '/support/users/abc/unblock', { reason: 'x' })).status).toBe(404);
    expect((await get(support.key, '/support/users/999999')).status).toBe(404);
    expect((await api.prisma.user.findUniqueOrThrow({ where: { id: target.userId } })).status).toBe('active');
    expect(await auditCount({ where: { targetUserId: target.userId } })).toBe(0);
  });
});

describe('manual balance corrections (admin only)', () => {
  it('credits or debits with a reason: one correction entry, one audit record with balance before and after', async () => {
    const target = await makeUser(api.prisma, { balance: '10' });
    const plus = await post(admin.key, `/admin/users/${target.userId}/corrections`, { amount: '2.5', reason: 'refund missed by the provider' });
    expect(plus.status).toBe(201);
    expect(plus.body).toMatchObject({ entry: { kind: 'correction', amount: '2.50000', reason: 'refund missed by the provider', balanceAfter: '12.50000' }, balance: '12.50000' });
    const minus = await post(admin.key, `/admin/users/${target.userId}/corrections`, { amount: '-0.00001', reason: 'rounding' });
    expect(minus.status).toBe(201);
    expect(minus.body.balance).toBe('12.49999');
    expect((await api.ledger.entriesOf(target.userId)).map((e) => [e.kind, e.amount, e.reason])).toEqual([
      ['topup', '10.00000', null],
      ['correction', '2.50000', 'refund missed by the provider'],
      ['correction', '-0.00001', 'rounding'],
    ]);
    const records = await api.prisma.auditRecord.findMany({ where: { targetUserId: target.userId, action: 'ledger.correction' }, orderBy: { id: 'asc' } });
    expect(records.map((r) => [r.actorUserId, r.apiKeyId, r.reason, r.before, (r.after as { balance: string }).balance])).toEqual([
      [admin.userId, admin.apiKeyId, 'refund missed by the provider', { balance: '10.00000' }, '12.50000'],
      [admin.userId, admin.apiKeyId, 'rounding', { balance: '12.50000' }, '12.49999'],
    ]);
  });

  it('a retried correction (same Idempotency-Key) is one entry and one audit record; another amount with that key → 409', async () => {
    const target = await makeUser(api.prisma, { balance: '1' });
    const send = (amount: string) =>
      post(admin.key, `/admin/users/${target.userId}/corrections`, { amount, reason: 'goodwill' }, { 'Idempotency-Key': 'corr-1' });
    const first = await send('3');
    const again = await send('3');
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body).toMatchObject({ replayed: true, entry: first.body.entry, balance: '4.00000' });
    expect(await auditCount({ where: { targetUserId: target.userId, action: 'ledger.correction' } })).toBe(1);
    expect((await send('4')).status).toBe(409);
    expect((await api.ledger.entriesOf(target.userId)).filter((e) => e.kind === 'correction')).toHaveLength(1);
  });

  it('R-BALANCE: a debit larger than the balance → 402, nothing written; bad input → 400', async () => {
    const target = await makeUser(api.prisma, { balance: '1' });
    const before = { ...(await writeCounts(api.prisma)), audit: await auditCount() };
    const res = await post(admin.key, `/admin/users/${target.userId}/corrections`, { amount: '-1.00001', reason: 'overcredit' });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'insufficient_funds', rule: 'R-BALANCE' });
    const bad = async (body: object, field: string) => {
      const r = await post(admin.key, `/admin/users/${target.userId}/corrections`, body);
      expect([body, r.status, r.body.error.field]).toEqual([body, 400, field]);
    };
    await bad({ amount: '1' }, 'reason');
    await bad({ amount: '0', reason: 'x' }, 'amount');
    await bad({ amount: '-0.000001', reason: 'x' }, 'amount');
    await bad({ amount: 1, reason: 'x' }, 'amount');
    await bad({ amount: '+1', reason: 'x' }, 'amount');
    await bad({ amount: '1000000000000000', reason: 'x' }, 'amount');
    expect({ ...(await writeCounts(api.prisma)), audit: await auditCount() }).toEqual(before);
    expect(await api.ledger.balanceOf(target.userId)).toBe('1.00000');
  });
});

describe('GET /admin/audit', () => {
  let subject: { userId: number; key: string; apiKeyId: number };
  let secondSupport: { userId: number; key: string; apiKeyId: number };
  let order: OrderRecord;
  let started: string;

  beforeAll(async () => {
    started = new Date(Date.now() - 1000).toISOString();
    subject = await makeUser(api.prisma, { balance: '5' });
    secondSupport = await makeUser(api.prisma, { role: 'support' });
    order = await makeOrder(subject.userId, { status: 'pending' });
    await post(support.key, `/support/users/${subject.userId}/block`, { reason: 'audit-a', requestId: 'audit-a' });
    await post(secondSupport.key, `/support/users/${subject.userId}/unblock`, { reason: 'audit-b' });
    await post(admin.key, `/admin/users/${subject.userId}/corrections`, { amount: '1', reason: 'audit-c' });
    // An order.cancel record, as a block that reached the workflow writes it.
    await api.prisma.auditRecord.create({
      data: { actorUserId: support.userId, apiKeyId: support.apiKeyId, action: 'order.cancel', orderId: order.id, targetUserId: subject.userId, reason: 'audit-a', requestId: 'audit-order' },
    });
  });

  const list = async (query: string) => {
    const res = await get(admin.key, `/admin/audit?${query}`);
    expect([query, res.status]).toEqual([query, 200]);
    return res.body as { records: Array<Record<string, unknown>>; nextCursor: number | null };
  };
  const reasons = async (query: string) => (await list(query)).records.map((r) => r.reason);

  it('lists newest first with who, which key, what, when, why, before and after', async () => {
    const { records } = await list(`targetUserId=${subject.userId}`);
    expect(records.map((r) => r.action)).toEqual(['order.cancel', 'ledger.correction', 'user.unblock', 'user.block']);
    expect(records[3]).toEqual({
      id: expect.any(Number),
      actorUserId: support.userId,
      apiKeyId: support.apiKeyId,
      action: 'user.block',
      orderId: null,
      targetUserId: subject.userId,
      reason: 'audit-a',
      before: { status: 'active' },
      after: { status: 'blocked', activeOrders: [order.id] },
      requestId: `user.block:${subject.userId}:audit-a`,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('filters by actorUserId, apiKeyId, action (one or several), orderId, targetUserId, from/to', async () => {
    const t = `targetUserId=${subject.userId}`;
    expect(await reasons(`${t}&actorUserId=${secondSupport.userId}`)).toEqual(['audit-b']);
    expect(await reasons(`${t}&apiKeyId=${admin.apiKeyId}`)).toEqual(['audit-c']);
    expect(await reasons(`${t}&action=user.block`)).toEqual(['audit-a']);
    expect(await reasons(`${t}&action=user.block,user.unblock`)).toEqual(['audit-b', 'audit-a']);
    expect(await reasons(`orderId=${order.id}`)).toEqual(['audit-a']);
    expect(await reasons(`${t}&from=${encodeURIComponent(started)}`)).toHaveLength(4);
    expect(await reasons(`${t}&to=${encodeURIComponent(started)}`)).toEqual([]);
    expect(await reasons(`${t}&from=2000-01-01&to=2000-01-02`)).toEqual([]);
  });

  it('pages with the keyset cursor', async () => {
    const seen: unknown[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const page = await list(`targetUserId=${subject.userId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.records.map((r) => r.action));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(2);
    expect(seen).toEqual(['order.cancel', 'ledger.correction', 'user.unblock', 'user.block']);
  });

  it('refuses bad filters with 400', async () => {
    for (const [query, field] of [
      ['actorUserId=x', 'query.actorUserId'],
      ['from=soon', 'query.from'],
      ['limit=0', 'query.limit'],
      ['who=1', 'query.who'],
    ]) {
      const res = await get(admin.key, `/admin/audit?${query}`);
      expect([query, res.status, res.body.error.field]).toEqual([query, 400, field]);
    }
  });
});
