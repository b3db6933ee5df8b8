import Decimal from 'decimal.js';
import { decimal, formatMoney, roundCharge } from './money';
import { assertWholeNumber } from './quantity';

/**
 * What an order costs. Called once when the order is placed; the result is stored on
 * the order and never recomputed (R-PRICE-SNAPSHOT: later price changes must not touch
 * an existing order's charge or refund).
 */

/** A rate per 1000 units: exact, non-negative, any scale up to 20 decimals. */
function parseRate(ratePer1000: string): Decimal {
  const rate = decimal(ratePer1000, 'ratePer1000');
  if (rate.isNegative()) throw new RangeError(`ratePer1000 must not be negative, got ${ratePer1000}`);
  return rate;
}

/**
 * R-CHARGE: charge = rate × quantity / 1000, exact, then rounded half-up to 5 decimals.
 * Rounding happens once, at the end, so "0.9" × 333 gives "0.29970" exactly.
 * A tiny order may round to "0.00000"; services' minimum quantities prevent that in
 * practice, and inventing a minimum charge is not in the terms.
 */
export function computeCharge(ratePer1000: string, quantity: number): string {
  assertWholeNumber('quantity', quantity, 1);
  return formatMoney(roundCharge(parseRate(ratePer1000).times(quantity).dividedBy(1000)));
}

/**
 * R-CHARGE-MAX: a subscription to future posts is charged at the maximum possible
 * value, maxQuantity × posts, whatever its min is. Rounded once on the total (not per
 * post), like R-CHARGE. `posts` must be a number: an unlimited subscription has no
 * maximum and so cannot be priced up front.
 */
export function computeSubscriptionCharge(ratePer1000: string, maxQuantity: number, posts: number): string {
  assertWholeNumber('maxQuantity', maxQuantity, 1);
  assertWholeNumber('posts', posts, 1);
  const units = parseRate(ratePer1000).times(maxQuantity).times(posts);
  return formatMoney(roundCharge(units.dividedBy(1000)));
}

/**
 * A Package (and a Custom Comments Package) is sold at a fixed price per order: the service's rate
 * is that price, whatever the package holds. Rounded like R-CHARGE (the rate has 5 decimals already).
 */
export function computePackageCharge(pricePerOrder: string): string {
  return formatMoney(roundCharge(parseRate(pricePerOrder)));
}

/** The part of a service that decides whether a quantity can be ordered. */
export interface QuantityLimits {
  min: number;
  max: number;
  active: boolean;
}

export type QuantityCheck = { ok: true } | { ok: false; rule: 'R-MINMAX'; message: string };

/**
 * R-MINMAX: an inactive service takes no order, and quantity must lie within
 * [min, max] inclusive. Messages follow the shapes providers use
 * ("quantity below minimum 50"), so users recognise them.
 */
export function checkQuantity(service: QuantityLimits, quantity: number): QuantityCheck {
  // Inactive first: the quantity is irrelevant if nothing can be ordered at all.
  if (!service.active) return { ok: false, rule: 'R-MINMAX', message: 'service is inactive' };
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1) {
    return { ok: false, rule: 'R-MINMAX', message: 'quantity must be a positive whole number' };
  }
  if (quantity < service.min) return { ok: false, rule: 'R-MINMAX', message: `quantity below minimum ${service.min}` };
  if (quantity > service.max) return { ok: false, rule: 'R-MINMAX', message: `quantity above maximum ${service.max}` };
  return { ok: true };
}
