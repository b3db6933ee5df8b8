/**
 * Refills (issue "Refill guarantees"), through the order workflow with time skipping: a completed
 * order with a guarantee stays open for its refill window; each R-REFILL rule refuses or accepts a
 * `refill` update; accepted refills go to the provider simulator for real (`refill`), and their
 * progress arrives as the `refillUpdate` signals the provider sync sends (sent here directly, as the
 * sync would; the sync's own polling is tested in order-refill-sync.test.ts).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { requestRefill, retryRefill } from '../../worker/order-client';
import { OrderFlagsKey } from '../../workflows/order-search-attributes';
import type { RefillRecord, RefillRequest, RefillResult, RefillUpdate } from '../../workflows/order-contract';
import { refillUpdateSignal } from '../../workflows/order-messages';
import { REFILLS_PER_RUN, RUN_MAX_AGE_MS } from '../../workflows/order-workflow';
import { itUnlessOfficialServer } from '../support/official-server';
import { eventNames } from '../support/temporal';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started));

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
let requestSeq = 0;

interface Completed {
  orderId: number;
  userId: number;
  providerOrderId: string;
  placedAt: number;
  /** The user's balance once the order was paid: refills never change it. */
  balance: string;
}

/**
 * A placed order, dispatched to the simulator for real, completed there (the simulator's clock moves
 * on) and here (the providerUpdate signals the sync sends). Default: the 30-day refill service on the
 * provider WITHOUT a count source, so the provider alone judges R-REFILL-NEED.
 */
async function completed(options: { serviceId?: number; userId?: number; link?: string; startCount?: number } = {}): Promise<Completed> {
  const userId = options.userId ?? (await engine.newUser('10.00000'));
  const placed = await engine.placeOrder({ userId, serviceId: options.serviceId ?? engine.seed.serviceIds.followersNoLookup, link: options.link });
  expect(placed.result).toMatchObject({ accepted: true });
  const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
  engine.simClock!.advance(10 * MINUTE); // the simulator starts and delivers it (5 s + 1000 units at 20/s)
  const startCount = options.startCount ?? 100;
  await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount, remains: 1000 });
  await engine.providerUpdate(placed.orderId, { status: 'completed', startCount, remains: 0 });
  await engine.waitForState(placed.orderId, (s) => s.status === 'completed' && (s.guarantee.kind === 'none' || s.refills !== undefined));
  return { orderId: placed.orderId, userId, providerOrderId: state.providerOrderId!, placedAt: placed.input.placedAt, balance: await engine.deps.ledger.balanceOf(userId) };
}

const byUser = (userId: number, requestId = `req-${++requestSeq}`): RefillRequest => ({ requestedBy: { kind: 'user', userId }, requestId });
const bySupport = (requestId = `sup-${++requestSeq}`) => ({ requestedBy: { kind: 'support' as const, userId: 1 }, requestId });
const ask = (order: Completed, request: RefillRequest = byUser(order.userId)) => requestRefill(engine.client, order.orderId, request);

function accepted(result: RefillResult): RefillRecord {
  if (!result.accepted) throw new Error(`refill refused: ${result.rule}: ${result.reason}`);
  return result.refill;
}

/** The refillUpdate the provider sync sends when refill_status moved. */
async function refillMoves(order: Completed, refill: RefillRecord, status: RefillUpdate['status']): Promise<void> {
  await engine.handle(order.orderId).signal(refillUpdateSignal, {
    refillId: refill.refillId,
    providerRefillId: refill.providerRefillId!,
    status,
    raw: { status },
    observedAt: await engine.temporal.env.currentTimeMs(),
  });
}

/** The refill completes at the provider (its clock moves past the refill's duration) and here. */
async function refillCompletes(order: Completed, refill: RefillRecord): Promise<void> {
  engine.simClock!.advance(MINUTE);
  await refillMoves(order, refill, 'completed');
  await engine.waitForState(order.orderId, (s) => s.refills?.recent.find((r) => r.refillId === refill.refillId)?.status === 'completed');
}

const rowOf = (refillId: number) => engine.prisma.refill.findUniqueOrThrow({ where: { id: refillId } });
const simRefills = (providerOrderId: string) => engine.simulator.state.getOrder(Number(providerOrderId))!.refillIds;

describe('R-REFILL-SERVICE and R-REFILL-STATUS', () => {
  it('R-REFILL-SERVICE: an order without a guarantee is refused, and its workflow ends at Completed as before', async () => {
    const order = await completed({ serviceId: engine.seed.serviceIds.likes });
    // Its workflow ended with the order: nothing left to refill.
    const final = await engine.handle(order.orderId).result();
    expect(final.status).toBe('completed');
    expect(final.refills).toBeUndefined();
    await expect(ask(order)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // While it was running, the validator refused at once.
    const running = await engine.placeOrder({ userId: order.userId, serviceId: engine.seed.serviceIds.likes });
    await engine.waitForState(running.orderId, (s) => s.providerOrderId !== null);
    expect(await requestRefill(engine.client, running.orderId, byUser(order.userId))).toEqual({
      accepted: false,
      rule: 'R-REFILL-SERVICE',
      reason: 'this service has no refill guarantee',
    });
    await engine.providerUpdate(running.orderId, { status: 'canceled', startCount: null, remains: 1000 });
    await engine.handle(running.orderId).result();
    await engine.history(order.orderId);
  });

  it('R-REFILL-STATUS: a guaranteed order that has not completed is refused; a Partial one ends without waiting', async () => {
    const userId = await engine.newUser('10.00000');
    const placed = await engine.placeOrder({ userId, serviceId: engine.seed.serviceIds.followersNoLookup });
    await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount: 5, remains: 1000 });
    await engine.waitForState(placed.orderId, (s) => s.status === 'in_progress');
    expect(await requestRefill(engine.client, placed.orderId, byUser(userId))).toEqual({
      accepted: false,
      rule: 'R-REFILL-STATUS',
      reason: 'only a completed order can be refilled (order is in_progress)',
    });
    // A validator's refusal leaves no trace in the history.
    expect(eventNames(await engine.history(placed.orderId)).filter((n) => n.startsWith('WorkflowExecutionUpdate'))).toEqual([
      'WorkflowExecutionUpdateAccepted', 'WorkflowExecutionUpdateCompleted', // placement only
    ]);
    await engine.providerUpdate(placed.orderId, { status: 'partial', startCount: 5, remains: 100 });
    const final = await engine.handle(placed.orderId).result();
    expect(final).toMatchObject({ status: 'partial' });
    expect(final.refills).toBeUndefined();
  });

  it("ACCESS: a user refills only their own orders (another user's request is refused)", async () => {
    const order = await completed();
    const stranger = await engine.newUser();
    expect(await ask(order, byUser(stranger))).toEqual({
      accepted: false,
      rule: 'ACCESS',
      reason: "only the order's owner (or support) can request its refill",
    });
  });
});

describe('R-REFILL-COOLDOWN: more than 24 hours after completion and after the last refill completed', () => {
  it('R-REFILL-COOLDOWN: refused at 23:59 after completion, accepted after 24 h; one in flight blocks; the next cooldown starts when the refill COMPLETES', async () => {
    const order = await completed();
    expect(await ask(order)).toMatchObject({ accepted: false, rule: 'R-REFILL-COOLDOWN', reason: expect.stringMatching(/^refill is possible more than 24 hours after the order completed/) });
    await engine.temporal.env.sleep(DAY - MINUTE);
    expect(await ask(order)).toMatchObject({ accepted: false, rule: 'R-REFILL-COOLDOWN' });
    await engine.temporal.env.sleep(2 * MINUTE);
    const first = accepted(await ask(order));
    expect(first).toMatchObject({ status: 'pending', providerRefillId: expect.any(String), attempts: 1, reason: null, completedAt: null });
    expect(await rowOf(first.refillId)).toMatchObject({ orderId: order.orderId, status: 'pending', providerRefillId: first.providerRefillId, sendAttempt: 1 });
    // In flight: another request is refused at once.
    expect(await ask(order)).toEqual({ accepted: false, rule: 'R-REFILL-COOLDOWN', reason: 'a refill is already in progress' });
    // The provider takes two days; 47 hours after the REQUEST the refill is still running.
    await refillMoves(order, first, 'in_progress');
    await engine.temporal.env.sleep(2 * DAY);
    await refillCompletes(order, first);
    expect(await rowOf(first.refillId)).toMatchObject({ status: 'completed', completedAt: expect.any(Date) });
    // Counted from the completion, not from the request: refused for the next 24 hours.
    expect(await ask(order)).toMatchObject({ accepted: false, rule: 'R-REFILL-COOLDOWN', reason: expect.stringMatching(/^refill is possible more than 24 hours after the last refill completed/) });
    await engine.temporal.env.sleep(DAY - MINUTE);
    expect(await ask(order)).toMatchObject({ accepted: false, rule: 'R-REFILL-COOLDOWN' });
    await engine.temporal.env.sleep(2 * MINUTE);
    const second = accepted(await ask(order));
    expect(second.refillId).not.toBe(first.refillId);
    expect(simRefills(order.providerOrderId)).toHaveLength(2);
    // Refills never touch the balance.
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe(order.balance);
    expect(await engine.prisma.ledgerEntry.count({ where: { orderId: order.orderId } })).toBe(1); // the debit only
    await refillCompletes(order, second);
    const state = await engine.state(order.orderId);
    expect(state.refills).toMatchObject({ total: 2, voidReason: null, lastCompletedAt: expect.any(Number) });
    expect(state.flags.refillFailed).toBe(false);
    await engine.history(order.orderId);
  });
});

describe('R-REFILL-WINDOW: the refill period minus 3 days, from the order date', () => {
  it('R-REFILL-WINDOW: a 30-day guarantee accepts a request just before day 27 and refuses one just after; the workflow ends once nothing is in flight', async () => {
    const order = await completed();
    const now = await engine.temporal.env.currentTimeMs();
    const day27 = order.placedAt + 27 * DAY;
    await engine.temporal.env.sleep(day27 - now - MINUTE);
    const last = accepted(await ask(order));
    await engine.temporal.env.sleep(2 * MINUTE);
    // The refill in flight keeps the workflow open; the window has closed.
    expect(await ask(order)).toEqual({
      accepted: false,
      rule: 'R-REFILL-WINDOW',
      reason: `refill window closed at ${new Date(day27).toISOString()} (guarantee period minus 3 days from the order date)`,
    });
    await refillCompletes(order, last);
    const final = await engine.handle(order.orderId).result();
    expect(final).toMatchObject({ status: 'completed', refills: { total: 1 } });
    await expect(ask(order)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await engine.history(order.orderId);
  });

  it('R-REFILL-WINDOW: with nothing in flight the workflow closes at day 27 of a 30-day guarantee, on its own timer', async () => {
    const order = await completed();
    await engine.temporal.env.sleep(27 * DAY + MINUTE);
    const final = await engine.handle(order.orderId).result();
    expect(final.status).toBe('completed');
    const names = eventNames(await engine.history(order.orderId));
    expect(names.at(-1)).toBe('WorkflowExecutionCompleted');
    expect(names.filter((n) => n === 'TimerFired')).toHaveLength(1); // the window's end
  });
});

describe('duplicates', () => {
  it('the same request id twice, and the same request sent five times at once, make one refill', async () => {
    const order = await completed();
    await engine.temporal.env.sleep(DAY + MINUTE);
    const request = byUser(order.userId, 'double-click');
    const answers = await Promise.all(Array.from({ length: 5 }, () => ask(order, request)));
    const ids = new Set(answers.map((a) => accepted(a).refillId));
    expect(ids.size).toBe(1);
    expect(accepted(await ask(order, request)).refillId).toBe([...ids][0]);
    expect(simRefills(order.providerOrderId)).toHaveLength(1);
    expect(await engine.prisma.refill.count({ where: { orderId: order.orderId } })).toBe(1);
    await engine.history(order.orderId);
  });

  it('concurrent requests with different ids: one refill, the others refused "a refill is already in progress"', async () => {
    const order = await completed();
    await engine.temporal.env.sleep(DAY + MINUTE);
    const answers = await Promise.all(Array.from({ length: 4 }, () => ask(order)));
    expect(answers.filter((a) => a.accepted)).toHaveLength(1);
    for (const refused of answers.filter((a) => !a.accepted)) {
      expect(refused).toEqual({ accepted: false, rule: 'R-REFILL-COOLDOWN', reason: 'a refill is already in progress' });
    }
    expect(simRefills(order.providerOrderId)).toHaveLength(1);
    expect(await engine.prisma.refill.count({ where: { orderId: order.orderId } })).toBe(1);
    await engine.history(order.orderId);
  });
});

describe('R-REFILL-SUPPORT: a refill the provider does not take is reported, and support retries it', () => {
  it('R-REFILL-SUPPORT: Rejected by the provider → refill_failed (state, search attribute, row); users cannot retry it, support can', async () => {
    const order = await completed();
    await engine.temporal.env.sleep(DAY + MINUTE);
    const refill = accepted(await ask(order));
    await refillMoves(order, refill, 'rejected');
    const state = await engine.waitForState(order.orderId, (s) => s.flags.refillFailed);
    expect(state.refills!.recent.at(-1)).toMatchObject({ refillId: refill.refillId, status: 'rejected', reason: 'the provider rejected the refill (status "rejected")' });
    expect((await engine.handle(order.orderId).describe()).typedSearchAttributes.get(OrderFlagsKey)).toContain('refill_failed');
    await waitForRow(refill.refillId, (r) => r.status === 'rejected');
    // Users cannot retry; support can (a rejected refill starts no cooldown).
    expect(await retryRefill(engine.client, order.orderId, { refillId: refill.refillId, requestedBy: { kind: 'user', userId: order.userId } })).toEqual({
      accepted: false,
      rule: 'R-REFILL-SUPPORT',
      reason: 'only support can retry a refill',
    });
    engine.simClock!.advance(MINUTE); // the provider's own refill is over
    const retried = accepted(await retryRefill(engine.client, order.orderId, { refillId: refill.refillId, ...bySupport(), reason: 'customer asked' }));
    expect(retried).toMatchObject({ refillId: refill.refillId, status: 'pending', attempts: 2, reason: null });
    expect(retried.providerRefillId).not.toBe(refill.providerRefillId);
    expect((await engine.state(order.orderId)).flags.refillFailed).toBe(false);
    expect(await rowOf(refill.refillId)).toMatchObject({ status: 'pending', sendAttempt: 2, providerRefillId: retried.providerRefillId });
    // A late update about the first attempt is ignored; the retry's completes it.
    await refillMoves(order, refill, 'completed');
    await refillCompletes(order, retried);
    expect(await rowOf(refill.refillId)).toMatchObject({ status: 'completed', sendAttempt: 2 });
    expect(simRefills(order.providerOrderId)).toHaveLength(2);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe(order.balance);
    await engine.history(order.orderId);
  });

  it('R-REFILL-NEED: without a count source the provider\'s refusal is passed on with its reason; the refill is failed and support can retry it', async () => {
    const link = engine.uniqueLink('refuses-refill');
    engine.simulator.state.addScenario(link, { refill: 'refuse' });
    const order = await completed({ link });
    await engine.temporal.env.sleep(DAY + MINUTE);
    const refused = await ask(order);
    expect(refused).toMatchObject({
      accepted: false,
      rule: 'R-REFILL-NEED',
      reason: 'the provider refused the refill: Order not eligible for refill.',
      refill: { status: 'failed', providerRefillId: null, attempts: 1 },
    });
    const refillId = (refused as { refill: RefillRecord }).refill.refillId;
    expect(await engine.state(order.orderId)).toMatchObject({ flags: { refillFailed: true } });
    expect(await rowOf(refillId)).toMatchObject({ status: 'failed', reason: 'the provider refused the refill: Order not eligible for refill.' });
    // Support retries by hand: still refused by this provider, the row says so again.
    expect(await retryRefill(engine.client, order.orderId, { refillId, ...bySupport() })).toMatchObject({
      accepted: false,
      rule: 'R-REFILL-SUPPORT',
      refill: { status: 'failed', attempts: 2 },
    });
    expect(await rowOf(refillId)).toMatchObject({ status: 'failed', sendAttempt: 2 });
    await engine.history(order.orderId);
  });
});

describe('R-REFILL-NEED with the simulator\'s count source', () => {
  /** An order on the provider WITH a count source, with the start count the simulator recorded. */
  async function counted(): Promise<Completed & { link: string; startCount: number }> {
    const link = engine.uniqueLink('counted');
    const userId = await engine.newUser('10.00000');
    const placed = await engine.placeOrder({ userId, serviceId: engine.seed.serviceIds.followers, link });
    const state = await engine.waitForState(placed.orderId, (s) => s.providerOrderId !== null);
    engine.simClock!.advance(10 * MINUTE);
    const sim = engine.simulator.state.getOrder(Number(state.providerOrderId))!;
    expect(sim.status).toBe('Completed');
    const startCount = sim.startCount!;
    await engine.providerUpdate(placed.orderId, { status: 'in_progress', startCount, remains: 1000 });
    await engine.providerUpdate(placed.orderId, { status: 'completed', startCount, remains: 0 });
    await engine.waitForState(placed.orderId, (s) => s.status === 'completed');
    await engine.temporal.env.sleep(DAY + MINUTE);
    return { orderId: placed.orderId, userId, providerOrderId: state.providerOrderId!, placedAt: placed.input.placedAt, balance: await engine.deps.ledger.balanceOf(userId), link, startCount };
  }

  it('R-REFILL-NEED: the count did not drop → refused with the counts, nothing sent', async () => {
    const order = await counted();
    const current = engine.simulator.state.count(order.link);
    expect(current).toBe(order.startCount + 1000);
    expect(await ask(order)).toEqual({
      accepted: false,
      rule: 'R-REFILL-NEED',
      reason: `no refill needed: the count is ${current}, not below start count ${order.startCount} + quantity 1000 = ${order.startCount + 1000}`,
      counts: { startCount: order.startCount, quantity: 1000, currentCount: current },
    });
    expect(simRefills(order.providerOrderId)).toHaveLength(0);
    expect(await engine.prisma.refill.count({ where: { orderId: order.orderId } })).toBe(0);
    await engine.history(order.orderId);
  });

  it('R-REFILL-NEED: the count dropped → the refill is sent with the counts; it restores at most the delivered quantity', async () => {
    const order = await counted();
    engine.simulator.state.setCount(order.link, order.startCount + 1000 - 150);
    const refill = accepted(await ask(order));
    expect(refill).toMatchObject({ status: 'pending', counts: { startCount: order.startCount, quantity: 1000, currentCount: order.startCount + 850 } });
    expect(simRefills(order.providerOrderId)).toEqual([Number(refill.providerRefillId)]);
    engine.simClock!.advance(MINUTE);
    await refillCompletes(order, refill);
    expect(engine.simulator.state.count(order.link)).toBe(order.startCount + 1000); // back to start + quantity, never more
    await engine.history(order.orderId);
  });
});

describe('R-REFILL-VOID: the link ordered elsewhere voids the guarantee', () => {
  it('R-REFILL-VOID: a later order for the same link on another service → refused with the reason, recorded, and the workflow ends', async () => {
    const link = engine.uniqueLink('void-later');
    const order = await completed({ link });
    const other = await engine.placeOrder({ userId: order.userId, serviceId: engine.seed.serviceIds.followersNoCancel, link });
    expect(other.result).toMatchObject({ accepted: true });
    await engine.temporal.env.sleep(DAY + MINUTE);
    const reason = `refill guarantee is void: this link was also ordered on a service without refill (order ${other.orderId})`;
    expect(await ask(order)).toEqual({ accepted: false, rule: 'R-REFILL-VOID', reason });
    expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).toMatchObject({ refillVoidReason: reason });
    const final = await engine.handle(order.orderId).result();
    expect(final.refills).toMatchObject({ voidReason: reason, total: 0 });
    expect(simRefills(order.providerOrderId)).toHaveLength(0);
    await engine.providerUpdate(other.orderId, { status: 'canceled', startCount: null, remains: 1000 });
    await engine.handle(other.orderId).result();
    await engine.history(order.orderId);
  });

  it("R-REFILL-VOID: an EARLIER order for the link on another service, by another account, voids it too (without naming that account's order)", async () => {
    const link = engine.uniqueLink('void-earlier');
    // Another service WITH a refill guarantee (the same followers on the other provider).
    await completed({ link, serviceId: engine.seed.serviceIds.followers });
    const order = await completed({ link });
    await engine.temporal.env.sleep(DAY + MINUTE);
    expect(await ask(order)).toEqual({
      accepted: false,
      rule: 'R-REFILL-VOID',
      reason: 'refill guarantee is void: this link was also ordered on another service (an order of another account)',
    });
  });

  it('R-REFILL-VOID: an order for the link on the SAME service does not void it', async () => {
    const link = engine.uniqueLink('same-service');
    const first = await completed({ link });
    const order = await completed({ link, userId: first.userId });
    await engine.temporal.env.sleep(DAY + MINUTE);
    expect(accepted(await ask(order))).toMatchObject({ status: 'pending' });
  });
});

describe('R-BLOCKED', () => {
  it('R-BLOCKED: the owner blocked → refused when the request is checked (support asking too)', async () => {
    const order = await completed();
    await engine.temporal.env.sleep(DAY + MINUTE);
    await engine.prisma.user.update({ where: { id: order.userId }, data: { status: 'blocked' } });
    expect(await ask(order)).toEqual({ accepted: false, rule: 'R-BLOCKED', reason: 'the account is blocked: it can request no refills' });
    expect(await ask(order, bySupport())).toMatchObject({ accepted: false, rule: 'R-BLOCKED' });
    await engine.prisma.user.update({ where: { id: order.userId }, data: { status: 'active' } });
    expect(accepted(await ask(order))).toMatchObject({ status: 'pending' });
  });
});

describe('a lifetime guarantee', () => {
  it(`R-REFILL-WINDOW: a lifetime guarantee never closes; its workflow continues-as-new (every ${REFILLS_PER_RUN} refills or ${RUN_MAX_AGE_MS / DAY} days) with its state, each run small`, async () => {
    const lifetime = await engine.prisma.service.create({
      data: {
        name: 'Instagram Followers [Lifetime]', category: 'Instagram', providerId: engine.seed.noLookupProviderId, providerServiceId: '1',
        rate: '1.50000', min: 50, max: 10000, refillKind: 'lifetime', cancelable: true,
      },
    });
    const order = await completed({ serviceId: lifetime.id });
    const handle = engine.handle(order.orderId);
    const firstRunId = (await handle.describe()).runId;
    let refills = 0;
    // A refill every 10 days for 100 days, then a quiet 70 days.
    for (let day = 10; day <= 100; day += 10) {
      await engine.temporal.env.sleep(10 * DAY);
      const refill = accepted(await ask(order));
      await refillCompletes(order, refill);
      refills++;
    }
    await engine.temporal.env.sleep(70 * DAY);
    const state = await engine.waitForState(order.orderId, (s) => s.refills?.total === refills);
    expect(state).toMatchObject({ status: 'completed', guarantee: { kind: 'lifetime' }, refills: { total: refills, voidReason: null } });
    // Still open, 170 days on, and still refilling.
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await refillCompletes(order, accepted(await ask(order)));
    // Follow the chain of runs from the first.
    const runs: string[][] = [];
    let runId: string | undefined = firstRunId;
    while (runId) {
      const history = await engine.history(order.orderId, runId);
      runs.push(eventNames(history));
      const last = history.events!.at(-1)!;
      runId = last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const run of runs.slice(0, -1)) expect(run.at(-1)).toBe('WorkflowExecutionContinuedAsNew');
    for (const run of runs) expect(run.length).toBeLessThan(400);
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    const rows = await engine.prisma.refill.findMany({ where: { orderId: order.orderId } });
    expect(rows.map((r) => r.status)).toEqual(Array(refills + 1).fill('completed'));
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe(order.balance);
    console.log(`lifetime order over 170 days: ${runs.length} runs of ${runs.map((r) => r.length).join(', ')} events`);
  });
});

describe('the worker restarted in the middle of a refill', () => {
  // The new worker gets the order's next task only once Temporal gives up on the old worker's sticky queue.
  itUnlessOfficialServer('stickyQueueAfterShutdown', 'R-REFILL-COOLDOWN: a refill sent before the worker stopped completes after a new one started; one provider refill', async () => {
    const order = await completed();
    await engine.temporal.env.sleep(DAY + MINUTE);
    const refill = accepted(await ask(order));
    await engine.restartWorker(async () => {
      // While no worker runs: the provider works on the refill, and the sync's signals wait in Temporal.
      engine.simClock!.advance(MINUTE);
      await refillMoves(order, refill, 'in_progress');
      await refillMoves(order, refill, 'completed');
    });
    const state = await engine.waitForState(order.orderId, (s) => s.refills?.recent.at(-1)?.status === 'completed');
    expect(state.refills).toMatchObject({ total: 1, lastCompletedAt: expect.any(Number) });
    await waitForRow(refill.refillId, (r) => r.status === 'completed');
    expect(simRefills(order.providerOrderId)).toHaveLength(1);
    expect(await engine.deps.ledger.balanceOf(order.userId)).toBe(order.balance);
    await engine.history(order.orderId);
  });
});

async function waitForRow(refillId: number, predicate: (row: Awaited<ReturnType<typeof rowOf>>) => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (predicate(await rowOf(refillId))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`refill ${refillId}: the row never matched`);
}
