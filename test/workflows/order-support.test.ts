/**
 * Support's powers over one order, through the order workflow (issue 6): cancel with a full refund
 * whatever the cancel flag (R-CANCEL-FULL) or without one (R-CANCEL-NO-REFUND), and the move to
 * another service (R-SUBSTITUTE), with the races the issue names: support cancels while the
 * provider reports Partial, a move while status signals arrive.
 */
import { cancelOrder, moveOrder } from '../../worker/order-client';
import type { CancelRequest, MoveRequest, MoveTarget, StaffRef } from '../../workflows/order-contract';
import { orderWorkflowId } from '../../workflows/order-contract';
import { MOVE_STOP_TIMEOUT_MS } from '../../workflows/order-workflow';
import { fetchAllRuns } from '../../observability/history-fetch';
import { renderTimeline } from '../../observability/timeline';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
/** Every order these tests made: each history is replayed at the end (a determinism check). */
const orderIds: number[] = [];
useTestEngine((started) => (engine = started), {
  beforeReplay: async (e) => {
    for (const id of orderIds) await e.history(id);
  },
});

const SUPPORT: StaffRef = { kind: 'support', userId: 1, apiKeyId: 1 };

async function dispatched(options: { serviceId?: number; started?: boolean; balance?: string; link?: string } = {}) {
  const userId = await engine.newUser(options.balance ?? '10.00000');
  const placed = await engine.placeOrder({ userId, serviceId: options.serviceId, link: options.link ?? engine.uniqueLink('support') });
  orderIds.push(placed.orderId);
  const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  if (options.started) {
    await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount: 100, remains: 1000 });
    await engine.waitForState(placed.orderId, (s) => s.status === 'in_progress');
  }
  return { ...placed, userId, providerOrderId: state.providerOrderId! };
}

const bySupport = (mode: CancelRequest['mode'], reason?: string, requestId?: string): CancelRequest => ({
  requestedBy: SUPPORT,
  mode,
  ...(reason !== undefined ? { reason } : {}),
  ...(requestId !== undefined ? { requestId } : {}),
});
async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > until) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const refunds = async (orderId: number) =>
  (await engine.prisma.ledgerEntry.findMany({ where: { orderId, kind: 'refund' } })).map((e) => e.amount.toFixed(5));

describe('support cancels whatever the cancel flag (R-CANCEL-FULL) or without a refund (R-CANCEL-NO-REFUND)', () => {
  it('R-CANCEL-FULL: a started order of a service without cancel → canceled now, whole charge back, provider asked to drop it', async () => {
    const order = await dispatched({ serviceId: engine.seed.serviceIds.followersNoCancel, started: true, balance: '0.45000' });
    // The user may not cancel it (started, no cancel flag)...
    expect(await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId } })).toMatchObject({ accepted: false, rule: 'R-CANCEL-STALLED' });
    // ...support may.
    const answer = await cancelOrder(engine.client, order.orderId, bySupport('full_refund', 'provider stuck for a week', 's-full-1'));
    expect(answer).toEqual({ accepted: true, rule: 'R-CANCEL-FULL', message: 'order canceled; its whole charge is refunded' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.45000', refunds: [{ amount: '0.45000', rule: 'R-CANCEL-FULL' }] });
    expect(final.rejectReason).toBe('canceled by support with a full refund: provider stuck for a week');
    expect(final.lastCancel).toMatchObject({ accepted: true, rule: 'R-CANCEL-FULL', requestedBy: SUPPORT });
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.45000');
    expect(await refunds(order.orderId)).toEqual(['0.45000']);
    expect(engine.simulator.state.getOrder(Number(order.providerOrderId))!.cancelRequestedAt === null).toBe(true); // the service has no cancel: the provider refuses, best effort
    expect(engine.simulator.state.calls('cancel').length).toBeGreaterThan(0);
  });

  it('R-CANCEL-NO-REFUND: canceled now, no refund entry, the balance stays, the stated reason is kept', async () => {
    const order = await dispatched({ started: true, balance: '0.90000' });
    const answer = await cancelOrder(engine.client, order.orderId, bySupport('no_refund', 'link to prohibited content', 's-none-1'));
    expect(answer).toEqual({ accepted: true, rule: 'R-CANCEL-NO-REFUND', message: 'order canceled without a refund: link to prohibited content' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.00000', refunds: [] });
    expect(final.rejectReason).toBe('canceled by support without a refund: link to prohibited content');
    expect(await refunds(order.orderId)).toEqual([]);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe('0.00000');
    expect(await engine.deps.orders.getOrder(order.orderId)).toMatchObject({ status: 'canceled', rejectReason: final.rejectReason });
    // A cancel of a canceled order changes nothing.
    expect(engine.simulator.state.getOrder(Number(order.providerOrderId))!.cancelRequestedAt).not.toBeNull();
  });

  it('R-CANCEL-NO-REFUND: without a stated reason it is refused at once and the order goes on', async () => {
    const order = await dispatched();
    expect(await cancelOrder(engine.client, order.orderId, bySupport('no_refund', '  '))).toEqual({
      accepted: false,
      rule: 'R-CANCEL-NO-REFUND',
      reason: 'a cancel without refund needs a stated reason',
    });
    expect(await engine.state(order.orderId)).toMatchObject({ status: 'pending', refunded: '0.00000' });
  });

  it('R-CANCEL-REQUEST: a user cannot use support\'s cancel modes', async () => {
    const order = await dispatched();
    for (const mode of ['full_refund', 'no_refund'] as const) {
      expect(await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId }, mode, reason: 'x' })).toEqual({
        accepted: false,
        rule: 'R-CANCEL-REQUEST',
        reason: 'only support can cancel with a forced refund or without one',
      });
    }
  });

  it('R-CANCEL-FULL: support overrides a user\'s cancel waiting at the provider; the provider\'s late answer changes nothing', async () => {
    const order = await dispatched({ started: true });
    expect(await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId } })).toMatchObject({ accepted: true, rule: 'R-CANCEL-REQUEST' });
    expect(await cancelOrder(engine.client, order.orderId, bySupport('full_refund', 'customer complained twice'))).toMatchObject({ accepted: true, rule: 'R-CANCEL-FULL' });
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 300 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.90000', rule: 'R-CANCEL-FULL' }] });
    expect(await refunds(order.orderId)).toEqual(['0.90000']);
  });

  it('the same support cancel sent twice (same requestId) is one cancel with one answer', async () => {
    const order = await dispatched();
    const request = bySupport('full_refund', 'duplicate order', 's-twice');
    const [a, b] = await Promise.all([cancelOrder(engine.client, order.orderId, request), cancelOrder(engine.client, order.orderId, request)]);
    expect(a).toEqual(b);
    expect(a.accepted).toBe(true);
    expect(await cancelOrder(engine.client, order.orderId, request)).toEqual(a);
    await engine.handle(order.orderId).result();
    expect(await refunds(order.orderId)).toEqual(['0.90000']);
  });

  it('R-CANCEL-FULL: support cancels while the add is still waiting for its answer → the order the provider took is kept on the order and asked to be dropped (simulation seed 42, 3,000 orders, order 1454)', async () => {
    const link = engine.uniqueLink('add-in-flight');
    // The provider takes the order and answers 1.2 s later, within the engine's 2 s provider timeout.
    engine.simulator.state.addScenario(link, { add: { respond: 'hang', hangMs: 1_200, times: 1 } });
    const userId = await engine.newUser('0.90000');
    const placed = await engine.placeOrder({ userId, link });
    orderIds.push(placed.orderId);
    // The attempt is mid-call: the fence says 'sending' and nothing is recorded yet.
    await waitUntil(async () => (await engine.prisma.order.findUniqueOrThrow({ where: { id: placed.orderId } })).dispatchState === 'sending');
    expect(await cancelOrder(engine.client, placed.orderId, bySupport('full_refund', 'ordered by mistake'))).toMatchObject({ accepted: true, rule: 'R-CANCEL-FULL' });
    const final = await engine.handle(placed.orderId).result();
    const upstream = engine.simulator.state.getOrder(Number(final.providerOrderId));
    expect(final).toMatchObject({ status: 'canceled', refunded: '0.90000' });
    expect(upstream).not.toBeNull();
    expect(upstream!.cancelRequestedAt).not.toBeNull(); // asked to drop it after the refund
    const row = await engine.prisma.order.findUniqueOrThrow({ where: { id: placed.orderId } });
    expect(row).toMatchObject({ status: 'canceled', providerOrderId: final.providerOrderId });
    expect(await refunds(placed.orderId)).toEqual(['0.90000']);
  });

  it('a forced cancel of an order with an uncertain dispatch ends it canceled with a full refund', async () => {
    const link = engine.uniqueLink('uncertain-cancel');
    engine.simulator.state.addScenario(link, { add: { respond: 'http500', record: false, times: 1 } });
    const userId = await engine.newUser('0.90000');
    const placed = await engine.placeOrder({ userId, link, serviceId: engine.seed.serviceIds.followersNoLookup });
    orderIds.push(placed.orderId);
    await engine.waitForState(placed.orderId, (s) => s.status === 'dispatch_uncertain');
    expect(await cancelOrder(engine.client, placed.orderId, bySupport('full_refund', 'provider has no record'))).toMatchObject({ accepted: true });
    expect(await engine.handle(placed.orderId).result()).toMatchObject({ status: 'canceled', refunded: '0.90000' });
    expect(await engine.deps.ledger.balanceOf(userId)).toBe('0.90000');
  });
});

describe('race: support cancels while the provider reports Partial (one refund, matching the final status)', () => {
  it('R-PARTIAL: the Partial arrives first → support\'s cancel is refused, the undelivered part is refunded once', async () => {
    const order = await dispatched({ started: true });
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 250 });
    await engine.waitForState(order.orderId, (s) => s.status === 'partial');
    expect(await cancelOrder(engine.client, order.orderId, bySupport('full_refund', 'late'))).toMatchObject({ accepted: false, rule: 'R-PARTIAL' });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', refunds: [{ amount: '0.22500', rule: 'R-PARTIAL' }] });
    expect(await refunds(order.orderId)).toEqual(['0.22500']);
  });

  it('R-CANCEL-FULL: the cancel is taken first → canceled with the whole charge back; the later Partial changes nothing', async () => {
    const order = await dispatched({ started: true });
    expect(await cancelOrder(engine.client, order.orderId, bySupport('full_refund', 'first'))).toMatchObject({ accepted: true });
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 250 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.90000', rule: 'R-CANCEL-FULL' }] });
    expect(await refunds(order.orderId)).toEqual(['0.90000']);
  });

  it.each(['full_refund', 'no_refund'] as const)('R-CANCEL-FULL / R-PARTIAL / R-CANCEL-NO-REFUND: both at once (%s) → exactly the one refund the final status calls for', async (mode) => {
    for (let i = 0; i < 3; i++) {
      const order = await dispatched({ started: true });
      const [answer] = await Promise.all([
        cancelOrder(engine.client, order.orderId, bySupport(mode, 'abuse report')),
        engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 250 }),
      ]);
      const final = await engine.handle(order.orderId).result();
      const paid = await refunds(order.orderId);
      if (final.status === 'partial') {
        expect(answer.accepted).toBe(false);
        expect(paid).toEqual(['0.22500']);
      } else {
        expect(answer).toMatchObject({ accepted: true });
        expect(final.status).toBe('canceled');
        expect(paid).toEqual(mode === 'full_refund' ? ['0.90000'] : []);
      }
      expect(final.refunds).toHaveLength(paid.length);
    }
  });
});

describe('R-SUBSTITUTE: support moves an unfinished order to another similar service', () => {
  /** Service 1 again on the second provider: the same kind of units, another upstream. */
  const target = (): MoveTarget => ({
    serviceId: engine.seed.serviceIds.followersNoLookup,
    providerId: engine.seed.noLookupProviderId,
    providerServiceId: '1',
    min: 50,
    max: 10_000,
  });
  const move = (requestId: string, extra: Partial<MoveRequest> = {}): MoveRequest => ({
    target: target(),
    requestedBy: SUPPORT,
    reason: 'provider 1 is too slow',
    requestId,
    ...extra,
  });
  // Both seeded providers are the one simulator: adds are told apart by order, not by provider.
  const adds = (link: string) => engine.simulator.state.calls('add').filter((c) => c.link === link).length;

  it('a started order: the old upstream is asked to cancel; its Partial remains go to the new provider; completed there → no refund, charge unchanged', async () => {
    const order = await dispatched({ started: true });
    await engine.providerUpdate(order.orderId, { status: 'in_progress', startCount: 100, remains: 600 });
    await engine.waitForState(order.orderId, (s) => s.remains === 600);

    const answer = await moveOrder(engine.client, order.orderId, move('m-started'));
    expect(answer).toMatchObject({ accepted: true, rule: 'R-SUBSTITUTE', move: { phase: 'stopping', from: { providerOrderId: order.providerOrderId } } });
    expect(engine.simulator.state.getOrder(Number(order.providerOrderId))!.cancelRequestedAt).not.toBeNull();
    // Still at the old provider until it confirms.
    expect(await engine.state(order.orderId)).toMatchObject({ status: 'in_progress', providerOrderId: order.providerOrderId, serviceId: order.input.serviceId });

    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 400 });
    const moved = await engine.waitForState(order.orderId, (s) => s.providerOrderId !== null && s.providerOrderId !== order.providerOrderId);
    expect(moved).toMatchObject({
      status: 'pending',
      serviceId: target().serviceId,
      providerId: target().providerId,
      upstreamQuantity: 400,
      remains: 400,
      quantity: 1000,
      charge: '0.90000',
      startCount: 100,
      moves: [{ phase: 'moved', quantity: 400, requestId: 'm-started', reason: 'provider 1 is too slow' }],
    });
    const upstream = engine.simulator.state.getOrder(Number(moved.providerOrderId))!;
    expect(upstream.quantity).toBe(400);
    expect(await engine.deps.orders.getOrder(order.orderId)).toMatchObject({ serviceId: target().serviceId, providerId: target().providerId, providerOrderId: moved.providerOrderId });

    await engine.providerUpdate(order.orderId, { status: 'in_progress', startCount: 700, remains: 400 });
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 700, remains: 0 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', refunds: [], charge: '0.90000', startCount: 100 });
    expect(await refunds(order.orderId)).toEqual([]);

    // The move stands in the order's history: the update with who, why and where, the switch, the new add.
    const timeline = renderTimeline(await fetchAllRuns(engine.client, orderWorkflowId(order.orderId))).join('\n');
    expect(timeline).toMatch(/WorkflowExecutionUpdateAccepted move +\{reason=provider 1 is too slow target=\{"serviceId":\d+.*requestedBy=\{"kind":"support"/);
    expect(timeline).toMatch(/WorkflowExecutionUpdateCompleted +\{accepted=true rule=R-SUBSTITUTE/);
    expect(timeline).toMatch(/ActivityTaskScheduled switchService +\{\d+ quantity=400\}/);
  });

  it('R-PARTIAL after a move: the new provider\'s Partial refunds charge × remains / the whole quantity', async () => {
    const order = await dispatched({ started: true });
    await moveOrder(engine.client, order.orderId, move('m-partial'));
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 500 });
    await engine.waitForState(order.orderId, (s) => s.moves?.[0]?.phase === 'moved' && s.providerOrderId !== null);
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 600, remains: 100 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', remains: 100, refunds: [{ amount: '0.09000', rule: 'R-PARTIAL' }] });
  });

  it('R-PARTIAL after a move: the new provider cancels → Partial, refunding only the part moved (the old provider delivered the rest)', async () => {
    const order = await dispatched({ started: true });
    await moveOrder(engine.client, order.orderId, move('m-cancel'));
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 400 });
    await engine.waitForState(order.orderId, (s) => s.moves?.[0]?.phase === 'moved' && s.providerOrderId !== null);
    await engine.providerUpdate(order.orderId, { status: 'canceled', startCount: null, remains: 400 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'partial', remains: 400, refunds: [{ amount: '0.36000', rule: 'R-PARTIAL' }] });
  });

  it('an order not yet at any provider (its add keeps saying "try later") moves at once with its whole quantity', async () => {
    const link = engine.uniqueLink('move-unplaced');
    engine.simulator.state.addScenario(link, { add: { respond: 'error', error: 'not_enough_funds', times: 1 } });
    const userId = await engine.newUser('10.00000');
    const placed = await engine.placeOrder({ userId, link });
    orderIds.push(placed.orderId);
    await engine.waitForState(placed.orderId, () => adds(link) === 1);
    const answer = await moveOrder(engine.client, placed.orderId, move('m-unplaced'));
    expect(answer).toMatchObject({ accepted: true, move: { phase: 'moved', quantity: 1000, from: { providerOrderId: null } } });
    const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    expect(state).toMatchObject({ providerId: target().providerId, serviceId: target().serviceId, upstreamQuantity: 1000 });
    expect(adds(link)).toBe(2); // the refused one at the old provider, then the new one
    expect(engine.simulator.state.getOrder(Number(state.providerOrderId))!.quantity).toBe(1000);
  });

  it('race: a status about the old upstream order arriving after the move changes nothing', async () => {
    const order = await dispatched({ started: true });
    await moveOrder(engine.client, order.orderId, move('m-stale'));
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 700, providerId: engine.seed.providerId, providerOrderId: order.providerOrderId });
    const moved = await engine.waitForState(order.orderId, (s) => s.moves?.[0]?.phase === 'moved' && s.providerOrderId !== null);
    // A sync round that read the old upstream before the move reports it again, then Completed.
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0, providerId: engine.seed.providerId, providerOrderId: order.providerOrderId });
    await engine.providerUpdate(order.orderId, { status: 'in_progress', startCount: 400, remains: 700, providerId: engine.seed.noLookupProviderId, providerOrderId: moved.providerOrderId! });
    const state = await engine.waitForState(order.orderId, (s) => s.status === 'in_progress');
    expect(state).toMatchObject({ status: 'in_progress', remains: 700, providerOrderId: moved.providerOrderId });
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 400, remains: 0, providerId: engine.seed.noLookupProviderId, providerOrderId: moved.providerOrderId! });
    expect(await engine.handle(order.orderId).result()).toMatchObject({ status: 'completed', refunds: [] });
  });

  it('race: the old provider reports Completed while the move waits → the move fails, the order is completed, nothing goes to the new provider', async () => {
    const order = await dispatched({ started: true });
    const link = order.input.link;
    await moveOrder(engine.client, order.orderId, move('m-completed'));
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', serviceId: order.input.serviceId, refunds: [], moves: [{ phase: 'failed' }] });
    expect(final.moves![0]!.outcome).toBe('the old provider ended the order completed before the cancel took effect');
    expect(adds(link)).toBe(1);
  });

  it('the old provider delivered everything before it stopped (Partial, remains 0) → completed, nothing moved', async () => {
    const order = await dispatched({ started: true });
    await moveOrder(engine.client, order.orderId, move('m-nothing-left'));
    await engine.providerUpdate(order.orderId, { status: 'partial', startCount: 100, remains: 0 });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', refunds: [], moves: [{ phase: 'failed', outcome: 'nothing left to move: the old provider delivered the whole order' }] });
  });

  it('the old provider refuses to cancel → the move is refused with its answer and the order stays', async () => {
    const order = await dispatched({ serviceId: engine.seed.serviceIds.followersNoCancel, started: true });
    const answer = await moveOrder(engine.client, order.orderId, move('m-refused'));
    expect(answer).toMatchObject({ accepted: false, rule: 'R-SUBSTITUTE', move: { phase: 'failed' } });
    if (answer.accepted) throw new Error('unreachable');
    expect(answer.reason).toMatch(/^the old provider refused to cancel: /);
    expect(await engine.state(order.orderId)).toMatchObject({ status: 'in_progress', providerOrderId: order.providerOrderId, serviceId: order.input.serviceId });
  });

  it('the old provider never confirms → after 24 hours the move fails and the order stays with it', async () => {
    const order = await dispatched({ started: true });
    await moveOrder(engine.client, order.orderId, move('m-silent'));
    await engine.temporal.env.sleep(MOVE_STOP_TIMEOUT_MS + 60_000);
    const state = await engine.waitForState(order.orderId, (s) => s.moves?.[0]?.phase === 'failed');
    expect(state).toMatchObject({ status: 'in_progress', providerOrderId: order.providerOrderId, serviceId: order.input.serviceId });
    expect(state.moves![0]!.outcome).toBe('the old provider did not confirm the cancel within 24 hours; the order stays with it');
    // The order goes on where it is.
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    expect(await engine.handle(order.orderId).result()).toMatchObject({ status: 'completed' });
  });

  it('refused at once: by a user, without a reason, onto its own service, beyond the target\'s bounds, a second move, a user cancel meanwhile', async () => {
    const order = await dispatched({ started: true });
    const refusal = async (request: MoveRequest) => {
      const answer = await moveOrder(engine.client, order.orderId, request);
      expect(answer.accepted).toBe(false);
      return answer.accepted ? '' : answer.reason;
    };
    expect(await refusal(move('r1', { requestedBy: { kind: 'user', userId: order.userId } as unknown as StaffRef }))).toBe('only support can move an order');
    expect(await refusal(move('r2', { reason: ' ' }))).toBe('a move needs a stated reason');
    expect(await refusal(move('r3', { target: { ...target(), serviceId: order.input.serviceId } }))).toBe('the order is already on this service');
    expect(await refusal(move('r4', { target: { ...target(), max: 500 } }))).toBe('the undelivered 1000 is outside service ' + target().serviceId + "'s 50..500");
    expect(await moveOrder(engine.client, order.orderId, move('r5'))).toMatchObject({ accepted: true });
    expect(await refusal(move('r6'))).toBe('a move of this order is already being carried out');
    expect(await cancelOrder(engine.client, order.orderId, { requestedBy: { kind: 'user', userId: order.userId } })).toEqual({
      accepted: false,
      rule: 'R-SUBSTITUTE',
      reason: 'the order is being moved to another service by support; try again later',
    });
    // The same move request again answers as before.
    expect(await moveOrder(engine.client, order.orderId, move('r5'))).toMatchObject({ accepted: true, move: { requestId: 'r5' } });
    // Support may still cancel it (the move gives way).
    expect(await cancelOrder(engine.client, order.orderId, bySupport('full_refund', 'give up'))).toMatchObject({ accepted: true });
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.90000' }], moves: [{ phase: 'failed', outcome: 'the order was canceled by support' }] });
  });

  it('a finished order cannot be moved (its workflow stays open for refills and refuses)', async () => {
    const order = await dispatched({ started: true });
    await engine.providerUpdate(order.orderId, { status: 'completed', startCount: 100, remains: 0 });
    await engine.waitForState(order.orderId, (s) => s.status === 'completed');
    expect(await moveOrder(engine.client, order.orderId, move('r-final'))).toEqual({
      accepted: false,
      rule: 'R-SUBSTITUTE',
      reason: 'the order is completed: only an order that has not finished can be moved',
    });
  });
});
