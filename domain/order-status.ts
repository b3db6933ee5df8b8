/**
 * The engine's order statuses and the moves between them.
 *
 *   new ──debit ok──> pending ──started──> in_progress ──> completed | partial | canceled
 *    │                 │   ▲                                        ▲
 *    │                 ▼   │ (resolved: provider has it,            │
 *    │       dispatch_uncertain  not started yet)  ─────────────────┘
 *    └──debit refused──> rejected
 *
 * - new: the workflow started, the balance has not been debited yet.
 * - rejected: the debit was refused; not a real order, holds nothing (no link, no money).
 * - pending: paid; being dispatched, or waiting for the provider to start.
 * - dispatch_uncertain: the `add` call's outcome is unknown (timeout, empty body): the
 *   provider may or may not have the order. Resolved by the workflow, never by guessing.
 * - in_progress: the provider started (start count recorded, R-COUNTERS).
 * - completed / partial / canceled: final, as reported by the provider or decided by support.
 */
export type OrderStatus =
  | 'new'
  | 'rejected'
  | 'pending'
  | 'dispatch_uncertain'
  | 'in_progress'
  | 'completed'
  | 'partial'
  | 'canceled';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'new', 'rejected', 'pending', 'dispatch_uncertain', 'in_progress', 'completed', 'partial', 'canceled',
];

/**
 * Statuses that hold the order's link (R-ONE-ACTIVE-PER-LINK): everything not yet
 * Completed, Partial or Canceled. `new` holds it too, so two concurrent placements for
 * one link cannot both pass the check while their debits are in flight.
 */
export const ACTIVE_STATUSES: readonly OrderStatus[] = ['new', 'pending', 'dispatch_uncertain', 'in_progress'];

/** Statuses nothing ever leaves. `rejected` is final too: it never became an order. */
export const FINAL_STATUSES: readonly OrderStatus[] = ['completed', 'partial', 'canceled', 'rejected'];

export function isFinal(status: OrderStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** True while the order holds its link (R-ONE-ACTIVE-PER-LINK). */
export function isActive(status: OrderStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/**
 * Every allowed move. Only forward: a provider that reports "Pending" after
 * "In progress" (it happens) does not move the order back; the workflow ignores it.
 * The one pair of mutual moves is pending <-> dispatch_uncertain: both mean "paid, not
 * started"; uncertainty is entered when a dispatch's outcome is unknown and left when
 * it is resolved, and a re-dispatch may be uncertain again. in_progress -> pending is
 * support's move to another provider (R-SUBSTITUTE), never a provider's report;
 * in_progress -> dispatch_uncertain is an engine drip-feed's next run sent with an unknown outcome.
 * pending may jump straight to a final status: a provider can start and finish (or
 * cancel) between two polls. `rejected` is reachable only from `new`: once the debit
 * succeeded, the way out is canceled, with its refund.
 */
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ['pending', 'rejected'],
  pending: ['dispatch_uncertain', 'in_progress', 'completed', 'partial', 'canceled'],
  dispatch_uncertain: ['pending', 'in_progress', 'completed', 'partial', 'canceled'],
  // in_progress -> pending only by a move (R-SUBSTITUTE): the rest goes to a new provider, which has
  // not started yet. Providers never move an order back (the workflow ignores their "Pending").
  // in_progress -> dispatch_uncertain only for a drip-feed the engine runs: its feed has started and
  // the `add` of its next run has an unknown outcome; support must find it among the uncertain ones
  // (found by the simulation, seed 3: the row stayed in_progress, hidden from support's list).
  in_progress: ['pending', 'dispatch_uncertain', 'completed', 'partial', 'canceled'],
  completed: [],
  partial: [],
  canceled: [],
  rejected: [],
};

/**
 * Whether an order may move from `from` to `to`. Staying in the same status is not a
 * move and returns false: callers compare first, and treat "same" as "nothing to do".
 */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Flags carried beside the status; they never change it.
 * - overdue: not started 24 hours after placement (R-START-WINDOW).
 * - stalled: not started more than 10 days after placement (R-CANCEL-STALLED).
 * - cancelRequested: a cancel was accepted and the provider's answer is awaited.
 * - refillFailed: the last refill request failed; support may retry (R-REFILL-SUPPORT).
 */
export interface OrderFlags {
  overdue: boolean;
  stalled: boolean;
  cancelRequested: boolean;
  refillFailed: boolean;
}

export const NO_FLAGS: Readonly<OrderFlags> = Object.freeze({
  overdue: false,
  stalled: false,
  cancelRequested: false,
  refillFailed: false,
});
