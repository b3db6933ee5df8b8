import type Decimal from 'decimal.js';
import type { OrderStatus } from './order-status';
import type { RuleId } from './rule-ids';
import { Dec, ZERO_MONEY, formatMoney, nonNegativeMoney, roundRefund } from './money';
import { assertWholeNumber } from './quantity';

/**
 * How much of an order's charge goes back to the balance. Always computed from the
 * charge stored on the order, never from the service's current price (R-PRICE-SNAPSHOT).
 * Refunds round DOWN to 5 decimals (see money.ts), and every amount is capped so that
 * the refunds of one order never add up to more than its charge.
 */

/**
 * Provider quirk: remains may be negative (over-delivery) or larger than quantity.
 * Neither may turn into a negative refund or a refund above the charge.
 */
export function clampRemains(quantity: number, remains: number): number {
  return Math.min(Math.max(remains, 0), quantity);
}

/**
 * R-PARTIAL: the charge of the undelivered part, charge × remains / quantity, rounded
 * down. (Existing panels get this inverted, refunding the delivered part: remains is
 * what was NOT delivered.)
 */
export function partialRefund(charge: string, quantity: number, remains: number): string {
  const c = nonNegativeMoney(charge, 'charge');
  assertWholeNumber('quantity', quantity, 1);
  if (typeof remains !== 'number' || !Number.isSafeInteger(remains)) {
    // "Unknown" or a fraction from a provider must be resolved by the caller, not guessed here.
    throw new RangeError(`remains must be a whole number, got ${String(remains)}`);
  }
  const undelivered = clampRemains(quantity, remains);
  return formatMoney(roundRefund(c.times(undelivered).dividedBy(quantity)));
}

/** What may still be refunded: charge - alreadyRefunded, never below zero. */
function refundable(charge: string, alreadyRefunded: string): Decimal {
  const rest = nonNegativeMoney(charge, 'charge').minus(nonNegativeMoney(alreadyRefunded, 'alreadyRefunded'));
  return rest.isNegative() ? new Dec(0) : rest;
}

/** R-CANCEL-FULL: the rest of the charge (all of it, unless part was refunded before). */
export function fullRefund(charge: string, alreadyRefunded: string): string {
  return formatMoney(refundable(charge, alreadyRefunded));
}

/**
 * R-PARTIAL ("refunds of one order never add up to more than its charge"): `wanted`,
 * reduced to what is left of the charge after earlier refunds.
 */
export function capRefund(charge: string, alreadyRefunded: string, wanted: string): string {
  const want = nonNegativeMoney(wanted, 'wanted');
  const left = refundable(charge, alreadyRefunded);
  return formatMoney(want.lessThan(left) ? want : left);
}

export interface FinalRefundInput {
  status: OrderStatus;
  charge: string;
  quantity: number;
  /** Units not delivered, as reported with a Partial status. Needed only for 'partial'. */
  remains?: number;
  alreadyRefunded: string;
  /**
   * R-CANCEL-NO-REFUND: support canceled the order for breaking the rules, without a
   * refund. The stated reason is required (and kept by the caller).
   */
  noRefundReason?: string;
}

export interface FinalRefund {
  /** Amount to credit, "0.00000" when nothing is due. */
  amount: string;
  rule: RuleId;
}

/** The refund an order gets when it reaches its final status. Throws for a status that is not final. */
export function refundForFinalStatus(input: FinalRefundInput): FinalRefund {
  const { status, charge, quantity, remains, alreadyRefunded, noRefundReason } = input;
  switch (status) {
    case 'completed':
      // Delays in start or speed do not earn a refund either.
      return { amount: ZERO_MONEY, rule: 'R-NO-REFUND-DONE' };
    case 'partial':
      if (remains === undefined) throw new RangeError('a partial order needs its remains to compute the refund');
      return { amount: capRefund(charge, alreadyRefunded, partialRefund(charge, quantity, remains)), rule: 'R-PARTIAL' };
    case 'canceled':
      if (noRefundReason !== undefined) {
        if (noRefundReason.trim() === '') throw new RangeError('a cancel without refund needs a stated reason');
        return { amount: ZERO_MONEY, rule: 'R-CANCEL-NO-REFUND' };
      }
      return { amount: fullRefund(charge, alreadyRefunded), rule: 'R-CANCEL-FULL' };
    case 'rejected':
      // The debit was refused: nothing was taken, so nothing is given back.
      return { amount: ZERO_MONEY, rule: 'R-BALANCE' };
    default:
      throw new RangeError(`no refund is decided before a final status (status is ${status})`);
  }
}
