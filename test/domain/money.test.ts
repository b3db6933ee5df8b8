import Decimal from 'decimal.js';
import {
  addMoney, compareMoney, decimal, formatMoney, isZeroMoney, maxMoney, minMoney, money, nonNegativeMoney,
  roundCharge, roundRefund, subMoney, sumMoney,
} from '../../domain/money';
import { computeCharge } from '../../domain/charge';

describe('money parsing (R-CHARGE: exact decimals only)', () => {
  it('R-CHARGE: parses a panel amount exactly and formats it with 5 decimals', () => {
    expect(formatMoney(money('0.27819'))).toBe('0.27819');
    expect(formatMoney('1')).toBe('1.00000');
    expect(formatMoney('1.5')).toBe('1.50000');
    expect(formatMoney('-2.25')).toBe('-2.25000');
  });

  it.each(['NaN', 'Infinity', '-Infinity', '', 'abc', '1e5', '0x10', ' 1', '1 ', '1.', '.5', '+1', '1,5', '--1'])(
    'R-CHARGE: rejects %j as an amount',
    (text) => {
      expect(() => money(text)).toThrow(RangeError);
    },
  );

  it('R-CHARGE: refuses JS numbers, which may already have lost exactness', () => {
    expect(() => money(0.1 as unknown as string)).toThrow(TypeError);
    expect(() => decimal(3 as unknown as string)).toThrow(TypeError);
  });

  it('R-CHARGE: refuses non-finite Decimal instances', () => {
    expect(() => money(new Decimal(NaN))).toThrow(/finite/);
    expect(() => money(new Decimal(Infinity))).toThrow(/finite/);
  });

  it('R-CHARGE: money() rejects more than 5 decimals instead of rounding; decimal() keeps them exactly', () => {
    expect(() => money('0.123456')).toThrow(/more than 5 decimals/);
    expect(() => money(new Decimal('0.123456'))).toThrow(/more than 5 decimals/);
    expect(decimal('0.123456').toFixed()).toBe('0.123456');
    expect(() => formatMoney('0.000001')).toThrow(/more than 5 decimals/);
  });

  it('R-CHARGE: accepts Decimal instances from the default constructor', () => {
    expect(formatMoney(new Decimal('12.3'))).toBe('12.30000');
  });

  it('R-CHARGE: rejects absurdly large amounts and too many decimals (exactness bound)', () => {
    expect(() => decimal('1' + '0'.repeat(30))).toThrow(/too large/);
    expect(decimal('9'.repeat(30)).toFixed()).toBe('9'.repeat(30));
    expect(() => decimal('0.' + '1'.repeat(21))).toThrow(/too many decimals/);
  });

  it('R-CHARGE: negative zero never shows up as "-0.00000"', () => {
    expect(formatMoney('-0')).toBe('0.00000');
    expect(subMoney('1.5', '1.50000')).toBe('0.00000');
    expect(formatMoney(roundRefund('-0.000001'))).toBe('0.00000');
  });

  it('R-CHARGE: nonNegativeMoney rejects negative amounts', () => {
    expect(() => nonNegativeMoney('-0.00001')).toThrow(/negative/);
    expect(nonNegativeMoney('0').toFixed(5)).toBe('0.00000');
  });
});

describe('the one rounding rule', () => {
  it('R-CHARGE: a charge rounds half-up to 5 decimals', () => {
    expect(formatMoney(roundCharge('0.000005'))).toBe('0.00001');
    expect(formatMoney(roundCharge('0.000015'))).toBe('0.00002');
    expect(formatMoney(roundCharge('0.0000049999'))).toBe('0.00000');
    expect(formatMoney(roundCharge('2.123455'))).toBe('2.12346');
  });

  it('R-PARTIAL: a refund rounds down to 5 decimals, even at .99999…', () => {
    expect(formatMoney(roundRefund('0.0000099999'))).toBe('0.00000');
    expect(formatMoney(roundRefund('1.999999'))).toBe('1.99999');
    expect(formatMoney(roundRefund('2.123455'))).toBe('2.12345');
  });

  it('R-PARTIAL: rounding accepts full-precision intermediate results (2/3) but not NaN or Infinity', () => {
    expect(formatMoney(roundRefund(new Decimal(2).dividedBy(3)))).toBe('0.66666');
    expect(formatMoney(roundCharge(new Decimal(2).dividedBy(3)))).toBe('0.66667');
    expect(() => roundCharge(new Decimal(NaN))).toThrow(/finite/);
    expect(() => roundRefund(new Decimal(-Infinity))).toThrow(/finite/);
  });

  it('R-CHARGE: arithmetic is unaffected by a global Decimal.set() elsewhere in the process', () => {
    const saved = Decimal.precision;
    try {
      Decimal.set({ precision: 5 });
      // 123.45678 × 99999 / 1000 = 12345.55454322: needs far more than 5 significant digits.
      expect(computeCharge('123.45678', 99999)).toBe('12345.55454');
    } finally {
      Decimal.set({ precision: saved });
    }
  });
});

describe('money helpers', () => {
  it('R-CHARGE: add, sub and sum are exact (0.1 + 0.2 = 0.3)', () => {
    expect(addMoney('0.1', '0.2')).toBe('0.30000');
    expect(subMoney('0.3', '0.1')).toBe('0.20000');
    expect(subMoney('0.1', '0.3')).toBe('-0.20000');
    expect(sumMoney(['0.1', '0.2', '0.00001'])).toBe('0.30001');
    expect(sumMoney([])).toBe('0.00000');
  });

  it('R-CHARGE: compare treats equal values with different scales as equal', () => {
    expect(compareMoney('1.5', '1.50000')).toBe(0);
    expect(compareMoney('1.49999', '1.5')).toBe(-1);
    expect(compareMoney('10', '9.99999')).toBe(1);
    expect(minMoney('2', '1.5')).toBe('1.50000');
    expect(maxMoney('2', '1.5')).toBe('2.00000');
    expect(isZeroMoney('0.00000')).toBe(true);
    expect(isZeroMoney('0.00001')).toBe(false);
  });
});
