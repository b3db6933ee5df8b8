import Decimal from 'decimal.js';

/**
 * Money: exact decimals, never JS numbers (binary floats drift: 0.1 + 0.2 !== 0.3).
 * Amounts cross boundaries (activities, database, API) as strings such as "0.27819".
 *
 * THE rounding rule (one for the whole engine):
 *   - money has 5 decimal places (MONEY_SCALE), like the panels' "0.27819";
 *   - a CHARGE is rounded HALF-UP to 5 places (R-CHARGE), once, at the end of the
 *     computation (roundCharge);
 *   - a REFUND is rounded DOWN (toward zero) to 5 places (roundRefund), so a refund
 *     never exceeds the exact share it stands for and refunds never add up to more
 *     than the charge (R-PARTIAL). The panel keeps at most 0.00001 per refund.
 * Nothing else rounds: every other operation is exact, and formatMoney refuses a value
 * with more than 5 decimals instead of silently rounding it.
 */
export const MONEY_SCALE = 5;

/** Zero, formatted. */
export const ZERO_MONEY = '0.00000';

/**
 * Our own Decimal constructor, so no global Decimal.set() elsewhere can change our
 * arithmetic. Precision 100 significant digits keeps every product we make exact
 * (inputs are capped at 30 integer and 20 fraction digits, quantities are safe
 * integers). The only inexact operation is a non-terminating division (refunds):
 * ROUND_DOWN there truncates at digit 100, and truncating again to 5 places yields
 * exactly the floor, so the intermediate step cannot push a refund up.
 */
export const Dec = Decimal.clone({
  precision: 100,
  rounding: Decimal.ROUND_DOWN,
  toExpNeg: -100,
  toExpPos: 100,
});

/** What the parsers accept: decimal text ("12.5", "-0.27819") or a Decimal instance. */
export type MoneyInput = string | Decimal;

// Plain decimal notation only: no exponent, hex, "+", spaces or ".5". Providers and the
// database send plain text; anything else is more likely a bug than an amount.
const PLAIN_DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;
const MAX_INTEGER_DIGITS = 30;
const MAX_FRACTION_DIGITS = 20;

/**
 * Parses an exact decimal of any scale up to 20 places (rates per 1000 may carry more
 * than 5). Rejects NaN, Infinity, non-plain text and JS numbers (which may already
 * have lost exactness).
 */
export function decimal(x: MoneyInput, name = 'amount'): Decimal {
  let d: Decimal;
  if (typeof x === 'string') {
    const m = PLAIN_DECIMAL.exec(x);
    if (!m) throw new RangeError(`${name} must be a plain decimal like "12.345", got ${JSON.stringify(x)}`);
    if (m[1].replace(/^0+/, '').length > MAX_INTEGER_DIGITS) throw new RangeError(`${name} is too large: ${x}`);
    if ((m[2] ?? '').length > MAX_FRACTION_DIGITS) throw new RangeError(`${name} has too many decimals: ${x}`);
    d = new Dec(x);
  } else if (Decimal.isDecimal(x)) {
    if (!x.isFinite()) throw new RangeError(`${name} must be finite, got ${x.toString()}`);
    d = new Dec(x);
    if (d.decimalPlaces() > MAX_FRACTION_DIGITS) throw new RangeError(`${name} has too many decimals: ${d.toFixed()}`);
    if (d.abs().gte(new Dec(10).pow(MAX_INTEGER_DIGITS))) throw new RangeError(`${name} is too large: ${d.toFixed()}`);
  } else {
    // A JS number (or anything else) is refused on purpose: money never travels as float.
    throw new TypeError(`${name} must be a decimal string or Decimal, got ${typeof x}`);
  }
  return d.isZero() ? new Dec(0) : d; // no negative zero
}

/**
 * Parses money that must already be exact at the money scale: at most 5 decimals.
 * "0.123456" is rejected, not rounded: rounding is a business decision, made only by
 * roundCharge/roundRefund.
 */
export function money(x: MoneyInput, name = 'amount'): Decimal {
  const d = decimal(x, name);
  if (d.decimalPlaces() > MONEY_SCALE) {
    throw new RangeError(`${name} has more than ${MONEY_SCALE} decimals: ${d.toFixed()}`);
  }
  return d;
}

/** money() that also refuses negative amounts (charges, refunds, rates). */
export function nonNegativeMoney(x: MoneyInput, name = 'amount'): Decimal {
  const d = money(x, name);
  if (d.isNegative()) throw new RangeError(`${name} must not be negative, got ${d.toFixed()}`);
  return d;
}

/** Formats with exactly 5 decimals ("1" -> "1.00000"). Throws if rounding would be needed. */
export function formatMoney(x: MoneyInput): string {
  const d = money(x);
  return d.toFixed(MONEY_SCALE);
}

/**
 * The value to round: text is parsed like decimal(); a Decimal is an intermediate result
 * (e.g. 2/3 at full precision) and is taken as it is, whatever its number of decimals.
 */
function unrounded(x: MoneyInput): Decimal {
  if (typeof x === 'string') return decimal(x);
  if (!Decimal.isDecimal(x)) throw new TypeError(`amount must be a decimal string or Decimal, got ${typeof x}`);
  if (!x.isFinite()) throw new RangeError(`amount must be finite, got ${x.toString()}`);
  return new Dec(x);
}

/** R-CHARGE: half-up to 5 decimals. Use once, on the final charge. */
export function roundCharge(x: MoneyInput): Decimal {
  return unrounded(x).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_HALF_UP);
}

/** R-PARTIAL: down (toward zero) to 5 decimals, so a refund never exceeds its exact share. */
export function roundRefund(x: MoneyInput): Decimal {
  const d = unrounded(x).toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_DOWN);
  return d.isZero() ? new Dec(0) : d;
}

/** a + b, exact, formatted. */
export function addMoney(a: MoneyInput, b: MoneyInput): string {
  return formatMoney(money(a).plus(money(b)));
}

/** a - b, exact, formatted (may be negative). */
export function subMoney(a: MoneyInput, b: MoneyInput): string {
  return formatMoney(money(a).minus(money(b)));
}

/** Sum of any number of amounts, exact, formatted. */
export function sumMoney(amounts: readonly MoneyInput[]): string {
  return formatMoney(amounts.reduce<Decimal>((acc, x) => acc.plus(money(x)), new Dec(0)));
}

/** -1, 0 or 1 as a < b, a = b, a > b ("1.5" equals "1.50000"). */
export function compareMoney(a: MoneyInput, b: MoneyInput): -1 | 0 | 1 {
  return money(a).comparedTo(money(b)) as -1 | 0 | 1;
}

/** The smaller of two amounts, formatted. */
export function minMoney(a: MoneyInput, b: MoneyInput): string {
  return compareMoney(a, b) <= 0 ? formatMoney(a) : formatMoney(b);
}

/** The larger of two amounts, formatted. */
export function maxMoney(a: MoneyInput, b: MoneyInput): string {
  return compareMoney(a, b) >= 0 ? formatMoney(a) : formatMoney(b);
}

/** True when the amount is exactly zero. */
export function isZeroMoney(x: MoneyInput): boolean {
  return money(x).isZero();
}
