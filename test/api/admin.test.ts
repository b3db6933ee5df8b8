// Admin endpoints: users, keys, money (R-BALANCE, R-WITHDRAW, R-CHARGEBACK) and the catalogue
// (R-MINMAX, R-PRICE-SNAPSHOT). No Temporal involved.
import request from 'supertest';
import { bearer, makeService, makeUser, startTestApi, writeCounts } from './support/api';
import type { TestApi } from './support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const admin = () => bearer(api.adminKey);
const adminPost = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(api.app).post(path).set(admin()).set(headers).send(body as object);

describe('users and keys', () => {
  it('creates a user (201) and shows it with balance and status', async () => {
    const created = await adminPost('/admin/users', { name: 'Reseller One', email: 'one@example.com' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/admin/users/${created.body.user.id}`);
    expect(created.body.user).toMatchObject({ name: 'Reseller One', email: 'one@example.com', status: 'active', balance: '0.00000' });
    const got = await request(api.app).get(`/admin/users/${created.body.user.id}`).set(admin());
    expect(got.status).toBe(200);
    expect(got.body.user).toEqual(created.body.user);
    const dup = await adminPost('/admin/users', { name: 'Again', email: 'one@example.com' });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'email_taken', field: 'email' });
  });

  it('unknown user → 404 on every user route', async () => {
    expect((await request(api.app).get('/admin/users/999999').set(admin())).status).toBe(404);
    expect((await adminPost('/admin/users/999999/api-keys', {})).status).toBe(404);
    expect((await adminPost('/admin/users/999999/top-ups', { amount: '1', paymentReference: 'p' })).status).toBe(404);
    expect((await adminPost('/admin/users/abc/withdrawals', { amount: '1', panelAtFault: true, reason: 'r' })).status).toBe(404);
  });

  it('returns a new key once, with its role; the key works with that role', async () => {
    const { userId } = await makeUser(api.prisma);
    const res = await adminPost(`/admin/users/${userId}/api-keys`, { role: 'support', label: 'helpdesk' });
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatchObject({ userId, role: 'support', label: 'helpdesk', keyPrefix: res.body.apiKey.key.slice(0, 8) });
    expect(res.body.apiKey.key).toMatch(/^smm_[A-Za-z0-9_-]{43}$/);
    const balance = await request(api.app).get('/balance').set(bearer(res.body.apiKey.key));
    expect(balance.body.userId).toBe(userId);
    // Support is not admin.
    expect((await request(api.app).get('/admin/services').set(bearer(res.body.apiKey.key))).status).toBe(403);
    const user = await request(api.app).get(`/admin/users/${userId}`).set(admin());
    expect(JSON.stringify(user.body)).not.toContain(res.body.apiKey.key);
  });

  it('records who did it: admin actions are audit records with the acting key', async () => {
    const created = await adminPost('/admin/users', { name: 'Audited' });
    const record = await api.prisma.auditRecord.findFirst({ where: { action: 'user.create', targetUserId: created.body.user.id } });
    const adminKey = await api.prisma.apiKey.findFirst({ where: { role: 'admin' } });
    expect(record).toMatchObject({ actorUserId: adminKey!.userId, apiKeyId: adminKey!.id });
  });
});

describe('R-BALANCE: top-ups', () => {
  it('R-BALANCE: a top-up is credited once per payment reference; the repeat answers 200 with the same entry', async () => {
    const { userId } = await makeUser(api.prisma);
    const first = await adminPost(`/admin/users/${userId}/top-ups`, { amount: '25.5', paymentReference: `pay-${userId}` });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ replayed: false, balance: '25.50000', entry: { amount: '25.50000', kind: 'topup', reference: `pay-${userId}` } });
    const again = await adminPost(`/admin/users/${userId}/top-ups`, { amount: '25.50000', paymentReference: `pay-${userId}` });
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.body.entry).toEqual(first.body.entry);
    expect(again.body.balance).toBe('25.50000');
    expect(await api.ledger.entriesOf(userId)).toHaveLength(1);
    expect(await api.prisma.auditRecord.count({ where: { action: 'ledger.topup', targetUserId: userId } })).toBe(1);
  });

  it('R-BALANCE: the same payment reference with another amount, or for another user, is 409 and credits nothing', async () => {
    const a = await makeUser(api.prisma);
    const b = await makeUser(api.prisma);
    await adminPost(`/admin/users/${a.userId}/top-ups`, { amount: '10', paymentReference: `ref-${a.userId}` });
    const before = await writeCounts(api.prisma);
    const other = await adminPost(`/admin/users/${a.userId}/top-ups`, { amount: '11', paymentReference: `ref-${a.userId}` });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    const otherUser = await adminPost(`/admin/users/${b.userId}/top-ups`, { amount: '10', paymentReference: `ref-${a.userId}` });
    expect(otherUser.status).toBe(409);
    expect(await writeCounts(api.prisma)).toEqual(before);
    expect(await api.ledger.balanceOf(a.userId)).toBe('10.00000');
    expect(await api.ledger.balanceOf(b.userId)).toBe('0.00000');
  });

  it('R-BALANCE: concurrent repeats of one top-up credit it once', async () => {
    const { userId } = await makeUser(api.prisma);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => adminPost(`/admin/users/${userId}/top-ups`, { amount: '3', paymentReference: `race-${userId}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await api.ledger.balanceOf(userId)).toBe('3.00000');
  });

  it('money must be a decimal string with at most 5 decimals: numbers and 6 decimals are refused naming amount', async () => {
    const { userId } = await makeUser(api.prisma);
    for (const amount of [10, '0.000001', '-1', '0', '1e3', '']) {
      const res = await adminPost(`/admin/users/${userId}/top-ups`, { amount, paymentReference: 'x' });
      expect({ amount, status: res.status, field: res.body.error?.field }).toEqual({ amount, status: 400, field: 'amount' });
    }
    expect(await api.ledger.entriesOf(userId)).toHaveLength(0);
  });
});

describe('R-WITHDRAW: withdrawals', () => {
  it('R-WITHDRAW: a withdrawal the panel is not at fault for pays half (50% commission)', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '100' });
    const res = await adminPost(`/admin/users/${userId}/withdrawals`, { amount: '40.00001', panelAtFault: false, reason: 'user asked' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ payout: '20.00000', fee: '20.00001', rule: 'R-WITHDRAW', balance: '59.99999' });
    expect(res.body.entries.map((e: { kind: string }) => e.kind)).toEqual(['withdrawal', 'withdrawal_fee']);
  });

  it('R-WITHDRAW: when the panel could not deliver, the withdrawal is paid in full', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '100' });
    const res = await adminPost(`/admin/users/${userId}/withdrawals`, { amount: '100', panelAtFault: true, reason: 'provider gone' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ payout: '100.00000', fee: '0.00000', balance: '0.00000' });
    expect(await api.ledger.checkInvariant()).toBe(true);
  });

  it('R-WITHDRAW: with an Idempotency-Key a retry is the same withdrawal (200); another amount is 409', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '100' });
    const headers = { 'Idempotency-Key': `wd-${userId}` };
    const body = { amount: '10', panelAtFault: false, reason: 'r' };
    const first = await adminPost(`/admin/users/${userId}/withdrawals`, body, headers);
    const again = await adminPost(`/admin/users/${userId}/withdrawals`, body, headers);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.entries).toEqual(first.body.entries);
    const other = await adminPost(`/admin/users/${userId}/withdrawals`, { ...body, amount: '11' }, headers);
    expect(other.status).toBe(409);
    expect(await api.ledger.balanceOf(userId)).toBe('90.00000');
  });

  it('R-BALANCE: a withdrawal above the balance is 402 and writes nothing', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '5' });
    const before = await writeCounts(api.prisma);
    const res = await adminPost(`/admin/users/${userId}/withdrawals`, { amount: '5.00001', panelAtFault: true, reason: 'r' });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({ code: 'insufficient_funds', rule: 'R-BALANCE' });
    expect(await writeCounts(api.prisma)).toEqual(before);
  });

  it('R-WITHDRAW: an amount too small to pay out after commission is 422', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '5' });
    const res = await adminPost(`/admin/users/${userId}/withdrawals`, { amount: '0.00001', panelAtFault: false, reason: 'r' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ field: 'amount', rule: 'R-WITHDRAW' });
  });

  it('needs a reason and a panelAtFault answer', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '5' });
    const noReason = await adminPost(`/admin/users/${userId}/withdrawals`, { amount: '1', panelAtFault: true });
    expect(noReason.body.error).toMatchObject({ field: 'reason', rule: 'required' });
    const noFault = await adminPost(`/admin/users/${userId}/withdrawals`, { amount: '1', reason: 'r' });
    expect(noFault.body.error).toMatchObject({ field: 'panelAtFault', rule: 'required' });
  });
});

describe('R-CHARGEBACK: chargebacks (ledger only)', () => {
  it('R-CHARGEBACK: takes the given amount back with its reason', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '30' });
    const res = await adminPost(`/admin/users/${userId}/chargebacks`, { amount: '12.5', reason: 'card dispute #77' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ rule: 'R-CHARGEBACK', balance: '17.50000', entry: { amount: '-12.50000', kind: 'chargeback', reason: 'card dispute #77' } });
  });

  it('R-CHARGEBACK: without an amount takes the whole balance; a keyed retry is the same entry even now the balance is 0', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '7.25' });
    const headers = { 'Idempotency-Key': `cb-${userId}` };
    const first = await adminPost(`/admin/users/${userId}/chargebacks`, { reason: 'dispute' }, headers);
    expect(first.status).toBe(201);
    expect(first.body.entry.amount).toBe('-7.25000');
    const again = await adminPost(`/admin/users/${userId}/chargebacks`, { reason: 'dispute' }, headers);
    expect(again.status).toBe(200);
    expect(again.body.entry).toEqual(first.body.entry);
    const nothing = await adminPost(`/admin/users/${userId}/chargebacks`, { reason: 'dispute' });
    expect(nothing.status).toBe(422);
    expect(nothing.body.error).toMatchObject({ code: 'nothing_to_charge_back', rule: 'R-CHARGEBACK' });
    expect(await api.ledger.checkInvariant()).toBe(true);
  });

  it('R-BALANCE: a chargeback above the balance is 402 (cancel open orders first)', async () => {
    const { userId } = await makeUser(api.prisma, { balance: '1' });
    const res = await adminPost(`/admin/users/${userId}/chargebacks`, { amount: '2', reason: 'dispute' });
    expect(res.status).toBe(402);
    expect(await api.ledger.balanceOf(userId)).toBe('1.00000');
  });
});

describe('catalogue', () => {
  let providerId: number;

  it('creates, lists, reads and patches providers; the upstream key is never shown', async () => {
    const created = await adminPost('/admin/providers', { name: 'Upstream A', apiUrl: 'https://upstream.example/api/v2', apiKey: 'sekrit-key' });
    expect(created.status).toBe(201);
    providerId = created.body.provider.id;
    expect(created.body.provider).toMatchObject({ name: 'Upstream A', apiKeySet: true, active: true, supportsLinkLookup: false, countSourceUrl: null });
    expect(JSON.stringify(created.body)).not.toContain('sekrit');
    const patched = await request(api.app).patch(`/admin/providers/${providerId}`).set(admin()).send({ active: false, apiKey: 'new-sekrit' });
    expect(patched.status).toBe(200);
    expect(patched.body.provider.active).toBe(false);
    expect((await api.prisma.provider.findUnique({ where: { id: providerId } }))!.apiKey).toBe('new-sekrit');
    const list = await request(api.app).get('/admin/providers?active=0').set(admin());
    expect(list.body.providers.map((p: { id: number }) => p.id)).toContain(providerId);
    expect(JSON.stringify(list.body)).not.toContain('sekrit');
    expect((await request(api.app).get(`/admin/providers/${providerId}`).set(admin())).body.provider.name).toBe('Upstream A');
    expect((await request(api.app).get('/admin/providers/424242').set(admin())).status).toBe(404);
    const bad = await adminPost('/admin/providers', { name: 'B', apiUrl: 'not a url', apiKey: 'k' });
    expect(bad.body.error).toMatchObject({ field: 'apiUrl', rule: 'format' });
  });

  it('creates services with rate, min, max, refill and flags; validates each field', async () => {
    const created = await adminPost('/admin/services', {
      name: 'IG followers R30', category: 'Instagram', providerId, providerServiceId: 101,
      rate: '0.9', min: 50, max: 10000, refill: { kind: 'days', days: 30 }, cancelable: true,
    });
    expect(created.status).toBe(201);
    expect(created.body.service).toMatchObject({
      providerServiceId: '101', rate: '0.90000', min: 50, max: 10000, refill: { kind: 'days', days: 30 }, cancelable: true, active: true, type: 'default',
    });
    const cases: Array<[object, string, string]> = [
      [{ min: 100, max: 10 }, 'max', 'R-MINMAX'],
      [{ rate: '-1' }, 'rate', 'money'],
      [{ rate: 0.9 }, 'rate', 'type'],
      [{ refill: { kind: 'days' } }, 'refill.days', 'required'],
      [{ refill: { kind: 'forever' } }, 'refill.kind', 'enum'],
      [{ min: 0 }, 'min', 'min'],
    ];
    const base = { name: 'S', category: 'C', providerId, providerServiceId: '1', rate: '1', min: 10, max: 100 };
    for (const [change, field, rule] of cases) {
      const res = await adminPost('/admin/services', { ...base, ...change });
      expect({ change, status: res.status, field: res.body.error?.field, rule: res.body.error?.rule }).toEqual({ change, status: 400, field, rule });
    }
    const unknownProvider = await adminPost('/admin/services', { ...base, providerId: 999999 });
    expect(unknownProvider.status).toBe(422);
    expect(unknownProvider.body.error).toMatchObject({ code: 'unknown_provider', field: 'providerId' });
  });

  it('patches a service; min/max stay a sane range with the fields not sent (R-MINMAX)', async () => {
    const { serviceId } = await makeService(api.prisma, { min: 50, max: 1000 });
    const bad = await request(api.app).patch(`/admin/services/${serviceId}`).set(admin()).send({ min: 2000 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: 'min', rule: 'R-MINMAX' });
    const ok = await request(api.app).patch(`/admin/services/${serviceId}`).set(admin()).send({ active: false, refill: { kind: 'lifetime' } });
    expect(ok.status).toBe(200);
    expect(ok.body.service).toMatchObject({ active: false, refill: { kind: 'lifetime' }, min: 50, max: 1000 });
    const nothing = await request(api.app).patch(`/admin/services/${serviceId}`).set(admin()).send({});
    expect(nothing.status).toBe(400);
    const list = await request(api.app).get('/admin/services?active=false').set(admin());
    expect(list.body.services.map((s: { id: number }) => s.id)).toContain(serviceId);
    expect((await request(api.app).get(`/admin/services/${serviceId}`).set(admin())).body.service.id).toBe(serviceId);
  });

  it('R-PRICE-SNAPSHOT: changing a service\'s price, refill and cancel flag leaves existing orders as they were placed', async () => {
    const { userId, key } = await makeUser(api.prisma);
    const { serviceId, providerId: pid } = await makeService(api.prisma, { rate: '1.2', cancelable: true });
    const created = await api.orders.createOrder({
      workflowId: `order-snapshot-${userId}`, userId, serviceId, providerId: pid,
      link: 'https://instagram.com/snap', linkKey: 'https://instagram.com/snap', quantity: 1000,
      rate: '1.20000', charge: '1.20000', refillKind: 'days', refillDays: 30, cancelable: true,
    });
    if (!created.ok) throw new Error('link busy');
    const { order } = created;
    const before = (await request(api.app).get(`/orders/${order.id}`).set(bearer(key))).body.order;
    const patch = await request(api.app).patch(`/admin/services/${serviceId}`).set(admin())
      .send({ rate: '9.99', refill: { kind: 'none' }, cancelable: false });
    expect(patch.status).toBe(200);
    const after = (await request(api.app).get(`/orders/${order.id}`).set(bearer(key))).body.order;
    expect(after).toEqual(before);
    expect(after).toMatchObject({ rate: '1.20000', charge: '1.20000', refill: { kind: 'days', days: 30 }, cancelable: true });
  });
});
