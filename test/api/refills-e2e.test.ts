// Refills through the REST API and API v2 over the whole engine (test/support/engine.ts) with the
// REAL provider sync: orders complete at the provider simulator and the sync tells the order; refills
// are sent to the simulator, and the sync polls refill_status (batched) and signals the order only
// on a change. Time skipping moves Temporal's clock (cooldowns, the sync's sleeps); the simulator's
// virtual clock moves the provider.
import type { Server } from 'node:http';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../api/app';
import { generateApiKey } from '../../api/auth';
import type { Role } from '../../api/auth';
import { expectV2Answer, expectV2Error, postForm } from '../api-v2/support';
import { startTestEngine } from '../support/engine';
import type { TestEngine } from '../support/engine';

let engine: TestEngine;
let server: Server;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

beforeAll(async () => {
  engine = await startTestEngine({ providerSync: true });
  server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }) }).listen(0);
});
afterEach(async () => {
  await expect(engine.deps.ledger.checkInvariant()).resolves.toBe(true);
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await engine?.shutdown();
});

async function keyFor(userId: number, role: Role = 'user'): Promise<string> {
  const { key, keyHash, keyPrefix } = generateApiKey();
  await engine.prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role } });
  return key;
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const askRefill = (key: string, orderId: number, body: object = {}, headers: Record<string, string> = {}) =>
  request(server).post(`/orders/${orderId}/refills`).set(bearer(key)).set(headers).send(body);
const listRefills = (key: string, orderId: number) => request(server).get(`/orders/${orderId}/refills`).set(bearer(key));

/** Lets the sync run its rounds: Temporal's clock skips `ms` (its sleeps fire). */
const syncRuns = (ms = 2 * MINUTE) => engine.temporal.env.sleep(ms);

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, rounds = 40): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < rounds; i++) {
    last = await read();
    if (ok(last)) return last;
    await syncRuns(30_000);
  }
  const sync = await engine.client.workflow.getHandle(`provider-sync-${engine.seed.providerId}`).query('providerSyncState').catch((e: unknown) => String(e));
  throw new Error(`${what}: never matched; last ${JSON.stringify(last)}; sync ${JSON.stringify(sync)}; calls ${JSON.stringify(engine.simulator.state.callCountsByAction())}`);
}

/** An order placed over REST, completed at the simulator and reported by the real sync. */
async function completedOrder(key: string, link = engine.uniqueLink('e2e-refill')): Promise<{ id: number; link: string }> {
  const res = await request(server).post('/orders').set(bearer(key)).send({ service: engine.seed.serviceIds.followers, link, quantity: 1000 });
  expect(res.status).toBe(201);
  const id = res.body.order.id as number;
  await engine.waitForState(id, (s) => s.providerOrderId !== null); // the add reached the simulator
  engine.simClock!.advance(10 * MINUTE);
  await until('order completed', () => engine.state(id), (s) => s.status === 'completed' && s.refills !== undefined);
  return { id, link };
}

describe('REST: POST /orders/:id/refills, GET /orders/:id/refills', () => {
  it('R-REFILL-COOLDOWN, R-REFILL-NEED: 409 with rule and reason; 202 with the refill once the count dropped; the sync follows it to Completed; the balance never moves', async () => {
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const order = await completedOrder(key);
    const balance = await engine.deps.ledger.balanceOf(userId);

    const tooSoon = await askRefill(key, order.id);
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.body.error).toMatchObject({ code: 'refill_refused', rule: 'R-REFILL-COOLDOWN', orderId: order.id, message: expect.stringMatching(/more than 24 hours after the order completed/) });
    expect(tooSoon.body.error.reason).toBe(tooSoon.body.error.message);

    await engine.temporal.env.sleep(25 * HOUR);
    const noDrop = await askRefill(key, order.id);
    expect(noDrop.status).toBe(409);
    const current = engine.simulator.state.count(order.link);
    expect(noDrop.body.error).toMatchObject({ rule: 'R-REFILL-NEED', counts: { quantity: 1000, currentCount: current } });

    engine.simulator.state.setCount(order.link, current - 300);
    const accepted = await askRefill(key, order.id, { requestId: 'refill-1' });
    expect(accepted.status).toBe(202);
    const refill = accepted.body.refill;
    expect(refill).toMatchObject({ id: expect.any(Number), orderId: order.id, status: 'pending', attempts: 1, requestId: 'refill-1', reason: null, completedAt: null });
    expect(refill.providerRefillId).toBeUndefined(); // staff only
    // The same request again (body or Idempotency-Key): the same refill, not a second one.
    expect((await askRefill(key, order.id, { requestId: 'refill-1' })).body.refill.id).toBe(refill.id);
    expect((await askRefill(key, order.id, {}, { 'Idempotency-Key': 'refill-1' })).body.refill.id).toBe(refill.id);
    const clash = await askRefill(key, order.id, { requestId: 'a' }, { 'Idempotency-Key': 'b' });
    expect(clash.status).toBe(400);
    // Another request while it runs: refused.
    expect((await askRefill(key, order.id)).body.error).toMatchObject({ rule: 'R-REFILL-COOLDOWN', message: 'a refill is already in progress' });

    const listed = await listRefills(key, order.id);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ orderId: order.id, guarantee: { kind: 'days', days: 30 }, voidReason: null, refills: [{ id: refill.id, status: 'pending' }] });

    // The provider works (simulator clock); the sync's refill_status rounds tell the order.
    engine.simClock!.advance(MINUTE);
    const done = await until('refill completed', () => listRefills(key, order.id), (r) => r.body.refills[0]?.status === 'completed');
    expect(done.body.refills[0]).toMatchObject({ id: refill.id, status: 'completed', completedAt: expect.any(String) });
    expect(engine.simulator.state.count(order.link)).toBe(current);
    const statusCalls = engine.simulator.state.calls('refill_status');
    expect(statusCalls.length).toBeGreaterThan(0);
    for (const call of statusCalls) expect(call.ids).toBeLessThanOrEqual(100);
    expect(engine.simulator.state.getOrder(Number((await engine.state(order.id)).providerOrderId))!.refillIds).toHaveLength(1);

    // Staff see the provider's refill id and who asked.
    const staff = await keyFor(await engine.newUser(), 'support');
    expect((await listRefills(staff, order.id)).body.refills[0]).toMatchObject({ providerRefillId: expect.any(String), requestedBy: { kind: 'user', userId } });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe(balance);
  });

  it('R-REFILL-SERVICE, R-REFILL-STATUS: refused from the row; another user\'s order is 404; no key is 401', async () => {
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const res = await request(server).post('/orders').set(bearer(key)).send({ service: engine.seed.serviceIds.likes, link: engine.uniqueLink(), quantity: 100 });
    const id = res.body.order.id as number;
    expect((await askRefill(key, id)).body.error).toMatchObject({ code: 'refill_refused', rule: 'R-REFILL-SERVICE', message: 'this service has no refill guarantee' });
    const guaranteed = await request(server).post('/orders').set(bearer(key)).send({ service: engine.seed.serviceIds.followers, link: engine.uniqueLink(), quantity: 100 });
    expect((await askRefill(key, guaranteed.body.order.id)).body.error).toMatchObject({ rule: 'R-REFILL-STATUS', message: expect.stringMatching(/^only a completed order can be refilled/) });
    const stranger = await keyFor(await engine.newUser());
    expect((await askRefill(stranger, id)).status).toBe(404);
    expect((await listRefills(stranger, id)).status).toBe(404);
    expect((await request(server).post(`/orders/${id}/refills`).send({})).status).toBe(401);
    expect((await askRefill(key, id, { nope: 1 })).status).toBe(400);
    engine.simClock!.advance(10 * MINUTE);
  });

  it('R-REFILL-SUPPORT: a refill the provider rejects → refill_failed, the row rejected; POST .../retry is for support and admin only (403 for users), and sends it again', async () => {
    const link = engine.uniqueLink('e2e-rejects');
    engine.simulator.state.addScenario(link, { refill: 'reject' });
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const order = await completedOrder(key, link);
    await engine.temporal.env.sleep(25 * HOUR);
    engine.simulator.state.setCount(link, engine.simulator.state.count(link) - 100);
    const accepted = await askRefill(key, order.id);
    expect(accepted.status).toBe(202);
    const refillId = accepted.body.refill.id as number;
    engine.simClock!.advance(MINUTE);
    await until('refill rejected', () => listRefills(key, order.id), (r) => r.body.refills[0]?.status === 'rejected');
    expect((await engine.state(order.id)).flags.refillFailed).toBe(true);

    const retry = (k: string, body: object = {}) => request(server).post(`/orders/${order.id}/refills/${refillId}/retry`).set(bearer(k)).send(body);
    expect((await retry(key)).status).toBe(403);
    const support = await keyFor(await engine.newUser(), 'support');
    expect((await request(server).post(`/orders/${order.id}/refills/999999/retry`).set(bearer(support)).send({ reason: 'customer wrote to support' })).status).toBe(404);
    const retried = await retry(support, { reason: 'customer wrote to support' });
    expect(retried.status).toBe(202);
    expect(retried.body.refill).toMatchObject({ id: refillId, status: 'pending', attempts: 2, providerRefillId: expect.any(String) });
    expect((await engine.state(order.id)).flags.refillFailed).toBe(false);
    // Not failed any more: a second retry is refused.
    const again = await retry(support, { reason: 'customer wrote again' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ rule: 'R-REFILL-SUPPORT', message: `refill ${refillId} is pending: only a failed or rejected refill can be retried` });
    // One refill.retry audit record per request, the refusal included, with the reason.
    const records = await engine.prisma.auditRecord.findMany({ where: { orderId: order.id, action: 'refill.retry' }, orderBy: { id: 'asc' } });
    expect(records.map((r) => [r.reason, (r.after as { result: { accepted: boolean } }).result.accepted])).toEqual([['customer wrote to support', true], ['customer wrote again', false]]);
    engine.simClock!.advance(MINUTE);
    await until('retried refill rejected again', () => listRefills(key, order.id), (r) => r.body.refills[0]?.status === 'rejected');
  });
});

describe('API v2: action=refill and action=refill_status through the engine\'s desk', () => {
  it('refill answers the refills table id (a string alone, an integer in lists); refill_status follows it to Completed', async () => {
    const userId = await engine.newUser('10');
    const key = await keyFor(userId);
    const order = await completedOrder(key);
    const v2 = (fields: Record<string, string | number>) => postForm(server, { key, ...fields });
    expectV2Error(await v2({ action: 'refill', order: order.id }), /^Refill is possible more than 24 hours after the order completed/);
    await engine.temporal.env.sleep(25 * HOUR);
    engine.simulator.state.setCount(order.link, engine.simulator.state.count(order.link) - 10);
    const single = expectV2Answer(await v2({ action: 'refill', order: order.id })) as { refill: string };
    expect(single).toEqual({ refill: expect.stringMatching(/^\d+$/) });
    const row = await engine.prisma.refill.findFirstOrThrow({ where: { orderId: order.id } });
    expect(single.refill).toBe(String(row.id));
    // A double click: the second is refused, per item in a list.
    expect(expectV2Answer(await v2({ action: 'refill', orders: `${order.id},99999999` }))).toEqual([
      { order: order.id, refill: { error: 'A refill is already in progress' } },
      { order: 99999999, refill: { error: 'Incorrect order ID' } },
    ]);
    expect(expectV2Answer(await v2({ action: 'refill_status', refill: row.id }))).toEqual({ status: 'Pending' });
    engine.simClock!.advance(MINUTE);
    await until('refill_status Completed', async () => expectV2Answer(await v2({ action: 'refill_status', refill: row.id })), (a) => (a as { status: string }).status === 'Completed');
    expect(expectV2Answer(await v2({ action: 'refill_status', refills: `${row.id},99999999` }))).toEqual([
      { refill: row.id, status: 'Completed' },
      { refill: 99999999, status: { error: 'Refill not found' } },
    ]);
  });
});
