// Support's powers over one order through the whole engine (test/support/engine.ts): the REST
// routes (api/routes/support-orders.ts) against the real order workflow and worker on the in-memory
// Temporal server, the provider simulator over HTTP, a private database. Each power is a workflow
// update (it stands in the order's history) and one audit record per requestId; the money
// invariant holds after every test, and every fetched history replays against today's code.
import request from 'supertest';
import type { Scenario } from '../../provider-simulator';
import type { OrderState } from '../../workflows/order-contract';
import type { TestEngine } from '../support/engine';
import { useEngineApi } from './support/engine-api';

const ctx = useEngineApi();
let engine: TestEngine;
let support: { userId: number; key: string; apiKeyId: number };
let admin: { userId: number; key: string; apiKeyId: number };
/** A similar service (category and type of the seed's followers, 30-day refill) on the other provider. */
let backupFollowers: number;
/** Not similar: another category. */
let youtubeViews: number;

beforeAll(async () => {
  engine = ctx.engine;
  support = await ctx.keyFor('support');
  admin = await ctx.keyFor('admin');
  const { seed } = engine;
  const service = async (data: { name: string; category: string; providerId: number; providerServiceId: string; rate: string; min: number; max: number; refillKind: string; refillDays?: number; cancelable: boolean }) =>
    (await engine.prisma.service.create({ data })).id;
  backupFollowers = await service({ name: 'Instagram Followers [Backup, Refill 30D]', category: 'Instagram', providerId: seed.noLookupProviderId, providerServiceId: '1', rate: '1.10000', min: 50, max: 10000, refillKind: 'days', refillDays: 30, cancelable: true });
  youtubeViews = await service({ name: 'YouTube Views [Lifetime]', category: 'YouTube', providerId: seed.providerId, providerServiceId: '6', rate: '1.50000', min: 100, max: 100000, refillKind: 'lifetime', cancelable: false });
});

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
const post = (key: string, path: string, body: object) => request(ctx.server).post(path).set(bearer(key)).send(body);
const auditOf = (orderId: number, action?: string) => engine.prisma.auditRecord.findMany({ where: { orderId, ...(action ? { action } : {}) }, orderBy: { id: 'asc' } });
const refundsOf = (orderId: number) => engine.prisma.ledgerEntry.findMany({ where: { orderId, kind: 'refund' } });
const addCalls = (link: string) => engine.simulator.state.calls('add').filter((c) => c.link === link).length;

function scenarioLink(prefix: string, scenario: Scenario): string {
  const link = engine.uniqueLink(prefix);
  engine.simulator.state.addScenario(link, scenario);
  return link;
}

/** An order placed and taken by the provider (its upstream id known); in progress with `started.remains` when given. */
async function dispatched(userId: number, serviceId: number, options: { link?: string; quantity?: number; started?: { remains: number } } = {}): Promise<{ orderId: number; state: OrderState }> {
  const placed = await engine.placeOrder({ userId, serviceId, link: options.link, quantity: options.quantity ?? 1000 });
  expect(placed.result.accepted).toBe(true);
  let state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  if (options.started) {
    await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount: 100, remains: options.started.remains });
    state = await engine.waitForState(placed.orderId, (s) => s.status === 'in_progress' && s.remains === options.started!.remains);
  }
  return { orderId: placed.orderId, state };
}

/** The names of the updates the order's workflow accepted, in its history. */
async function acceptedUpdates(orderId: number): Promise<string[]> {
  const history = await engine.history(orderId);
  return (history.events ?? []).flatMap((e) => {
    const name = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    return name ? [name] : [];
  });
}

// ---------------------------------------------------------------- cancel

describe('POST /support/orders/:id/cancel', () => {
  it('R-CANCEL-FULL: support cancels a started order of a service WITHOUT cancel, refund "full" → canceled, one refund equal to the charge, balance back', async () => {
    const userId = await engine.newUser('10');
    const { orderId } = await dispatched(userId, engine.seed.serviceIds.followersNoCancel, { started: { remains: 800 } });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.55000');

    const res = await post(support.key, `/support/orders/${orderId}/cancel`, { refund: 'full', reason: 'the provider stopped delivering', requestId: 'full-1' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ orderId, requestId: 'full-1', replayed: false, result: { accepted: true, rule: 'R-CANCEL-FULL' } });

    const final = await engine.handle(orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.45000' });
    expect(final.rejectReason).toContain('the provider stopped delivering');
    const refunds = await refundsOf(orderId);
    expect(refunds).toHaveLength(1);
    expect(refunds[0].amount.toFixed(5)).toBe('0.45000');
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('10.00000');
    expect(await engine.deps.orders.getOrder(orderId)).toMatchObject({ status: 'canceled', refunded: '0.45000' });

    const [record] = await auditOf(orderId);
    expect(record).toMatchObject({
      action: 'order.cancel',
      actorUserId: support.userId,
      apiKeyId: support.apiKeyId,
      targetUserId: userId,
      reason: 'the provider stopped delivering',
      requestId: `order.cancel:${orderId}:full-1`,
      before: { status: 'in_progress', serviceId: engine.seed.serviceIds.followersNoCancel, refunded: '0.00000', remains: 800 },
      after: { request: { refund: 'full' }, result: { accepted: true, rule: 'R-CANCEL-FULL' }, state: { status: 'canceled' } },
    });
    expect(await acceptedUpdates(orderId)).toContain('cancel');
  });

  it('R-CANCEL-NO-REFUND: refund "none" without a reason → 400; with one → canceled, no refund, balance unchanged, the reason in the audit record and the order\'s state', async () => {
    const userId = await engine.newUser('10');
    const { orderId } = await dispatched(userId, engine.seed.serviceIds.followers);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.10000');

    const missing = await post(support.key, `/support/orders/${orderId}/cancel`, { refund: 'none' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ field: 'reason', rule: 'required' });
    expect(await auditOf(orderId)).toEqual([]);

    const reason = 'the link promotes a prohibited topic (terms, section 4)';
    const res = await post(admin.key, `/support/orders/${orderId}/cancel`, { refund: 'none', reason });
    expect(res.status).toBe(202);
    expect(res.body.result).toMatchObject({ accepted: true, rule: 'R-CANCEL-NO-REFUND' });

    const final = await engine.handle(orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.00000', refunds: [] });
    expect(final.rejectReason).toContain(reason);
    expect(final.lastCancel).toMatchObject({ accepted: true, rule: 'R-CANCEL-NO-REFUND', requestedBy: { kind: 'admin', userId: admin.userId, apiKeyId: admin.apiKeyId }, message: `order canceled without a refund: ${reason}` });
    expect(await refundsOf(orderId)).toEqual([]);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('9.10000');

    const [record] = await auditOf(orderId);
    expect(record).toMatchObject({ action: 'order.cancel', actorUserId: admin.userId, reason, after: { request: { refund: 'none' }, result: { accepted: true, rule: 'R-CANCEL-NO-REFUND' } } });
    await engine.history(orderId);
  });

  it('a final order: 409 cancel_refused "order is <status>" (closed workflow, answered from the row), recorded', async () => {
    const userId = await engine.newUser('10');
    const { orderId } = await dispatched(userId, engine.seed.serviceIds.likes, { quantity: 100 });
    await engine.providerUpdate(orderId, { status: 'completed', startCount: 5, remains: 0 });
    await engine.handle(orderId).result();
    await engine.history(orderId);
    const res = await post(support.key, `/support/orders/${orderId}/cancel`, { refund: 'full', reason: 'customer complains' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'cancel_refused', rule: 'R-CANCEL-FULL', message: 'order is completed' });
    expect(await auditOf(orderId)).toHaveLength(1);
    expect(await refundsOf(orderId)).toEqual([]);
  });
});

// ---------------------------------------------------------------- audit once

describe('one action, one audit record per requestId', () => {
  it('the same POST twice and three at once with one requestId → one record, one update, one refund; the same answer, the others replayed', async () => {
    const userId = await engine.newUser('10');
    const { orderId } = await dispatched(userId, engine.seed.serviceIds.followersNoCancel, { started: { remains: 1000 } });
    const body = { refund: 'full', reason: 'double click in the support panel', requestId: 'once-1' };
    const path = `/support/orders/${orderId}/cancel`;
    const answers = await Promise.all([1, 2, 3].map(() => post(support.key, path, body)));
    const again = await post(support.key, path, body);
    for (const answer of [...answers, again]) {
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ orderId, requestId: 'once-1', result: { accepted: true, rule: 'R-CANCEL-FULL' } });
    }
    expect(answers.filter((a) => a.body.replayed === false)).toHaveLength(1);
    expect(again.body.replayed).toBe(true);
    expect(again.body.result).toEqual(answers[0].body.result);

    await engine.handle(orderId).result();
    expect(await auditOf(orderId)).toHaveLength(1);
    expect(await refundsOf(orderId)).toHaveLength(1);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('10.00000');
    expect((await acceptedUpdates(orderId)).filter((n) => n === 'cancel')).toHaveLength(1);

    const reused = await post(support.key, path, { ...body, reason: 'another reason' });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
  });
});

// ---------------------------------------------------------------- move

describe('POST /support/orders/:id/move (R-SUBSTITUTE)', () => {
  it('R-SUBSTITUTE: an order in progress moves to a similar service on another provider: the old upstream is asked to cancel, the undelivered part goes to the new one; the charge stays', async () => {
    const userId = await engine.newUser('10');
    const link = engine.uniqueLink('move-started');
    const { orderId, state: before } = await dispatched(userId, engine.seed.serviceIds.followers, { link, started: { remains: 400 } });
    const oldUpstream = before.providerOrderId!;
    const balance = await engine.deps.ledger.balanceOf(userId);

    const res = await post(support.key, `/support/orders/${orderId}/move`, { serviceId: backupFollowers, reason: 'the provider is far behind schedule', requestId: 'move-1' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ orderId, requestId: 'move-1', replayed: false, result: { accepted: true, rule: 'R-SUBSTITUTE', move: { phase: 'stopping' } } });
    expect(engine.simulator.state.getOrder(Number(oldUpstream))!.cancelRequestedAt).not.toBeNull();
    // Support follows the move in the order's live view; the customer sees no moves.
    const live = await request(ctx.server).get(`/orders/${orderId}?live=1`).set(bearer(support.key));
    expect(live.body.order.moves).toMatchObject([{ phase: 'stopping', to: { serviceId: backupFollowers }, reason: 'the provider is far behind schedule' }]);
    const owner = await ctx.keyFor('user', userId);
    expect((await request(ctx.server).get(`/orders/${orderId}?live=1`).set(bearer(owner.key))).body.order.moves).toBeUndefined();

    // The old provider stops with 400 undelivered (what the provider sync would report).
    await engine.providerUpdate(orderId, { status: 'partial', providerId: engine.seed.providerId, providerOrderId: oldUpstream, startCount: 100, remains: 400 });
    const moved = await engine.waitForState(orderId, (s) => s.serviceId === backupFollowers && s.providerOrderId !== null && s.providerOrderId !== oldUpstream);
    expect(moved).toMatchObject({ status: 'pending', serviceId: backupFollowers, providerId: engine.seed.noLookupProviderId, charge: '0.90000', rate: '0.90000', refunded: '0.00000' });
    expect(moved.moves!.at(-1)).toMatchObject({ requestId: `support-move:${orderId}:move-1`, phase: 'moved', quantity: 400, reason: 'the provider is far behind schedule', requestedBy: { kind: 'support', userId: support.userId } });
    const upstream = engine.simulator.state.listOrders(link);
    expect(upstream.map((o) => o.quantity)).toEqual([1000, 400]);
    expect(addCalls(link)).toBe(2);
    expect(await engine.deps.orders.getOrder(orderId)).toMatchObject({ serviceId: backupFollowers, providerId: engine.seed.noLookupProviderId, charge: '0.90000' });

    // The new provider delivers the rest: Completed, nothing refunded, the balance as it was.
    await engine.providerUpdate(orderId, { status: 'completed', providerId: engine.seed.noLookupProviderId, providerOrderId: moved.providerOrderId!, startCount: 700, remains: 0 });
    const done = await engine.waitForState(orderId, (s) => s.status === 'completed');
    expect(done).toMatchObject({ charge: '0.90000', refunded: '0.00000', serviceId: backupFollowers });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe(balance);

    const [record] = await auditOf(orderId, 'order.move');
    expect(record).toMatchObject({
      actorUserId: support.userId,
      reason: 'the provider is far behind schedule',
      before: { status: 'in_progress', serviceId: engine.seed.serviceIds.followers, providerId: engine.seed.providerId, providerOrderId: oldUpstream, remains: 400 },
      after: { request: { serviceId: backupFollowers }, result: { accepted: true, rule: 'R-SUBSTITUTE' }, state: { lastMove: { phase: 'stopping' } } },
    });
    expect(await acceptedUpdates(orderId)).toContain('move');
  });

  it('R-SUBSTITUTE: a pending order the old provider cancels whole → all of it goes to the new service; one not yet at any provider switches at once', async () => {
    const userId = await engine.newUser('10');
    const link = engine.uniqueLink('move-pending');
    const { orderId, state: before } = await dispatched(userId, engine.seed.serviceIds.followers, { link });
    const res = await post(admin.key, `/support/orders/${orderId}/move`, { serviceId: backupFollowers, reason: 'provider queue is days long' });
    expect(res.status).toBe(202);
    expect(res.body.result.move).toMatchObject({ phase: 'stopping', from: { serviceId: engine.seed.serviceIds.followers, providerOrderId: before.providerOrderId } });
    await engine.providerUpdate(orderId, { status: 'canceled', providerId: engine.seed.providerId, providerOrderId: before.providerOrderId!, startCount: null, remains: 1000 });
    const moved = await engine.waitForState(orderId, (s) => s.moves?.at(-1)?.phase === 'moved' && s.providerOrderId !== null);
    expect(moved).toMatchObject({ status: 'pending', serviceId: backupFollowers, charge: '0.90000', refunded: '0.00000' });
    expect(engine.simulator.state.listOrders(link).map((o) => o.quantity)).toEqual([1000, 1000]);

    // Not at any provider yet (its add was refused "not enough funds" and waits for a retry): switched at once.
    const waiting = scenarioLink('move-at-once', { add: { respond: 'error', error: 'not_enough_funds', times: 1 } });
    const placed = await engine.placeOrder({ userId, link: waiting });
    await engine.waitForState(placed.orderId, () => addCalls(waiting) === 1);
    const atOnce = await post(support.key, `/support/orders/${placed.orderId}/move`, { serviceId: backupFollowers, reason: 'provider out of funds' });
    expect(atOnce.status).toBe(202);
    expect(atOnce.body.result.move).toMatchObject({ phase: 'moved', quantity: 1000 });
    const sent = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    expect(sent).toMatchObject({ status: 'pending', serviceId: backupFollowers, providerId: engine.seed.noLookupProviderId, charge: '0.90000' });
    expect(addCalls(waiting)).toBe(2);
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('8.20000');
  });

  it('R-SUBSTITUTE: refused with 409 move_refused: a service of another category; a final order; nothing changes', async () => {
    const userId = await engine.newUser('10');
    const { orderId } = await dispatched(userId, engine.seed.serviceIds.followers);
    const dissimilar = await post(support.key, `/support/orders/${orderId}/move`, { serviceId: youtubeViews, reason: 'faster provider' });
    expect(dissimilar.status).toBe(409);
    expect(dissimilar.body.error).toMatchObject({ code: 'move_refused', rule: 'R-SUBSTITUTE', message: expect.stringContaining('is not similar') });
    expect(await engine.state(orderId)).toMatchObject({ serviceId: engine.seed.serviceIds.followers, status: 'pending' });
    expect(await acceptedUpdates(orderId)).not.toContain('move');
    const [record] = await auditOf(orderId, 'order.move');
    expect(record.after).toMatchObject({ result: { accepted: false, rule: 'R-SUBSTITUTE' }, state: { serviceId: engine.seed.serviceIds.followers, lastMove: null } });

    await engine.providerUpdate(orderId, { status: 'completed', startCount: 5, remains: 0 });
    await engine.waitForState(orderId, (s) => s.status === 'completed');
    const final = await post(support.key, `/support/orders/${orderId}/move`, { serviceId: backupFollowers, reason: 'too late' });
    expect(final.status).toBe(409);
    expect(final.body.error).toMatchObject({ code: 'move_refused', rule: 'R-SUBSTITUTE', message: expect.stringContaining('completed') });
    expect(await engine.state(orderId)).toMatchObject({ serviceId: engine.seed.serviceIds.followers, status: 'completed' });
  });
});

// ---------------------------------------------------------------- resolve-dispatch

describe('POST /support/orders/:id/resolve-dispatch (provider without link lookup)', () => {
  const uncertain = async (userId: number, scenario: Scenario, prefix: string) => {
    const link = scenarioLink(prefix, scenario);
    const placed = await engine.placeOrder({ userId, link, serviceId: engine.seed.serviceIds.followersNoLookup });
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    return { orderId: placed.orderId, link };
  };
  /** An add the provider answered with a 500 and never recorded. */
  const lost: Scenario = { add: { respond: 'http500', record: false, times: 1 } };
  const resolve = (key: string, orderId: number, body: object) => post(key, `/support/orders/${orderId}/resolve-dispatch`, body);
  /** An order whose add was lost, resolved by `key` with `body`: 200, accepted. */
  const resolveLost = async (key: string, balance: string, prefix: string, body: { action: string; reason: string }) => {
    const userId = await engine.newUser(balance);
    const { orderId, link } = await uncertain(userId, lost, prefix);
    const res = await resolve(key, orderId, body);
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ accepted: true, action: body.action });
    return { userId, orderId, link };
  };

  it('attach: the provider has it as <id> → followed from now on, add sent once; 200', async () => {
    const userId = await engine.newUser('10');
    const { orderId, link } = await uncertain(userId, { add: { respond: 'empty', times: 1 } }, 'resolve-attach');
    const upstreamId = String(engine.simulator.state.listOrders(link)[0]!.id);
    const res = await resolve(support.key, orderId, { action: 'attach', providerOrderId: upstreamId, reason: 'seen in the provider panel' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId, replayed: false, result: { accepted: true, action: 'attach', providerOrderId: upstreamId } });
    const state = await engine.waitForState(orderId, (s) => s.providerOrderId === upstreamId);
    expect(state.status).toBe('pending');
    expect(addCalls(link)).toBe(1);
    expect(await auditOf(orderId, 'order.resolve_dispatch')).toEqual([
      expect.objectContaining({ reason: 'seen in the provider panel', before: expect.objectContaining({ status: 'dispatch_uncertain', providerOrderId: null }), after: expect.objectContaining({ request: { action: 'attach', providerOrderId: upstreamId } }) }),
    ]);
    expect(await acceptedUpdates(orderId)).toContain('resolveDispatch');
  });

  it('redispatch: the provider has nothing → sent again', async () => {
    const { orderId, link } = await resolveLost(support.key, '10', 'resolve-again', { action: 'redispatch', reason: 'the provider panel shows nothing' });
    const state = await engine.waitForState(orderId, (s) => s.providerOrderId !== null);
    expect(state.status).toBe('pending');
    expect(addCalls(link)).toBe(2);
    await engine.history(orderId);
  });

  it('cancel: canceled with a full refund (R-CANCEL-FULL), the reason kept', async () => {
    const { userId, orderId, link } = await resolveLost(admin.key, '1', 'resolve-cancel', { action: 'cancel', reason: 'the provider confirms nothing arrived' });
    const final = await engine.handle(orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.90000', refunds: [{ rule: 'R-CANCEL-FULL', amount: '0.90000' }] });
    expect(final.rejectReason).toContain('the provider confirms nothing arrived');
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('1.00000');
    expect(addCalls(link)).toBe(1);
    await engine.history(orderId);
  });

  it('an order whose dispatch is not uncertain: 409 resolve_refused, recorded, nothing changes', async () => {
    const userId = await engine.newUser('10');
    const { orderId, state } = await dispatched(userId, engine.seed.serviceIds.followers);
    const res = await resolve(support.key, orderId, { action: 'redispatch', reason: 'looks stuck' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'resolve_refused', message: expect.stringContaining('not uncertain') });
    expect(await engine.state(orderId)).toMatchObject({ status: 'pending', providerOrderId: state.providerOrderId });
    expect(await auditOf(orderId, 'order.resolve_dispatch')).toHaveLength(1);
    await engine.providerUpdate(orderId, { status: 'canceled', startCount: null, remains: 1000 });
    await engine.waitForState(orderId, (s) => s.status === 'canceled');
  });
});
