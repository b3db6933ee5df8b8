import fc from 'fast-check';
import { computeSubscriptionCharge } from '../../domain/charge';
import { compareMoney } from '../../domain/money';
import { subscriptionRefund, unservedUnits } from '../../domain/subscription-refund';

describe('R-SUBSCRIPTION-UNSERVED', () => {
  it('R-SUBSCRIPTION-UNSERVED: 30 posts charged at max 200, 22 served (two of them at 150 and 180): 8 × 200 + 50 + 20 units back', () => {
    const charge = computeSubscriptionCharge('1.00000', 200, 30); // 6.00000
    const delivered = [...Array(20).fill(200), 150, 180];
    expect(unservedUnits({ max: 200, posts: 30, delivered })).toBe(8 * 200 + 50 + 20);
    expect(subscriptionRefund(charge, { max: 200, posts: 30, delivered })).toEqual({ amount: '1.67000', unserved: 1670, rule: 'R-SUBSCRIPTION-UNSERVED' });
  });

  it('R-SUBSCRIPTION-UNSERVED: a post the provider says nothing about counts as served; over-delivery refunds nothing', () => {
    expect(unservedUnits({ max: 100, posts: 3, delivered: [null, 130, 100] })).toBe(0);
    expect(subscriptionRefund('0.30000', { max: 100, posts: 3, delivered: [] }).amount).toBe('0.30000');
  });

  it('R-SUBSCRIPTION-UNSERVED: never more than the charge, whatever the provider reports', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 60 }), fc.array(fc.option(fc.integer({ min: -100, max: 10_000 })), { maxLength: 80 }), (max, posts, delivered) => {
        const charge = computeSubscriptionCharge('0.90000', max, posts);
        const refund = subscriptionRefund(charge, { max, posts, delivered });
        expect(compareMoney(refund.amount, charge)).toBeLessThanOrEqual(0);
        expect(refund.unserved).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
