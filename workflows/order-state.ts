/**
 * The order workflow's state changes that need no Temporal API: pure functions over OrderState,
 * deterministic (time is a parameter), so they run in the workflow sandbox and in plain unit tests.
 */
import { canTransition, isFinal } from '../domain/order-status';
import { newDripFeed } from '../domain/drip-feed';
import { clampRemains } from '../domain/refund';
import type { OrderStatus } from '../domain/order-status';
import type { MirrorPatch } from '../activities/order-activities';
import type { OrderInput, OrderState, ProviderUpdate } from './order-contract';

export function initialOrderState(input: OrderInput): OrderState {
  return {
    orderId: input.orderId,
    userId: input.userId,
    serviceId: input.serviceId,
    providerId: input.providerId,
    link: input.link,
    quantity: input.quantity,
    rate: input.rate,
    charge: input.charge,
    guarantee: input.guarantee,
    cancelable: input.cancelable,
    status: 'new',
    flags: { overdue: false, stalled: false, cancelRequested: false, refillFailed: false },
    providerOrderId: null,
    startCount: null,
    remains: null,
    refunded: '0.00000',
    refunds: [],
    rejectReason: null,
    lastProviderAnswer: null,
    lastCancel: null,
    // Order types (issue 12): present only for the orders that have them.
    ...(input.executeAt !== undefined ? { executeAt: input.executeAt } : {}),
    ...(input.dripFeed?.mode === 'engine' ? { dripFeed: newDripFeed(input.dripFeed) } : {}),
    timestamps: { placedAt: input.placedAt, paidAt: null, dispatchedAt: null, startedAt: null, finishedAt: null },
  };
}

/** What providerUpdate did to the order. */
export type UpdateEffect = 'ignored' | 'progress' | 'moved';

/**
 * Applies a provider update as a forward move only (domain canTransition): a repeated update, a
 * backward status (Pending after In progress) or anything after a final status changes nothing.
 * The provider never moves an order back to `pending` (that status is the engine's own).
 * R-COUNTERS: the start count is recorded once, when first reported, and never overwritten.
 * Mutates `state`; `now` is workflow time.
 */
export function applyProviderUpdate(state: OrderState, update: ProviderUpdate, now: number): UpdateEffect {
  if (state.status === 'new' || isFinal(state.status)) return 'ignored';
  const target: OrderStatus = update.status;
  let effect: UpdateEffect = 'ignored';
  if (target !== state.status && target !== 'pending' && canTransition(state.status, target)) {
    if (target !== 'canceled' && state.timestamps.startedAt === null) {
      // A start reported "in the future" (clock skew) counts as now.
      state.timestamps.startedAt = Math.min(safeInstant(update.observedAt, now), now);
    }
    state.status = target;
    if (isFinal(target)) state.timestamps.finishedAt = now;
    effect = 'moved';
  }
  if (effect === 'moved' || (target === state.status && target !== 'pending')) {
    if (state.startCount === null && isCount(update.startCount)) {
      state.startCount = update.startCount;
      if (effect === 'ignored') effect = 'progress';
    }
    // Providers send negative remains (over-delivery) or more than ordered: the order keeps the part
    // still owed, 0..quantity (domain clampRemains); lastProviderAnswer keeps what was said.
    const remains = isCount(update.remains, true) ? clampRemains(state.quantity, update.remains) : null;
    if (remains !== null && remains !== state.remains) {
      state.remains = remains;
      if (effect === 'ignored') effect = 'progress';
    }
  }
  if (effect !== 'ignored') {
    state.lastProviderAnswer = update.raw ?? {
      status: update.status,
      startCount: update.startCount,
      remains: update.remains,
      observedAt: update.observedAt,
    };
  }
  return effect;
}

function isCount(n: unknown, allowNegative = false): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && (allowNegative || n >= 0);
}

function safeInstant(ms: unknown, fallback: number): number {
  return typeof ms === 'number' && Number.isSafeInteger(ms) ? ms : fallback;
}

/** The fields of OrderState the orders row mirrors, as last written. */
export interface MirrorSnapshot {
  status: OrderStatus;
  overdue: boolean;
  stalled: boolean;
  cancelRequested: boolean;
  providerOrderId: string | null;
  startCount: number | null;
  remains: number | null;
  /** JSON text, compared as text. */
  lastProviderAnswer: string;
  rejectReason: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export function mirrorSnapshot(state: OrderState): MirrorSnapshot {
  return {
    status: state.status,
    overdue: state.flags.overdue,
    stalled: state.flags.stalled,
    cancelRequested: state.flags.cancelRequested,
    providerOrderId: state.providerOrderId,
    startCount: state.startCount,
    remains: state.remains,
    lastProviderAnswer: JSON.stringify(state.lastProviderAnswer ?? null),
    rejectReason: state.rejectReason,
    startedAt: state.timestamps.startedAt,
    finishedAt: state.timestamps.finishedAt,
  };
}

/** The changed fields between what the row holds and the state now, or null when nothing changed. */
export function mirrorPatch(written: MirrorSnapshot, now: MirrorSnapshot, state: OrderState): MirrorPatch | null {
  const patch: MirrorPatch = {};
  if (written.status !== now.status) patch.status = now.status;
  if (written.overdue !== now.overdue) patch.overdue = now.overdue;
  if (written.stalled !== now.stalled) patch.stalled = now.stalled;
  if (written.cancelRequested !== now.cancelRequested) patch.cancelRequested = now.cancelRequested;
  if (written.providerOrderId !== now.providerOrderId) patch.providerOrderId = now.providerOrderId;
  if (written.startCount !== now.startCount) patch.startCount = now.startCount;
  if (written.remains !== now.remains) patch.remains = now.remains;
  if (written.lastProviderAnswer !== now.lastProviderAnswer) patch.lastProviderAnswer = state.lastProviderAnswer ?? null;
  if (written.rejectReason !== now.rejectReason) patch.rejectReason = now.rejectReason;
  if (written.startedAt !== now.startedAt) patch.startedAt = now.startedAt;
  if (written.finishedAt !== now.finishedAt) patch.finishedAt = now.finishedAt;
  return Object.keys(patch).length > 0 ? patch : null;
}
