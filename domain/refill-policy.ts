import type { OrderStatus } from './order-status';
import type { RuleId } from './rule-ids';
import { assertWholeNumber } from './quantity';
import { DAY_MS, HOUR_MS, assertInstant, assertOptionalInstant, isoInstant } from './time';

/**
 * Whether a refill (restoring drops) may be requested for an order. Refills never
 * charge the balance; this module only decides.
 */

/** The order's refill guarantee, snapshotted at placement (R-PRICE-SNAPSHOT). */
export type RefillGuarantee = { kind: 'none' } | { kind: 'days'; days: number } | { kind: 'lifetime' };

/** R-REFILL-COOLDOWN: MORE than this must pass since completion and since the last refill completed. */
export const REFILL_COOLDOWN_MS = 24 * HOUR_MS;

/** R-REFILL-WINDOW: requests close this many days before the guarantee period ends. */
export const REFILL_WINDOW_MARGIN_DAYS = 3;

/**
 * R-REFILL-WINDOW: the LAST instant (inclusive) at which a refill request is accepted,
 * or null for a lifetime guarantee (no end) or no guarantee.
 * Counted from the ORDER date (placedAt), not from completion: a 30-day guarantee
 * accepts requests until the end of day 27, i.e. up to and including
 * placedAt + 27 × 24h; one millisecond later the window is closed.
 * A guarantee of 3 days or less closes before the order can even be refilled.
 */
export function refillWindowClosesAt(placedAt: number, guarantee: RefillGuarantee): number | null {
  assertInstant('placedAt', placedAt);
  if (guarantee.kind !== 'days') return null;
  assertWholeNumber('guarantee days', guarantee.days, 1);
  return placedAt + (guarantee.days - REFILL_WINDOW_MARGIN_DAYS) * DAY_MS;
}

export interface RefillInput {
  status: OrderStatus;
  guarantee: RefillGuarantee;
  placedAt: number;
  /** When the order became completed; required when status is 'completed'. */
  completedAt: number | null;
  lastRefillCompletedAt: number | null;
  /** A refill of this order was requested and has not finished yet. */
  refillInFlight: boolean;
  /** R-REFILL-VOID: the link was also ordered on another service (or one without refill). */
  voided: boolean;
  now: number;
}

export type RefillDecision = { accepted: true } | { accepted: false; rule: RuleId; reason: string };

function refuse(rule: RuleId, reason: string): RefillDecision {
  return { accepted: false, rule, reason };
}

/**
 * Checks in the order a user finds most useful: what can never change (no guarantee,
 * wrong status, voided, window closed) before what only needs waiting (a refill in
 * flight, the cooldown).
 */
export function decideRefill(input: RefillInput): RefillDecision {
  const { status, guarantee, placedAt, completedAt, lastRefillCompletedAt, refillInFlight, voided, now } = input;
  assertInstant('placedAt', placedAt);
  assertOptionalInstant('completedAt', completedAt);
  assertOptionalInstant('lastRefillCompletedAt', lastRefillCompletedAt);
  assertInstant('now', now);

  if (guarantee.kind === 'none') return refuse('R-REFILL-SERVICE', 'this service has no refill guarantee');
  if (status !== 'completed') return refuse('R-REFILL-STATUS', `only a completed order can be refilled (order is ${status})`);
  if (completedAt === null) throw new RangeError('a completed order needs completedAt');
  if (voided) {
    return refuse(
      'R-REFILL-VOID',
      'refill guarantee is void: this link was also ordered on another service or on a service without refill',
    );
  }
  const closesAt = refillWindowClosesAt(placedAt, guarantee);
  if (closesAt !== null && now > closesAt) {
    return refuse('R-REFILL-WINDOW', `refill window closed at ${isoInstant(closesAt)} (guarantee period minus 3 days from the order date)`);
  }
  // The next refill is available only after the previous one completed (terms: "one day
  // after the completion of the previous one"), so one in flight blocks a new one.
  if (refillInFlight) return refuse('R-REFILL-COOLDOWN', 'a refill is already in progress');
  const lastDone = Math.max(completedAt, lastRefillCompletedAt ?? completedAt);
  if (now - lastDone <= REFILL_COOLDOWN_MS) {
    const what = lastDone === completedAt ? 'the order completed' : 'the last refill completed';
    return refuse('R-REFILL-COOLDOWN', `refill is possible more than 24 hours after ${what} (after ${isoInstant(lastDone + REFILL_COOLDOWN_MS)})`);
  }
  return { accepted: true };
}

export interface RefillCounts {
  /** Count recorded by the engine when the provider started the order (R-COUNTERS). */
  startCount: number;
  quantity: number;
  /** Count observed now. */
  currentCount: number;
}

function assertCounts({ startCount, quantity, currentCount }: RefillCounts): void {
  assertWholeNumber('startCount', startCount, 0);
  assertWholeNumber('quantity', quantity, 1);
  assertWholeNumber('currentCount', currentCount, 0);
}

/** R-REFILL-NEED: a refill is sent only when the count dropped below start count + quantity. */
export function refillNeeded(counts: RefillCounts): boolean {
  assertCounts(counts);
  return counts.currentCount < counts.startCount + counts.quantity;
}

/**
 * R-REFILL-NEED: how many units a refill restores: the drop below start + quantity, but
 * never more than the delivered quantity (the guarantee covers what we delivered, not
 * drops of the account's own followers). 0 when no refill is needed.
 */
export function refillShortfall(counts: RefillCounts): number {
  assertCounts(counts);
  const missing = counts.startCount + counts.quantity - counts.currentCount;
  return Math.min(Math.max(missing, 0), counts.quantity);
}
