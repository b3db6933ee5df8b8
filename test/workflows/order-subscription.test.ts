/**
 * Subscriptions to future posts after dispatch (issue 12), through the real order workflow, the real
 * provider sync and the simulator, which serves a post every `postEveryMs` of its (virtual) clock.
 * The test moves the simulator's clock a day at a time and lets Temporal's time skip the same day,
 * so 6 weeks pass in a few hundred sync rounds (the sync is started with a slower policy: at most
 * one round every 6 hours when nothing changes).
 */
import type { temporal as proto } from '@temporalio/proto';
import Decimal from 'decimal.js';
import { ownStatusRows, statusView } from '../../api/v2/actions/status';
import { orderFromState, typeFieldsOfInput } from '../../api/views';
import { postAmount } from '../../provider-simulator/subscription';
import { ORDER_WORKFLOW_TYPE, buildOrderInput, cancelOrder, reserveOrderId, startOrder } from '../../worker/order-client';
import { ORDER_TASK_QUEUE, orderWorkflowId, providerSyncWorkflowId } from '../../workflows/order-contract';
import { orderSearchAttributes } from '../../workflows/order-search-attributes';
import { mirrorSnapshot } from '../../workflows/order-state';
import type { OrderWorkflowCarried } from '../../workflows/order-workflow';
import type { OrderState } from '../../workflows/order-contract';
import { POSTS_PER_RUN } from '../../workflows/order-subscription';
import type { TestEngine } from '../support/engine';
import { useTestEngine } from '../support/use-test-engine';

let engine: TestEngine;
useTestEngine((started) => (engine = started), { providerSync: true });

const DAY = 24 * 3600_000;
/** 30 new posts over 6 weeks: one every 1.4 days. */
const POST_EVERY_MS = (42 * DAY) / 30;
/** A run's history stays under this many events (10 posts a run, a handful of events each). */
const MAX_EVENTS_PER_RUN = 120;

let serviceId: number;
jest.setTimeout(600_000);

beforeAll(async () => {
  // The sync at a pace fit for weeks: a round every 6 h when quiet, 1 h after a change.
  await engine.client.workflow.start('providerSyncWorkflow', {
    workflowId: providerSyncWorkflowId(engine.seed.providerId),
    taskQueue: ORDER_TASK_QUEUE,
    args: [{ providerId: engine.seed.providerId, policy: { minIntervalMs: 3600_000, maxIntervalMs: 6 * 3600_000, idleEndMs: 60 * DAY } }],
  });
  // Our service over the simulator's subscription service (catalogue 21), rate 0.40 / 1000.
  const s = await engine.prisma.service.create({
    data: { name: 'Auto likes', category: 'Instagram', type: 'subscriptions', rate: '0.40000', min: 50, max: 5000, providerId: engine.seed.providerId, providerServiceId: '21', cancelable: true },
  });
  serviceId = s.id;
});

async function subscribe(name: string, fields: Record<string, string>, scenario: Record<string, unknown> = {}) {
  // Both clocks on the same instant: the expiry a test computes means the same day to both.
  engine.simClock!.set(await engine.temporal.env.currentTimeMs());
  const username = `${name}_${engine.uniqueLink('u').replace(/\W/g, '').slice(-10)}`;
  engine.simulator.state.addScenario(username, { postEveryMs: POST_EVERY_MS, startDelayMs: 0, ...scenario });
  const userId = await engine.newUser('10.00000');
  const orderId = await reserveOrderId(engine.prisma);
  const input = await buildOrderInput(engine.prisma, orderId, {
    userId,
    serviceId,
    fields: { username, min: '100', max: '300', posts: '30', delay: '0', ...fields },
    placedAt: await engine.temporal.env.currentTimeMs(),
  });
  expect(await startOrder(engine.client, input)).toMatchObject({ accepted: true });
  const dispatched = await engine.waitForState(orderId, (s) => s.providerOrderId !== null);
  return { orderId, userId, input, providerOrderId: Number(dispatched.providerOrderId) };
}

/** Moves both clocks `days` days forward, a day at a time (the sync polls in between). */
async function passDays(days: number) {
  for (let d = 0; d < days; d++) {
    engine.simClock!.advance(DAY);
    await engine.temporal.env.sleep('1 day');
  }
}

/** R-SUBSCRIPTION-UNSERVED, computed here from what each post got: charge × Σ(max − got) / (max × posts), rounded down. */
function expectedRefund(charge: string, max: number, posts: number, got: number[]): string {
  const unserved = (posts - got.length) * max + got.reduce((sum, g) => sum + (max - Math.min(g, max)), 0);
  return new Decimal(charge).mul(unserved).div(max * posts).toDecimalPlaces(5, Decimal.ROUND_DOWN).toFixed(5);
}

/** Every run of the order's workflow, first to last, with its event count. */
async function runsOf(orderId: number, firstRunId: string): Promise<number[]> {
  const counts: number[] = [];
  let runId: string | null = firstRunId;
  while (runId) {
    const history: proto.api.history.v1.IHistory = await engine.history(orderId, runId);
    const events: proto.api.history.v1.IHistoryEvent[] = history.events ?? [];
    counts.push(events.length);
    runId = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? null;
  }
  return counts;
}

const refundsOf = async (orderId: number) =>
  (await engine.prisma.ledgerEntry.findMany({ where: { orderId, kind: 'refund' } })).map((e) => ({ amount: e.amount.toFixed(5), key: e.idempotencyKey }));

describe('subscriptions to future posts', () => {
  it('R-SUBSCRIPTION-UNSERVED, R-CHARGE-MAX: 30 posts over 6 weeks are followed post by post, the run continues as new, and the end refunds exactly what the posts did not get', async () => {
    const sub = await subscribe('weeks', {});
    expect(sub.input.charge).toBe('3.60000'); // 0.4 × 300 × 30 / 1000
    const firstRunId = (await engine.handle(sub.orderId).describe()).runId;
    await passDays(21);
    const midway = await engine.handle(sub.orderId).query<OrderState>('state');
    expect(midway.status).toBe('in_progress');
    expect(midway.subscription).toMatchObject({ status: 'active' });
    expect(midway.subscription!.posts).toBeGreaterThanOrEqual(14);
    // API v2 `status` answers the posts served as panels do; the live view shows them with what each got.
    const v2 = statusView((await ownStatusRows(engine.prisma, sub.userId, [sub.orderId])).get(sub.orderId)!, 'USD');
    expect(v2).toMatchObject({ status: 'In progress', posts: String(midway.subscription!.posts) });
    expect(orderFromState(midway, 'user', typeFieldsOfInput(sub.input)).posts).toEqual({ status: 'active', served: midway.subscription!.posts, ordered: 30, delivered: midway.subscription!.delivered });
    await passDays(22);
    const final = await engine.handle(sub.orderId).result();
    const got = Array.from({ length: 30 }, (_, k) => postAmount(sub.providerOrderId, k, 100, 300));
    const refund = expectedRefund('3.60000', 300, 30, got);
    expect(final).toMatchObject({ status: 'partial', refunded: refund, subscription: { status: 'completed', posts: 30, delivered: got, settled: true } });
    expect(final.refunds.map((r) => [r.amount, r.rule])).toEqual([[refund, 'R-SUBSCRIPTION-UNSERVED']]);
    expect(await refundsOf(sub.orderId)).toEqual([{ amount: refund, key: `order-${sub.orderId}:refund` }]);
    expect(await engine.deps.ledger.balanceOf(sub.userId)).toBe(new Decimal('10').minus('3.6').plus(refund).toFixed(5));
    expect(await engine.prisma.order.findUniqueOrThrow({ where: { id: sub.orderId } })).toMatchObject({ status: 'partial', remains: final.remains });
    // History: a new run every POSTS_PER_RUN posts, each one bounded.
    const runs = await runsOf(sub.orderId, firstRunId);
    expect(runs.length).toBeGreaterThanOrEqual(Math.floor(30 / POSTS_PER_RUN));
    for (const events of runs) expect(events).toBeLessThan(MAX_EVENTS_PER_RUN);
  });

  it('R-SUBSCRIPTION-UNSERVED: a subscription that expires with posts unserved refunds those posts at max and the shortfall of the served ones', async () => {
    // Expires at the end of the day 10 days from now: 7 posts served (one every 1.4 days).
    const now = await engine.temporal.env.currentTimeMs();
    const expiresAt = new Date(now + 9 * DAY);
    const expiry = `${expiresAt.getUTCDate()}/${expiresAt.getUTCMonth() + 1}/${expiresAt.getUTCFullYear()}`;
    const sub = await subscribe('expiry', { expiry });
    await passDays(12);
    const final = await engine.handle(sub.orderId).result();
    const served = final.subscription!.posts;
    expect(final.subscription).toMatchObject({ status: 'expired', settled: true });
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(30);
    const got = Array.from({ length: served }, (_, k) => postAmount(sub.providerOrderId, k, 100, 300));
    const refund = expectedRefund('3.60000', 300, 30, got);
    expect(final).toMatchObject({ status: 'partial', refunded: refund });
    expect(final.refunds.map((r) => [r.amount, r.rule])).toEqual([[refund, 'R-SUBSCRIPTION-UNSERVED']]);
    expect(await refundsOf(sub.orderId)).toEqual([{ amount: refund, key: `order-${sub.orderId}:refund` }]);
  });

  it('R-CANCEL-REQUEST, R-SUBSCRIPTION-UNSERVED: a cancel mid-way asks the provider to cancel; the posts served until then are kept, the rest is refunded exactly', async () => {
    const sub = await subscribe('cancel', {});
    await passDays(5);
    const answer = await cancelOrder(engine.client, sub.orderId, { requestedBy: { kind: 'user', userId: sub.userId } });
    expect(answer).toMatchObject({ accepted: true, rule: 'R-CANCEL-REQUEST' });
    await passDays(1);
    const final = await engine.handle(sub.orderId).result();
    const served = final.subscription!.posts;
    expect(final.subscription).toMatchObject({ status: 'canceled', settled: true });
    expect(served).toBe(3); // posts at 1.4, 2.8 and 4.2 days
    const got = Array.from({ length: served }, (_, k) => postAmount(sub.providerOrderId, k, 100, 300));
    const refund = expectedRefund('3.60000', 300, 30, got);
    expect(final).toMatchObject({ status: 'partial', refunded: refund });
    expect(final.refunds.map((r) => [r.amount, r.rule])).toEqual([[refund, 'R-SUBSCRIPTION-UNSERVED']]);
    expect(await engine.deps.ledger.balanceOf(sub.userId)).toBe(new Decimal('10').minus('3.6').plus(refund).toFixed(5));
  });

  it('R-AUTO-CANCEL, R-SUBSCRIPTION-UNSERVED: a subscription the provider cancels before any post ends canceled with the whole charge back', async () => {
    const sub = await subscribe('dropped', {}, { end: 'canceled', cancelAfterMs: 3600_000 });
    await passDays(1);
    const final = await engine.handle(sub.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '3.60000', remains: 9000, subscription: { status: 'canceled', posts: 0, settled: true } });
    expect(final.refunds.map((r) => [r.amount, r.rule])).toEqual([['3.60000', 'R-AUTO-CANCEL']]);
    expect(await engine.deps.ledger.balanceOf(sub.userId)).toBe('10.00000');
  });

  it('R-CANCEL-FULL: support\'s cancel of an active subscription gives the whole charge back at once and asks the provider to drop it', async () => {
    const sub = await subscribe('support', {});
    await passDays(3);
    const answer = await cancelOrder(engine.client, sub.orderId, { requestedBy: { kind: 'support', userId: 1 }, mode: 'full_refund', reason: 'customer complaint' });
    expect(answer).toMatchObject({ accepted: true });
    const final = await engine.handle(sub.orderId).result();
    expect(final).toMatchObject({ status: 'canceled', refunded: '3.60000' });
    expect(final.refunds.map((r) => r.rule)).toEqual(['R-CANCEL-FULL']);
    expect(engine.simulator.state.getOrder(sub.providerOrderId)!.cancelRequestedAt).not.toBeNull();
  });

  it('a subscription the provider pauses is followed through Paused and back to Active, the order staying in progress', async () => {
    const sub = await subscribe('paused', {}, { pauseAfterMs: DAY, pauseForMs: 2 * DAY });
    await passDays(2);
    const paused = await engine.handle(sub.orderId).query<OrderState>('state');
    expect(paused).toMatchObject({ status: 'in_progress', subscription: { status: 'paused', posts: 0 } });
    await passDays(2);
    const active = await engine.handle(sub.orderId).query<OrderState>('state');
    // The post due at 1.4 days waited for the pause's end (3 days); the next came at 2.8 days.
    expect(active).toMatchObject({ status: 'in_progress', subscription: { status: 'active', posts: 2 } });
    await cancelOrder(engine.client, sub.orderId, { requestedBy: { kind: 'support', userId: 1 }, mode: 'full_refund', reason: 'test over' });
    await engine.handle(sub.orderId).result();
  });

  it('R-SUBSCRIPTION-UNSERVED: a run that continues as new having missed the last per-post signals catches up from the row with what each post got, and the refund is exact (not those posts counted at max)', async () => {
    const sub = await subscribe('catchup', { posts: '3' });
    expect(sub.input.charge).toBe('0.36000'); // 0.4 × 300 × 3 / 1000
    await passDays(2); // post 1 served at 1.4 days
    const stale = await engine.waitForState(sub.orderId, (s) => s.subscription?.posts === 1);
    // The run ends handing on its state, as a continue-as-new does; what the sync says next it misses.
    await engine.handle(sub.orderId).terminate('test: the next run starts from a state that missed the last signals');
    await passDays(4); // posts 2 and 3 served (2.8 and 4.2 days): Completed upstream
    const got = Array.from({ length: 3 }, (_, k) => postAmount(sub.providerOrderId, k, 100, 300));
    expect(got[1]! + got[2]!).toBeLessThan(600); // so counting them at max would refund less
    // What the sync wrote when it signalled the run that then continued as new (provider-sync-activities writeAnswered).
    await engine.prisma.order.update({ where: { id: sub.orderId }, data: { upstreamStatus: 'completed', upstreamRemains: 3, upstreamDelivered: got } });
    const carried: OrderWorkflowCarried = {
      state: stale,
      placement: { accepted: true, order: stale },
      mirrored: mirrorSnapshot(stale),
      cancelAnswers: [],
      dispatch: { redispatches: 0, awaitingSupport: false, looked: false },
    };
    await engine.client.workflow.start(ORDER_WORKFLOW_TYPE, {
      workflowId: orderWorkflowId(sub.orderId),
      taskQueue: ORDER_TASK_QUEUE,
      args: [sub.input, carried],
      typedSearchAttributes: orderSearchAttributes(stale),
    });
    const final = await engine.handle(sub.orderId).result();
    const refund = expectedRefund('0.36000', 300, 3, got);
    expect(final).toMatchObject({ status: 'partial', refunded: refund, subscription: { status: 'completed', posts: 3, delivered: got, settled: true } });
    expect(final.refunds.map((r) => [r.amount, r.rule])).toEqual([[refund, 'R-SUBSCRIPTION-UNSERVED']]);
    expect(await refundsOf(sub.orderId)).toEqual([{ amount: refund, key: `order-${sub.orderId}:refund` }]);
    await engine.history(sub.orderId);
  });
});
