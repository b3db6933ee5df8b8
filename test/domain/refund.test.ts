import fc from 'fast-check';
import { capRefund, fullRefund, partialRefund, refundForFinalStatus } from '../../domain/refund';
import { ORDER_STATUSES, isFinal } from '../../domain/order-status';

/** Money as integer units of 0.00001, independently of the code under test. */
const units = (s: string): bigint => {
  const [whole, frac = ''] = s.split('.');
  const u = BigInt(whole.replace('-', '')) * 100000n + BigInt((frac + '00000').slice(0, 5));
  return s.startsWith('-') ? -u : u;
};
const fmt = (u: bigint): string => {
  const s = u.toString().padStart(6, '0');
  return `${s.slice(0, -5)}.${s.slice(-5)}`;
};
const chargeArb = fc.bigInt({ min: 0n, max: 10_000_000_000n }).map(fmt); // up to 100000.00000
/** Any quantity, plus small and round ones, where float arithmetic lands just below a 5th-decimal step. */
const quantityArb = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }),
  fc.integer({ min: 1, max: 30 }),
  fc.constantFrom(100, 200, 300, 500, 1000, 1500, 2500, 5000, 10000),
);
/** Any remains a provider might send: negative (over-delivery), in range, or above quantity. */
const remainsFor = (q: number) => fc.integer({ min: -2 * q - 10, max: 3 * q + 10 });

describe('partialRefund', () => {
  it('R-PARTIAL: refunds charge × remains / quantity', () => {
    expect(partialRefund('10.00000', 1000, 157)).toBe('1.57000');
  });

  it('R-PARTIAL: refunds the UNDELIVERED part, not the delivered one (remains 900 of 1000 -> 90%)', () => {
    expect(partialRefund('10.00000', 1000, 900)).toBe('9.00000');
  });

  it('R-PARTIAL: rounds down, where half-up would give more (0.27819 × 157 / 1000 = 0.04367583)', () => {
    expect(partialRefund('0.27819', 1000, 157)).toBe('0.04367');
    expect(partialRefund('1.00000', 3, 2)).toBe('0.66666');
    expect(partialRefund('1.00000', 3, 1)).toBe('0.33333');
  });

  it('R-PARTIAL: an exact share is refunded in full, where floats would lose 0.00001 (4.97 × 54 / 100 = 2.6838)', () => {
    // In floats 4.97 * 54 / 100 is 2.6837999999999997, which rounds down to 2.68379.
    expect(partialRefund('4.97000', 100, 54)).toBe('2.68380');
    expect(partialRefund('8.29314', 3, 2)).toBe('5.52876');
  });

  it('R-PARTIAL: stays exact for the largest amounts and quantities accepted', () => {
    const charge = '999999999999999999999999999999.99999';
    const q = Number.MAX_SAFE_INTEGER;
    const r = q - 2;
    expect(partialRefund(charge, q, r)).toBe(fmt((units(charge) * BigInt(r)) / BigInt(q)));
  });

  it('R-PARTIAL: negative remains (over-delivery) refund nothing', () => {
    expect(partialRefund('10.00000', 1000, -50)).toBe('0.00000');
  });

  it('R-PARTIAL: remains above quantity refund the charge, never more', () => {
    expect(partialRefund('10.00000', 1000, 5000)).toBe('10.00000');
    expect(partialRefund('10.00000', 1000, 1000)).toBe('10.00000');
    expect(partialRefund('10.00000', 1000, 0)).toBe('0.00000');
  });

  it('R-PARTIAL: refuses unknown or fractional remains and invalid quantity or charge', () => {
    expect(() => partialRefund('10', 1000, NaN)).toThrow(/remains/);
    expect(() => partialRefund('10', 1000, 1.5)).toThrow(/remains/);
    expect(() => partialRefund('10', 0, 1)).toThrow(/quantity/);
    expect(() => partialRefund('-10', 1000, 1)).toThrow(/negative/);
    expect(() => partialRefund('0.123456', 1000, 1)).toThrow(/decimals/);
  });

  it('R-PARTIAL: for any remains, equals floor(charge × clamp(remains) / quantity) computed in integers', () => {
    fc.assert(
      fc.property(chargeArb, quantityArb.chain((q) => fc.tuple(fc.constant(q), remainsFor(q))), (charge, [q, r]) => {
        const clamped = BigInt(Math.min(Math.max(r, 0), q));
        expect(partialRefund(charge, q, r)).toBe(fmt((units(charge) * clamped) / BigInt(q)));
      }),
    );
  });

  it('R-PARTIAL: refund + exact delivered share never exceed the charge, and fall short by less than 0.00001', () => {
    fc.assert(
      fc.property(chargeArb, quantityArb.chain((q) => fc.tuple(fc.constant(q), fc.integer({ min: 0, max: q }))), (charge, [q, r]) => {
        // In units × q to stay in integers: refund·q + charge·delivered ≤ charge·q.
        const refundQ = units(partialRefund(charge, q, r)) * BigInt(q);
        const deliveredQ = units(charge) * BigInt(q - r);
        const chargeQ = units(charge) * BigInt(q);
        expect(refundQ + deliveredQ <= chargeQ).toBe(true);
        expect(chargeQ - (refundQ + deliveredQ) < BigInt(q)).toBe(true);
      }),
    );
  });
});

describe('fullRefund and capRefund', () => {
  it('R-CANCEL-FULL: a canceled order gets its whole charge back', () => {
    expect(fullRefund('5.00000', '0.00000')).toBe('5.00000');
  });

  it('R-CANCEL-FULL: only the rest of the charge, if part was refunded before', () => {
    expect(fullRefund('5.00000', '1.20000')).toBe('3.80000');
    expect(fullRefund('5', '5')).toBe('0.00000');
    expect(fullRefund('5', '6')).toBe('0.00000');
  });

  it('R-PARTIAL: capRefund keeps a wanted amount that fits and cuts one that does not', () => {
    expect(capRefund('5.00000', '1.00000', '2.50000')).toBe('2.50000');
    expect(capRefund('5.00000', '4.00000', '2.50000')).toBe('1.00000');
    expect(capRefund('5.00000', '5.00000', '0.00001')).toBe('0.00000');
    expect(() => capRefund('5', '0', '-1')).toThrow(/negative/);
  });

  it('R-PARTIAL: whatever refunds are attempted in any order, the refunds of one order never add up to more than its charge', () => {
    const attempt = fc.oneof(
      fc.record({ kind: fc.constant('partial' as const), remains: fc.integer({ min: -5000, max: 5000 }) }),
      fc.record({ kind: fc.constant('full' as const) }),
      fc.record({ kind: fc.constant('wanted' as const), amount: chargeArb }),
    );
    fc.assert(
      fc.property(chargeArb, fc.integer({ min: 1, max: 2000 }), fc.array(attempt, { maxLength: 8 }), (charge, q, attempts) => {
        let refunded = 0n;
        for (const a of attempts) {
          const already = fmt(refunded);
          const amount =
            a.kind === 'partial' ? capRefund(charge, already, partialRefund(charge, q, a.remains))
            : a.kind === 'full' ? fullRefund(charge, already)
            : capRefund(charge, already, a.amount);
          expect(units(amount) >= 0n).toBe(true);
          refunded += units(amount);
          expect(refunded <= units(charge)).toBe(true);
        }
      }),
    );
  });
});

describe('refundForFinalStatus', () => {
  const order = { charge: '10.00000', quantity: 1000, alreadyRefunded: '0.00000' };

  it('R-NO-REFUND-DONE: a completed order gets no refund, whatever remains the provider reported', () => {
    expect(refundForFinalStatus({ ...order, status: 'completed', remains: 300 })).toEqual({ amount: '0.00000', rule: 'R-NO-REFUND-DONE' });
  });

  it('R-PARTIAL: a partial order gets the undelivered part', () => {
    expect(refundForFinalStatus({ ...order, status: 'partial', remains: 250 })).toEqual({ amount: '2.50000', rule: 'R-PARTIAL' });
  });

  it('R-PARTIAL: a partial order with earlier refunds gets at most the rest of the charge', () => {
    expect(refundForFinalStatus({ ...order, status: 'partial', remains: 250, alreadyRefunded: '9.00000' }))
      .toEqual({ amount: '1.00000', rule: 'R-PARTIAL' });
  });

  it('R-PARTIAL: a partial order without remains is an error, not a guess', () => {
    expect(() => refundForFinalStatus({ ...order, status: 'partial' })).toThrow(/remains/);
  });

  it('R-CANCEL-FULL: a canceled order gets the whole (remaining) charge', () => {
    expect(refundForFinalStatus({ ...order, status: 'canceled' })).toEqual({ amount: '10.00000', rule: 'R-CANCEL-FULL' });
    expect(refundForFinalStatus({ ...order, status: 'canceled', alreadyRefunded: '2.5' })).toEqual({ amount: '7.50000', rule: 'R-CANCEL-FULL' });
  });

  it('R-CANCEL-NO-REFUND: a support cancel without refund gives nothing, and needs a stated reason', () => {
    expect(refundForFinalStatus({ ...order, status: 'canceled', noRefundReason: 'prohibited content' }))
      .toEqual({ amount: '0.00000', rule: 'R-CANCEL-NO-REFUND' });
    expect(() => refundForFinalStatus({ ...order, status: 'canceled', noRefundReason: '  ' })).toThrow(/reason/);
  });

  it('R-BALANCE: a rejected order was never paid and gets nothing back', () => {
    expect(refundForFinalStatus({ ...order, status: 'rejected' })).toEqual({ amount: '0.00000', rule: 'R-BALANCE' });
  });

  it('R-CANCEL-FULL: no refund is decided for an order that is not final', () => {
    for (const status of ORDER_STATUSES.filter((s) => !isFinal(s))) {
      expect(() => refundForFinalStatus({ ...order, status })).toThrow(/final/);
    }
  });

  it('R-PARTIAL: for any final status, remains and earlier refund, the refund is within [0, charge − alreadyRefunded]', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('completed' as const, 'partial' as const, 'canceled' as const, 'rejected' as const),
        chargeArb, fc.integer({ min: 0, max: 150 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: -20000, max: 20000 }),
        (status, charge, alreadyPct, q, remains) => {
          const already = fmt((units(charge) * BigInt(alreadyPct)) / 100n); // may exceed the charge (bad data)
          const { amount } = refundForFinalStatus({ status, charge, quantity: q, remains, alreadyRefunded: already });
          const left = units(charge) - units(already);
          expect(units(amount) >= 0n).toBe(true);
          expect(units(amount) <= (left > 0n ? left : 0n)).toBe(true);
        },
      ),
    );
  });
});
