/**
 * Orders whose workflow is gone (issue 11): which rows need a new run, and the run each gets.
 *
 * Pure: the row and its ledger entries and refills come in as plain values (recovery-activities.ts
 * reads them), so the rules are tested on their own. The new run is an ordinary order workflow
 * started as a continued run (`orderWorkflow(input, carried)`): it skips placement (carried.placement
 * answers it: no second debit), first catches up with what the sync last wrote (orders.upstream_*),
 * and the dispatch step is fenced by orders.dispatch_state (no second `add`), as after any
 * continue-as-new. So the existing workflow code settles the order, and no history changes shape.
 */
import { isFinal } from '../domain/order-status';
import type { OrderStatus } from '../domain/order-status';
import type { OrderRecord } from '../activities/order-records';
import { refillWindowClosesAt } from '../domain/refill-policy';
import { addMoney } from '../domain/money';
import type { Guarantee, OrderInput, OrderRefills, OrderState, RefillRecord, RefillRequester, RefundRecord } from '../workflows/order-contract';
import { initialOrderState, mirrorSnapshot } from '../workflows/order-state';
import type { OrderWorkflowCarried } from '../workflows/order-run';
import { KEPT_REFILLS, refillSnapshot } from '../workflows/refill-state';

/** The order columns a new run starts from, as every part reads them (order-records' OrderRecord). */
type OrphanColumns = Pick<
  OrderRecord,
  | 'id' | 'userId' | 'serviceId' | 'providerId' | 'link' | 'linkKey' | 'quantity' | 'rate' | 'charge'
  | 'refillKind' | 'refillDays' | 'cancelable' | 'status' | 'overdue' | 'stalled' | 'cancelRequested'
  | 'providerOrderId' | 'startCount' | 'remains' | 'refunded' | 'lastProviderAnswer' | 'rejectReason'
  | 'idempotencyKey' | 'requestHash'
>;

/** What the engine reads of one order to decide and build its new run. Times are epoch ms. */
export interface OrphanRow extends OrphanColumns {
  /** The provider's service id of the row's current service (after a move: the new one). */
  providerServiceId: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** R-SUBSTITUTE: what the current upstream order is for, after a move (null: quantity). */
  dispatchQuantity: number | null;
  /** The dispatch fence (orders.dispatch_state): 'abandoned' once the lost workflow stopped dispatching. */
  dispatchState: string | null;
  refillVoidReason: string | null;
  /** The order's debit (`order-<id>:debit`), if posted. */
  debit: { at: number } | null;
  /** The order's refund (`order-<id>:refund`), if posted: amount, the rule it was posted under, when. */
  refund: { amount: string; rule: string; at: number } | null;
  /** Its refills rows, oldest first (completed orders with a guarantee). */
  refills: OrphanRefillRow[];
  /** The order type's part of its input, as the row keeps it (absent for a Default order). */
  typeFields: OrderTypeInput;
}

/** The OrderInput fields of an order type (issue 12), kept on the row since placement. */
export type OrderTypeInput = Pick<OrderInput, 'serviceType' | 'providerFields' | 'dripFeed' | 'subscription' | 'executeAt'>;

export interface OrphanRefillRow {
  id: number;
  requestId: string;
  requestedBy: RefillRequester;
  status: string;
  providerRefillId: string | null;
  reason: string | null;
  sendAttempt: number;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}

/** Statuses a row keeps while its workflow must be running (the link is held, money may be owed). */
export const UNSETTLED_STATUSES: readonly OrderStatus[] = ['new', 'pending', 'dispatch_uncertain', 'in_progress'];

/** A refill that was not at the provider when its workflow was lost: support may send it again (R-REFILL-SUPPORT). */
export const LOST_REFILL_REASON = 'the order workflow was lost before the provider took this refill; support may retry it';

/**
 * What to do with an order whose workflow does not exist:
 * - resume: start a new run from the row (it settles the order, no second debit or dispatch);
 * - reject_unpaid: a `new` row whose debit was never posted: the placement never finished and no
 *   money moved, so the row is closed `rejected` (the link is freed, R-ONE-ACTIVE-PER-LINK) rather
 *   than charging now for a request whose caller got an error;
 * - hold: an order whose progress only its workflow knew (a drip-feed the engine runs: which runs
 *   were sent and refunded; a subscription: the posts served), unsettled. A run rebuilt from the row
 *   would settle it as one plain order and get the money wrong, so it is left for support (its money
 *   stays held, never guessed) and logged every round;
 * - none: nothing to do (final, or a completed order whose guarantee is over).
 */
export type OrphanDecision =
  | { kind: 'resume'; reason: string }
  | { kind: 'hold'; reason: string }
  | { kind: 'reject_unpaid'; reason: string }
  | { kind: 'none'; reason: string };

export function decideOrphan(row: OrphanRow, now: number): OrphanDecision {
  const progressInWorkflow = row.typeFields.dripFeed?.mode === 'engine' || row.typeFields.subscription !== undefined;
  if (progressInWorkflow && UNSETTLED_STATUSES.includes(row.status) && row.debit) {
    const shape = row.typeFields.subscription ? 'a subscription (posts served)' : 'a drip-feed run by the engine (runs sent and refunded)';
    return { kind: 'hold', reason: `${row.status}: ${shape} keeps its progress in its workflow; not rebuilt from the row, left for support` };
  }
  if (row.status === 'new') {
    return row.debit
      ? { kind: 'resume', reason: 'paid but never marked pending: dispatched now' }
      : { kind: 'reject_unpaid', reason: 'placement never paid: rejected, nothing charged' };
  }
  if (UNSETTLED_STATUSES.includes(row.status)) return { kind: 'resume', reason: `${row.status}: followed to its end` };
  if (row.status === 'completed' && guaranteeStillOpen(row, now)) return { kind: 'resume', reason: 'completed: its refill guarantee is followed again' };
  return { kind: 'none', reason: `${row.status}: nothing owed` };
}

export const REJECT_UNPAID_MESSAGE = 'placement interrupted: the order workflow was lost before payment; nothing was charged';

export function guaranteeOf(refillKind: string, refillDays: number | null): Guarantee {
  if (refillKind === 'days' && refillDays !== null) return { kind: 'days', days: refillDays };
  if (refillKind === 'lifetime') return { kind: 'lifetime' };
  return { kind: 'none' };
}

/** R-REFILL-WINDOW from the order date, not void, or a refill at the provider still in flight. */
export function guaranteeStillOpen(row: OrphanRow, now: number): boolean {
  const guarantee = guaranteeOf(row.refillKind, row.refillDays);
  if (guarantee.kind === 'none') return false;
  if (row.refills.some((r) => inFlightAtProvider(r))) return true;
  if (row.refillVoidReason) return false;
  const closesAt = refillWindowClosesAt(row.createdAt, guarantee);
  return closesAt === null || now <= closesAt;
}

const inFlightAtProvider = (r: OrphanRefillRow) => (r.status === 'pending' || r.status === 'in_progress') && r.providerRefillId !== null;

/** How the new run was started, as it shows in its first event (the timeline) and the logs. */
export interface RecoveryNote {
  fromStatus: OrderStatus;
  reason: string;
  at: number;
}

/** The order's input and the state its new run starts from (orderWorkflow(input, carried)). */
export function resumeOf(row: OrphanRow, now: number): { input: OrderInput; carried: OrderWorkflowCarried & { recovered: RecoveryNote }; state: OrderState } {
  const input: OrderInput = {
    orderId: row.id,
    userId: row.userId,
    serviceId: row.serviceId,
    providerId: row.providerId,
    providerServiceId: row.providerServiceId,
    link: row.link,
    linkKey: row.linkKey,
    quantity: row.quantity,
    rate: row.rate,
    charge: row.charge,
    guarantee: guaranteeOf(row.refillKind, row.refillDays),
    cancelable: row.cancelable,
    placedAt: row.createdAt,
    idempotencyKey: row.idempotencyKey,
    requestHash: row.requestHash,
    // A typed order's fields (a scheduled start, the type's add fields) as placement gave them.
    ...row.typeFields,
  };
  const state = stateOf(row, input);
  // What the row holds now: the first mirror writes only what the new run changed.
  const asRowSays = stateOf(row, input, { asRowSays: true });
  const mirrored = mirrorSnapshot(asRowSays);
  const decision = decideOrphan(row, now);
  const carried: OrderWorkflowCarried & { recovered: RecoveryNote } = {
    state,
    placement: { accepted: true, order: JSON.parse(JSON.stringify(state)) as OrderState },
    mirrored,
    cancelAnswers: [],
    dispatch: { redispatches: 0, awaitingSupport: false, looked: false },
    supportAnswers: [],
    ...(state.status === 'completed' ? { refills: { answers: [], mirrored: (asRowSays.refills?.recent ?? []).map((r) => [r.refillId, refillSnapshot(r)] as [number, string]), runs: 0 } } : {}),
    recovered: { fromStatus: row.status, reason: decision.reason, at: now },
  };
  return { input, carried, state };
}

/** The OrderState the row describes (asRowSays: its status as written, before the fixes below). */
function stateOf(row: OrphanRow, input: OrderInput, options: { asRowSays?: boolean } = {}): OrderState {
  const state = initialOrderState(input);
  state.status = options.asRowSays ? row.status : resumedStatus(row);
  state.flags = { overdue: row.overdue, stalled: row.stalled, cancelRequested: row.cancelRequested, refillFailed: false };
  state.providerOrderId = row.providerOrderId;
  state.startCount = row.startCount;
  state.remains = row.remains;
  state.rejectReason = row.rejectReason;
  state.lastProviderAnswer = row.lastProviderAnswer ?? null;
  if (row.dispatchQuantity !== null && row.dispatchQuantity !== row.quantity) state.upstreamQuantity = row.dispatchQuantity;
  state.timestamps = {
    placedAt: row.createdAt,
    paidAt: row.debit?.at ?? null,
    dispatchedAt: row.providerOrderId !== null ? (row.debit?.at ?? row.createdAt) : null,
    startedAt: row.startedAt,
    finishedAt: isFinal(state.status) ? (row.finishedAt ?? row.refund?.at ?? null) : null,
  };
  if (row.refund) {
    const refund: RefundRecord = { amount: row.refund.amount, rule: row.refund.rule, idempotencyKey: `order-${row.id}:refund`, at: row.refund.at };
    state.refunds = [refund];
    state.refunded = addMoney('0', row.refund.amount);
  }
  if (state.status === 'completed') {
    state.refills = refillsOf(row, options.asRowSays ?? false);
    state.flags.refillFailed = state.refills.recent.some((r) => r.status === 'failed' || r.status === 'rejected');
  }
  return state;
}

/**
 * The status the new run starts in. A `new` row that was paid is `pending`. An unsettled row whose
 * refund is already posted lost its workflow between finish()'s refund and its final mirror: the
 * refund's rule says how it ended (R-PARTIAL: partial; a cancel's rule: canceled), so the new run
 * only mirrors that end and posts nothing (one refund per order, `order-<id>:refund`).
 * An unsettled row whose dispatch fence is closed ('abandoned': a cancel, or 24 h of "try later")
 * lost its workflow between abandonDispatch and the refund: it resumes `pending`, so the new run's
 * dispatch step finds the fence closed (nothing is sent) and ends it canceled, refunded by finish()
 * (or partial after a move, as the lost run would have).
 */
export function resumedStatus(row: OrphanRow): OrderStatus {
  if (row.status === 'new') return 'pending';
  if (row.refund && UNSETTLED_STATUSES.includes(row.status)) return row.refund.rule === 'R-PARTIAL' ? 'partial' : 'canceled';
  if (row.status === 'dispatch_uncertain' && row.dispatchState === 'abandoned' && row.providerOrderId === null) return 'pending';
  return row.status;
}

/** The refills rows as the workflow keeps them; one that never reached the provider is failed (support may retry). */
function refillsOf(row: OrphanRow, asRowSays: boolean): OrderRefills {
  const recent: RefillRecord[] = row.refills.slice(-KEPT_REFILLS).map((r) => {
    const lost = !asRowSays && (r.status === 'pending' || r.status === 'in_progress') && r.providerRefillId === null;
    return {
      refillId: r.id,
      requestId: r.requestId,
      requestedBy: r.requestedBy,
      status: lost ? 'failed' : (r.status as RefillRecord['status']),
      providerRefillId: r.providerRefillId,
      reason: lost ? LOST_REFILL_REASON : r.reason,
      attempts: Math.max(1, r.sendAttempt),
      counts: null,
      requestedAt: r.createdAt,
      updatedAt: r.updatedAt,
      completedAt: r.completedAt,
    };
  });
  const completed = row.refills.filter((r) => r.status === 'completed' && r.completedAt !== null).map((r) => r.completedAt!);
  return {
    voidReason: row.refillVoidReason,
    lastCompletedAt: completed.length > 0 ? Math.max(...completed) : null,
    total: row.refills.length,
    recent,
  };
}

/** The refund rule a ledger refund's reason names (`<rule>: <words>` or `<rule>`). */
export function refundRuleOf(reason: string | null): string {
  const rule = /^(R-[A-Z-]+)/.exec(reason ?? '')?.[1];
  return rule ?? 'R-CANCEL-FULL';
}
