import type { OrderStatus } from './order-status';
import type { RuleId } from './rule-ids';
import { STALLED_AFTER_MS, isStalled } from './start-window';
import { assertInstant, assertOptionalInstant, isoInstant } from './time';

/**
 * Whether a USER's cancel request is accepted (support's cancels, with or without refund,
 * are not decided here). Accepting means: the engine will cancel, or ask the provider to;
 * the refund follows the final status (see refund.ts), not this decision.
 */
export interface CancelInput {
  status: OrderStatus;
  placedAt: number;
  startedAt: number | null;
  now: number;
  /** The order's cancel flag, as snapshotted at placement (R-PRICE-SNAPSHOT). */
  serviceCancelable: boolean;
  /** The order's execution is suspended (by the provider or support). */
  suspended: boolean;
  /** A cancel was already accepted and is being carried out. */
  cancelRequested?: boolean;
  /**
   * A scheduled order (issue 12) not yet sent: its execute_at (epoch ms). Before then it is canceled
   * with its whole charge back, whatever the service's cancel flag (R-CANCEL-FULL): nothing has begun.
   */
  scheduledUntil?: number;
}

export type CancelDecision =
  | { allowed: true; rule: RuleId }
  | { allowed: false; rule: RuleId; reason: string };

function refuse(rule: RuleId, reason: string): CancelDecision {
  return { allowed: false, rule, reason };
}

/** Refusals for statuses in which no cancel is possible, with what the user is told. */
const NOT_CANCELABLE: Partial<Record<OrderStatus, CancelDecision>> = {
  completed: refuse('R-NO-REFUND-DONE', 'order is already completed'),
  partial: refuse('R-PARTIAL', 'order is already partially completed; its undelivered part is refunded'),
  canceled: refuse('R-CANCEL-FULL', 'order is already canceled'),
  rejected: refuse('R-BALANCE', 'order was rejected: it was never paid and there is nothing to cancel'),
  // Not yet paid: the workflow will either take the payment or reject the order in a moment.
  new: refuse('R-CANCEL-REQUEST', 'order is still being placed; try again in a moment'),
  // The provider may already be delivering: cancelling and refunding blindly could give the
  // order away for free. The workflow resolves the uncertainty; support can cancel meanwhile.
  dispatch_uncertain: refuse(
    'R-CANCEL-REQUEST',
    'order is being confirmed with the provider; cancel is possible once it is confirmed (or ask support)',
  ),
};

/**
 * R-CANCEL-REQUEST: pending or in progress, service supports cancel -> accepted.
 * R-CANCEL-STALLED: service without cancel -> accepted only if the order has not started
 * for more than 10 days since placement, or its execution is suspended. (The terms'
 * "within seven working days" is support's processing time, not a condition.)
 */
export function decideCancel(input: CancelInput): CancelDecision {
  const { status, placedAt, startedAt, now, serviceCancelable, suspended } = input;
  assertInstant('placedAt', placedAt);
  assertOptionalInstant('startedAt', startedAt);
  assertInstant('now', now);
  const fixed = NOT_CANCELABLE[status];
  if (fixed) return fixed;
  if (input.cancelRequested) return refuse('R-CANCEL-REQUEST', 'a cancel request is already in progress');
  if (input.scheduledUntil !== undefined && status === 'pending' && now < input.scheduledUntil) return { allowed: true, rule: 'R-CANCEL-FULL' };
  if (serviceCancelable) return { allowed: true, rule: 'R-CANCEL-REQUEST' };
  if (suspended) return { allowed: true, rule: 'R-CANCEL-STALLED' };
  if (status === 'in_progress' || (startedAt !== null && startedAt <= now)) {
    return refuse('R-CANCEL-STALLED', 'this service does not support cancellation and the order has already started');
  }
  if (isStalled({ placedAt, startedAt, now })) return { allowed: true, rule: 'R-CANCEL-STALLED' };
  return refuse(
    'R-CANCEL-STALLED',
    'this service does not support cancellation; it can be canceled if the order has not started ' +
      `more than 10 days after it was placed (after ${isoInstant(placedAt + STALLED_AFTER_MS)})`,
  );
}

/** Support's cancels: whatever the service's cancel flag, with (full_refund) or without (no_refund) a refund. */
export type SupportCancelMode = 'full_refund' | 'no_refund';

export interface SupportCancelInput {
  status: OrderStatus;
  mode: SupportCancelMode;
  /** The stated reason: required for no_refund (R-CANCEL-NO-REFUND), kept for both. */
  reason: string | undefined;
  /** A support cancel already accepted and being carried out. */
  supportCancelInFlight: boolean;
}

/**
 * Whether support's cancel is accepted. Any order that is paid and not final may be canceled,
 * started or not, cancelable service or not, dispatch uncertain or not; a user's cancel waiting for
 * the provider does not stand in the way (support's decision replaces it).
 */
export function decideSupportCancel(input: SupportCancelInput): CancelDecision {
  const rule: RuleId = input.mode === 'no_refund' ? 'R-CANCEL-NO-REFUND' : 'R-CANCEL-FULL';
  if (input.mode === 'no_refund' && (input.reason === undefined || input.reason.trim() === '')) {
    return refuse('R-CANCEL-NO-REFUND', 'a cancel without refund needs a stated reason');
  }
  const fixed = NOT_CANCELABLE[input.status];
  if (fixed && input.status !== 'dispatch_uncertain') return fixed;
  if (input.supportCancelInFlight) return refuse(rule, 'a cancel by support is already being carried out');
  return { allowed: true, rule };
}
