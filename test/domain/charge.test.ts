import fc from 'fast-check';
import { checkQuantity, computeCharge, computeSubscriptionCharge } from '../../domain/charge';

/** A rate with up to `scale` decimals, as text, and its value in units of 10^-scale. */
function rateArb(scale: number) {
  return fc
    .tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 10 ** scale - 1 }))
    .map(([whole, frac]) => ({
      text: `${whole}.${String(frac).padStart(scale, '0')}`,
      units: BigInt(whole) * 10n ** BigInt(scale) + BigInt(frac),
    }));
}

/** Independent oracle: half-up rounding of units × quantity / 10^shift, in integers. */
function halfUpUnits(numerator: bigint, divisor: bigint): bigint {
  return (numerator * 2n + divisor) / (divisor * 2n);
}

/**
 * Quantities as panels see them: any number, and round ones (1500, 2500, 300…), which
 * are where binary floats land just below a half and round the wrong way.
 */
const quantityArb = fc.oneof(
  fc.integer({ min: 1, max: 10_000_000 }),
  fc.tuple(fc.constantFrom(100, 250, 300, 500, 1000, 1500, 2500, 5000, 7500, 10000), fc.integer({ min: 1, max: 20 }))
    .map(([q, k]) => q * k),
);

function formatUnits(units: bigint): string {
  const s = units.toString().padStart(6, '0');
  return `${s.slice(0, -5)}.${s.slice(-5)}`;
}

describe('computeCharge', () => {
  it('R-CHARGE: rate × quantity / 1000 is exact where floats drift ("0.9" × 333 = 0.2997)', () => {
    // In binary floating point 0.9 * 333 / 1000 is 0.29969999999999997.
    expect(computeCharge('0.9', 333)).toBe('0.29970');
    expect(computeCharge('1.2345', 1000)).toBe('1.23450');
    expect(computeCharge('0.27819', 1000)).toBe('0.27819');
    // Exactly 2.069955 -> 2.06996; in floats 1.37997 * 1500 / 1000 is 2.0699549999999998 -> 2.06995.
    expect(computeCharge('1.37997', 1500)).toBe('2.06996');
    expect(computeCharge('2.91525', 300)).toBe('0.87458');
  });

  it('R-CHARGE: stays exact far beyond 20 significant digits (40-digit rate × 9-digit quantity)', () => {
    const rate = '12345678901234567890.12345678901234567890';
    const q = 999_999_999;
    const rateUnits = BigInt(rate.replace('.', '')); // units of 1e-20
    const expected = formatUnits(halfUpUnits(rateUnits * BigInt(q), 10n ** 18n)); // /1000 and 1e-20 -> 1e-5
    expect(computeCharge(rate, q)).toBe(expected);
  });

  it('R-CHARGE: the charge rounds half-up at the 5th decimal', () => {
    expect(computeCharge('0.005', 1)).toBe('0.00001'); // 0.000005 -> up
    expect(computeCharge('0.0049', 1)).toBe('0.00000'); // 0.0000049 -> down
    expect(computeCharge('0.0123456', 7)).toBe('0.00009'); // 0.0000864192
  });

  it('R-CHARGE: refuses a negative rate, a float rate and a quantity that is not a positive whole number', () => {
    expect(() => computeCharge('-1', 100)).toThrow(/negative/);
    expect(() => computeCharge(0.9 as unknown as string, 100)).toThrow(TypeError);
    expect(() => computeCharge('1', 0)).toThrow(/quantity/);
    expect(() => computeCharge('1', 1.5)).toThrow(/quantity/);
    expect(() => computeCharge('1', NaN)).toThrow(/quantity/);
  });

  it('R-CHARGE: for any 5-decimal rate and quantity, the charge equals the integer half-up oracle', () => {
    fc.assert(
      fc.property(rateArb(5), quantityArb, (rate, quantity) => {
        // charge in 1e-5 units = rateUnits × quantity / 1000
        const expected = formatUnits(halfUpUnits(rate.units * BigInt(quantity), 1000n));
        expect(computeCharge(rate.text, quantity)).toBe(expected);
      }),
    );
  });

  it('R-CHARGE: for rates with 8 decimals too, the charge equals the integer half-up oracle', () => {
    fc.assert(
      fc.property(rateArb(8), fc.integer({ min: 1, max: 1_000_000 }), (rate, quantity) => {
        const expected = formatUnits(halfUpUnits(rate.units * BigInt(quantity), 1_000_000n));
        expect(computeCharge(rate.text, quantity)).toBe(expected);
      }),
    );
  });
});

describe('computeSubscriptionCharge', () => {
  it('R-CHARGE-MAX: a subscription is charged at max quantity × posts', () => {
    expect(computeSubscriptionCharge('2', 500, 10)).toBe('10.00000');
    expect(computeSubscriptionCharge('0.9', 333, 3)).toBe('0.89910');
  });

  it('R-CHARGE-MAX: the total is rounded once, not per post (3 × 0.000004 = 0.000012 -> 0.00001, not 3 × 0)', () => {
    expect(computeSubscriptionCharge('0.004', 1, 3)).toBe('0.00001');
  });

  it('R-CHARGE-MAX: refuses unlimited or invalid posts and max quantity', () => {
    expect(() => computeSubscriptionCharge('1', 100, 0)).toThrow(/posts/);
    expect(() => computeSubscriptionCharge('1', 100, Infinity)).toThrow(/posts/);
    expect(() => computeSubscriptionCharge('1', 0, 5)).toThrow(/maxQuantity/);
  });

  it('R-CHARGE-MAX: equals the integer oracle for any rate, max and posts', () => {
    fc.assert(
      fc.property(rateArb(5), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 1000 }), (rate, max, posts) => {
        const expected = formatUnits(halfUpUnits(rate.units * BigInt(max) * BigInt(posts), 1000n));
        expect(computeSubscriptionCharge(rate.text, max, posts)).toBe(expected);
      }),
    );
  });
});

describe('checkQuantity', () => {
  const service = { min: 50, max: 10000, active: true };

  it('R-MINMAX: accepts the min and the max themselves (inclusive bounds)', () => {
    expect(checkQuantity(service, 50)).toEqual({ ok: true });
    expect(checkQuantity(service, 10000)).toEqual({ ok: true });
    expect(checkQuantity(service, 777)).toEqual({ ok: true });
  });

  it('R-MINMAX: refuses a quantity below the minimum, naming the minimum', () => {
    expect(checkQuantity(service, 49)).toEqual({ ok: false, rule: 'R-MINMAX', message: 'quantity below minimum 50' });
  });

  it('R-MINMAX: refuses a quantity above the maximum, naming the maximum', () => {
    expect(checkQuantity(service, 10001)).toEqual({ ok: false, rule: 'R-MINMAX', message: 'quantity above maximum 10000' });
  });

  it('R-MINMAX: an inactive service takes no order, whatever the quantity', () => {
    expect(checkQuantity({ ...service, active: false }, 100)).toEqual({ ok: false, rule: 'R-MINMAX', message: 'service is inactive' });
  });

  it('R-MINMAX: refuses fractional, zero and NaN quantities', () => {
    for (const q of [100.5, 0, -5, NaN]) {
      expect(checkQuantity({ min: 0, max: 10000, active: true }, q)).toEqual({
        ok: false, rule: 'R-MINMAX', message: 'quantity must be a positive whole number',
      });
    }
  });
});
