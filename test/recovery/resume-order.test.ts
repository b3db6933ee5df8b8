/**
 * The pure parts of the order recovery (recovery/resume-order.ts): which rows whose workflow is gone
 * get a new run, and the state that run starts from.
 */
import { DAY_MS } from '../../domain/time';
import { recoveryIntervalFromEnv } from '../../recovery/ensure-recovery';
import { LOST_REFILL_REASON, REJECT_UNPAID_MESSAGE, decideOrphan, refundRuleOf, resumeOf, resumedStatus } from '../../recovery/resume-order';
import type { OrphanRefillRow, OrphanRow } from '../../recovery/resume-order';
import { mirrorPatch, mirrorSnapshot } from '../../workflows/order-state';
import { guaranteeOpen } from '../../workflows/refill-state';

const NOW = Date.parse('2026-12-04T12:00:00Z');

function row(patch: Partial<OrphanRow> = {}): OrphanRow {
  return {
    id: 42,
    userId: 7,
    serviceId: 3,
    providerId: 1,
    providerServiceId: '3',
    link: 'https://instagram.com/x',
    linkKey: 'instagram.com/x',
    quantity: 1000,
    rate: '0.12000',
    charge: '0.12000',
    refillKind: 'none',
    refillDays: null,
    cancelable: true,
    status: 'in_progress',
    overdue: false,
    stalled: false,
    cancelRequested: false,
    providerOrderId: '10001',
    startCount: 150,
    remains: 700,
    refunded: '0.00000',
    lastProviderAnswer: { status: 'In progress' },
    typeFields: {},
    rejectReason: null,
    idempotencyKey: null,
    requestHash: null,
    createdAt: NOW - 3_600_000,
    startedAt: NOW - 3_000_000,
    finishedAt: null,
    dispatchQuantity: null,
    dispatchState: 'answered',
    refillVoidReason: null,
    debit: { at: NOW - 3_599_000 },
    refund: null,
    refills: [],
    ...patch,
  };
}

function refill(patch: Partial<OrphanRefillRow> = {}): OrphanRefillRow {
  return {
    id: 9,
    requestId: 'r1',
    requestedBy: { kind: 'user', userId: 7 },
    status: 'completed',
    providerRefillId: '501',
    reason: null,
    sendAttempt: 1,
    createdAt: NOW - 2 * DAY_MS,
    updatedAt: NOW - DAY_MS,
    completedAt: NOW - DAY_MS,
    ...patch,
  };
}

const completedWithGuarantee = (patch: Partial<OrphanRow> = {}) =>
  row({ status: 'completed', refillKind: 'days', refillDays: 30, remains: 0, finishedAt: NOW - 1_000_000, createdAt: NOW - 5 * DAY_MS, ...patch });

describe('decideOrphan: orders whose progress only their workflow knew (issue 12 types)', () => {
  const drip = { runs: 10, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' as const };
  const subscription = { username: 'alice', min: 100, max: 200, posts: 30, oldPosts: 0, delayMinutes: 0 };

  it('R-PARTIAL, R-CANCEL-FULL: an unsettled engine drip-feed is held for support, never settled as one plain order', () => {
    const decision = decideOrphan(row({ status: 'in_progress', typeFields: { dripFeed: drip } }), NOW);
    expect(decision).toMatchObject({ kind: 'hold' });
    expect(decision.reason).toMatch(/drip-feed/);
  });

  it('R-SUBSCRIPTION-UNSERVED: an unsettled subscription is held for support (the posts served are not in the row)', () => {
    expect(decideOrphan(row({ status: 'pending', typeFields: { subscription } }), NOW)).toMatchObject({ kind: 'hold' });
  });

  it('a drip-feed passed to the provider is one upstream order: resumed like a Default order', () => {
    expect(decideOrphan(row({ status: 'in_progress', typeFields: { dripFeed: { ...drip, mode: 'provider' } } }), NOW).kind).toBe('resume');
  });

  it('an unpaid interrupted drip-feed placement is still rejected with nothing charged', () => {
    expect(decideOrphan(row({ status: 'new', debit: null, providerOrderId: null, typeFields: { dripFeed: drip } }), NOW).kind).toBe('reject_unpaid');
  });

  it('R-PRICE-SNAPSHOT: a resumed typed order keeps its type, provider fields and scheduled start in its input', () => {
    const typeFields = { serviceType: 'poll' as const, providerFields: { answer_number: '2' }, executeAt: NOW + 3_600_000 };
    const { input, state } = resumeOf(row({ status: 'pending', providerOrderId: null, typeFields }), NOW);
    expect(input).toMatchObject(typeFields);
    expect(state.executeAt).toBe(NOW + 3_600_000);
  });
});

describe('decideOrphan: which rows without a workflow get a new run', () => {
  it.each(['pending', 'dispatch_uncertain', 'in_progress'] as const)('%s: resumed (the money is held until the order settles)', (status) => {
    expect(decideOrphan(row({ status }), NOW).kind).toBe('resume');
  });

  it.each(['rejected', 'partial', 'canceled'] as const)('%s: nothing to do (final, its money settled)', (status) => {
    expect(decideOrphan(row({ status }), NOW).kind).toBe('none');
  });

  it("R-ONE-ACTIVE-PER-LINK: a 'new' row never paid is rejected (the link is freed), never charged now", () => {
    expect(decideOrphan(row({ status: 'new', debit: null, providerOrderId: null }), NOW)).toMatchObject({ kind: 'reject_unpaid' });
    expect(REJECT_UNPAID_MESSAGE).toMatch(/nothing was charged/);
  });

  it("a 'new' row whose debit was posted is resumed as pending: the user paid, so it is dispatched (no second debit)", () => {
    const paid = row({ status: 'new', providerOrderId: null, startCount: null, remains: null });
    expect(decideOrphan(paid, NOW).kind).toBe('resume');
    expect(resumedStatus(paid)).toBe('pending');
    const { carried } = resumeOf(paid, NOW);
    expect(carried.placement).toMatchObject({ accepted: true });
    expect(carried.state.timestamps.paidAt).toBe(paid.debit!.at);
    expect(carried.mirrored.status).toBe('new'); // the first mirror writes pending
  });

  it('R-REFILL-WINDOW: a completed order with a guarantee is resumed while its window is open, not after', () => {
    expect(decideOrphan(completedWithGuarantee(), NOW).kind).toBe('resume');
    expect(decideOrphan(completedWithGuarantee({ createdAt: NOW - 40 * DAY_MS }), NOW).kind).toBe('none');
    expect(decideOrphan(completedWithGuarantee({ refillKind: 'lifetime', refillDays: null, createdAt: NOW - 400 * DAY_MS }), NOW).kind).toBe('resume');
    expect(decideOrphan(row({ status: 'completed', remains: 0 }), NOW).kind).toBe('none'); // no guarantee
  });

  it('R-REFILL-VOID: a void guarantee is not followed again, unless a refill is still at the provider', () => {
    expect(decideOrphan(completedWithGuarantee({ refillVoidReason: 'another order for the link' }), NOW).kind).toBe('none');
    const inFlight = completedWithGuarantee({ createdAt: NOW - 40 * DAY_MS, refills: [refill({ status: 'in_progress', completedAt: null })] });
    expect(decideOrphan(inFlight, NOW).kind).toBe('resume');
  });
});

describe('resumeOf: the new run starts from what the row holds', () => {
  it('R-PRICE-SNAPSHOT, R-COUNTERS: the terms, upstream id, counters and flags come from the row', () => {
    const r = row({ overdue: true, cancelRequested: true, refillKind: 'days', refillDays: 30 });
    const { input, carried } = resumeOf(r, NOW);
    expect(input).toMatchObject({ orderId: 42, rate: '0.12000', charge: '0.12000', guarantee: { kind: 'days', days: 30 }, cancelable: true, placedAt: r.createdAt });
    expect(carried.state).toMatchObject({
      status: 'in_progress',
      providerOrderId: '10001',
      startCount: 150,
      remains: 700,
      refunded: '0.00000',
      refunds: [],
      flags: { overdue: true, cancelRequested: true },
      timestamps: { placedAt: r.createdAt, startedAt: r.startedAt, finishedAt: null },
    });
    expect(carried.recovered).toMatchObject({ fromStatus: 'in_progress', at: NOW });
    expect(carried.refills).toBeUndefined(); // the main loop follows it, not the refill phase
  });

  it('the first mirror of an unchanged order writes nothing (the row already says it)', () => {
    const { carried } = resumeOf(row(), NOW);
    expect(mirrorPatch(carried.mirrored, mirrorSnapshot(carried.state), carried.state)).toBeNull();
  });

  it('R-PARTIAL: a refund posted before the final status was mirrored ends the order partial, and no second refund is due', () => {
    const r = row({ refund: { amount: '0.03600', rule: 'R-PARTIAL', at: NOW - 1000 }, refunded: '0.03600', remains: 300 });
    const { carried } = resumeOf(r, NOW);
    expect(carried.state).toMatchObject({ status: 'partial', refunded: '0.03600', refunds: [{ amount: '0.03600', rule: 'R-PARTIAL', idempotencyKey: 'order-42:refund' }] });
    expect(carried.state.timestamps.finishedAt).toBe(NOW - 1000);
    expect(carried.mirrored.status).toBe('in_progress'); // the final status is mirrored by the new run
  });

  it('R-CANCEL-FULL: a cancel refund posted before the final mirror ends the order canceled, refunded once', () => {
    const r = row({ refund: { amount: '0.12000', rule: 'R-CANCEL-FULL', at: NOW - 1000 }, refunded: '0.12000' });
    expect(resumeOf(r, NOW).carried.state).toMatchObject({ status: 'canceled', refunds: [{ amount: '0.12000' }] });
  });

  it('R-CANCEL-FULL: a row whose dispatch fence was closed (abandoned) before its refund resumes pending, so the new run finds the fence, sends nothing and refunds', () => {
    const abandoned = { providerOrderId: null, startCount: null, remains: null, startedAt: null, lastProviderAnswer: null, dispatchState: 'abandoned' };
    expect(decideOrphan(row({ ...abandoned, status: 'pending' }), NOW)).toMatchObject({ kind: 'resume' });
    expect(resumedStatus(row({ ...abandoned, status: 'pending' }))).toBe('pending');
    // An uncertain order is reconciled by link, which a provider without lookup never ends: the fence says it is over.
    expect(resumedStatus(row({ ...abandoned, status: 'dispatch_uncertain' }))).toBe('pending');
    expect(resumedStatus(row({ ...abandoned, status: 'dispatch_uncertain', dispatchState: 'sending' }))).toBe('dispatch_uncertain');
  });

  it('R-SUBSTITUTE: after a move, the current upstream order is for the dispatch quantity', () => {
    expect(resumeOf(row({ dispatchQuantity: 400 }), NOW).state.upstreamQuantity).toBe(400);
    expect(resumeOf(row({ dispatchQuantity: null }), NOW).state.upstreamQuantity).toBeUndefined();
  });

  it('R-REFILL-COOLDOWN, R-REFILL-SUPPORT: a completed order resumes in its refill phase with its refills; one never taken by the provider is failed for support', () => {
    const r = completedWithGuarantee({
      refills: [refill(), refill({ id: 10, requestId: 'r2', status: 'pending', providerRefillId: null, completedAt: null, updatedAt: NOW - 60_000 })],
    });
    const { carried, state } = resumeOf(r, NOW);
    expect(carried.refills).toMatchObject({ answers: [], runs: 0 });
    expect(state.refills).toMatchObject({ total: 2, lastCompletedAt: NOW - DAY_MS, voidReason: null });
    expect(state.refills!.recent.map((x) => [x.refillId, x.status, x.reason])).toEqual([
      [9, 'completed', null],
      [10, 'failed', LOST_REFILL_REASON],
    ]);
    expect(state.flags.refillFailed).toBe(true);
    // The completed refill's row is already right; the lost one's row gets written.
    const mirrored = new Map(carried.refills!.mirrored);
    expect(mirrored.has(9) && mirrored.has(10)).toBe(true);
    expect(guaranteeOpen(state, NOW)).toBe(true);
  });
});

describe('helpers', () => {
  it("refundRuleOf reads the rule from the ledger's refund reason", () => {
    expect(refundRuleOf('R-PARTIAL: partial')).toBe('R-PARTIAL');
    expect(refundRuleOf('R-AUTO-CANCEL')).toBe('R-AUTO-CANCEL');
    expect(refundRuleOf(null)).toBe('R-CANCEL-FULL');
  });

  it('ORDER_RECOVERY_INTERVAL_MINUTES: minutes, "off", or a clear error', () => {
    expect(recoveryIntervalFromEnv({})).toBe(600_000);
    expect(recoveryIntervalFromEnv({ ORDER_RECOVERY_INTERVAL_MINUTES: '2' })).toBe(120_000);
    expect(recoveryIntervalFromEnv({ ORDER_RECOVERY_INTERVAL_MINUTES: 'off' })).toBeNull();
    expect(() => recoveryIntervalFromEnv({ ORDER_RECOVERY_INTERVAL_MINUTES: 'soon' })).toThrow(/positive number of minutes/);
  });
});
