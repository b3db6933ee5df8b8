// The simulation's books per order type (simulation/typed-books.ts): the charge each type's rule
// gives from the row's stored fields, a drip-feed's refunds per run and per runs not sent, a
// subscription's refund by R-SUBSCRIPTION-UNSERVED from what the provider served. Right books pass;
// each wrong one is caught with the reason.
import { checkDripFeedRefunds, checkSubscriptionRefund, expectedCharge } from '../../simulation/typed-books';
import type { RunRow, TypedFields } from '../../simulation/typed-books';

const base = { providerFields: null, dripFeed: null, subscription: null, runs: [] } satisfies Omit<TypedFields, 'type'>;

describe('expectedCharge', () => {
  it('R-CHARGE: rate × quantity / 1000 for a Default order and a quantity type (Poll)', () => {
    expect(expectedCharge({ ...base, type: 'default', rate: '0.90000', quantity: 1000 })).toMatchObject({ quantity: 1000, charge: '0.90000' });
    expect(expectedCharge({ ...base, type: 'poll', rate: '2.00000', quantity: 150 })).toMatchObject({ quantity: 150, charge: '0.30000' });
  });

  it('Package: the rate is the price of one order, quantity 1', () => {
    expect(expectedCharge({ ...base, type: 'package', rate: '9.99000', quantity: 1 })).toMatchObject({ quantity: 1, charge: '9.99000' });
    expect(expectedCharge({ ...base, type: 'package', rate: '9.99000', quantity: 3 })).toMatchObject({ quantity: 1 });
  });

  it('Custom Comments: by non-empty lines (blank and space-only lines, CRLF do not count); the package of comments at its price', () => {
    const comments = 'great 1  \r\n\r\n   \r\nwow 2\r\nnice 3';
    expect(expectedCharge({ ...base, type: 'custom_comments', rate: '20.00000', quantity: 3, providerFields: { comments } })).toMatchObject({ quantity: 3, charge: '0.06000' });
    expect(expectedCharge({ ...base, type: 'custom_comments_package', rate: '2.50000', quantity: 3, providerFields: { comments } })).toMatchObject({ quantity: 3, charge: '2.50000' });
    expect(expectedCharge({ ...base, type: 'comment_replies', rate: '25.00000', quantity: 9, providerFields: { username: 'x', comments } })).toMatchObject({ quantity: 3 });
  });

  it('drip-feed: quantity per run × runs; R-CHARGE-MAX: max × posts of the stored terms', () => {
    const dripFeed = { runs: 4, intervalMinutes: 60, quantityPerRun: 250, mode: 'engine' as const };
    expect(expectedCharge({ ...base, type: 'default', rate: '0.15000', quantity: 1000, dripFeed })).toMatchObject({ quantity: 1000, charge: '0.15000' });
    const subscription = { username: 'a', min: 100, max: 300, posts: 5, oldPosts: 0, delayMinutes: 0 };
    expect(expectedCharge({ ...base, type: 'subscriptions', rate: '0.20000', quantity: 1500, subscription })).toMatchObject({ quantity: 1500, charge: '0.30000' });
  });
});

const run = (index: number, status: RunRow['status'], remains: number | null, refunded: string, quantity = 100): RunRow => ({ index, quantity, providerOrderId: String(500 + index), status, remains, refunded });

function drip(fields: Partial<Parameters<typeof checkDripFeedRefunds>[0]>) {
  return {
    ...base,
    id: 7,
    type: 'default',
    status: 'partial',
    rate: '1.00000',
    quantity: 400,
    charge: '0.40000',
    remains: 250,
    refundSum: '0',
    refundEntries: [],
    noRefundCancel: false,
    supportFullCancel: false,
    dripFeed: { runs: 4, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' as const },
    ...fields,
  };
}

function problems(check: (fail: (m: string) => void) => void): string[] {
  const out: string[] = [];
  check((m) => out.push(m));
  return out;
}

describe('checkDripFeedRefunds', () => {
  // Run 1 completed, run 2 partial (30 of 100 undelivered), canceled by the user before runs 3 and 4.
  const runs = [run(1, 'completed', 0, '0.00000'), run(2, 'partial', 30, '0.03000')];
  const entries = [
    { key: 'order-7:refund:unsent', amount: '0.20000' },
    { key: 'order-7:refund:run-2', amount: '0.03000' },
  ];

  it('right books pass: each run refunded its undelivered part (R-PARTIAL), the runs not sent together (R-CANCEL-FULL)', () => {
    expect(problems((fail) => checkDripFeedRefunds(drip({ runs, refundEntries: entries, refundSum: '0.23000', remains: 230 }), fail))).toEqual([]);
  });

  it('catches a run refunded more than its undelivered part, and the runs never sent left without their refund', () => {
    const wrong = [{ key: 'order-7:refund:run-2', amount: '0.05000' }];
    const found = problems((fail) => checkDripFeedRefunds(drip({ runs: [runs[0], { ...runs[1], refunded: '0.05000' }], refundEntries: wrong, refundSum: '0.05000', remains: 230 }), fail));
    expect(found).toEqual([
      expect.stringContaining('R-PARTIAL gives 0.03000'),
      expect.stringContaining('2 runs were never sent'),
      expect.stringContaining('its refund parts add up to 0.05000, the rule on its 230 undelivered units gives 0.23000'),
    ]);
  });

  it('the rounding carried over the feed passes (0.00123 + 0.00124 = the whole 0.00247); each part rounded alone is caught short', () => {
    const feed = { runs: 2, intervalMinutes: 60, quantityPerRun: 10, mode: 'engine' as const };
    const two = [run(1, 'canceled', null, '0.00123', 10), run(2, 'canceled', null, '0.00124', 10)];
    const carried = [{ key: 'order-7:refund:run-1', amount: '0.00123' }, { key: 'order-7:refund:run-2', amount: '0.00124' }];
    const order = { status: 'canceled', quantity: 20, charge: '0.00247', dripFeed: feed, remains: 20 };
    expect(problems((fail) => checkDripFeedRefunds(drip({ ...order, runs: two, refundEntries: carried, refundSum: '0.00247' }), fail))).toEqual([]);
    const alone = [run(1, 'canceled', null, '0.00123', 10), run(2, 'canceled', null, '0.00123', 10)];
    const short = alone.map((r) => ({ key: `order-7:refund:run-${r.index}`, amount: '0.00123' }));
    expect(problems((fail) => checkDripFeedRefunds(drip({ ...order, runs: alone, refundEntries: short, refundSum: '0.00246' }), fail))).toEqual([
      expect.stringContaining('refunded 0.00246 of its charge 0.00247'),
    ]);
  });

  it("a run a cancel stopped before it was sent keeps its row and is refunded among the runs not sent (seen in the simulation: seed 42, 10,000 orders, order 8097); a run the provider refused is its own part", () => {
    // Canceled at once while run 1's dispatch was in flight; the provider refused the add, so run 1
    // was never placed: its row is canceled with no upstream order, and :unsent covers all 4 runs.
    const stopped = [{ ...run(1, 'canceled', null, '0'), providerOrderId: null }];
    const whole = [{ key: 'order-7:refund:unsent', amount: '0.40000' }];
    expect(problems((fail) => checkDripFeedRefunds(drip({ status: 'canceled', runs: stopped, refundEntries: whole, refundSum: '0.40000', remains: 400 }), fail))).toEqual([]);
    // The same row with only 3 runs' worth among the unsent is caught short.
    const threeRuns = [{ key: 'order-7:refund:unsent', amount: '0.30000' }];
    expect(problems((fail) => checkDripFeedRefunds(drip({ status: 'canceled', runs: stopped, refundEntries: threeRuns, refundSum: '0.30000', remains: 400 }), fail))).toEqual([
      expect.stringContaining('runs not sent (400 units): refunded 0.30000, the rule gives 0.40000'),
      expect.stringContaining('refunded 0.30000 of its charge 0.40000'),
    ]);
    // A run refused by the provider outside a cancel is refunded as its own part (run-1), as before.
    const refused = [{ ...run(1, 'canceled', null, '0.10000'), providerOrderId: null }];
    const parts = [{ key: 'order-7:refund:run-1', amount: '0.10000' }, { key: 'order-7:refund:unsent', amount: '0.30000' }];
    expect(problems((fail) => checkDripFeedRefunds(drip({ status: 'canceled', runs: refused, refundEntries: parts, refundSum: '0.40000', remains: 400 }), fail))).toEqual([]);
  });

  it('catches a feed canceled with nothing delivered that did not get its whole charge back, and a status its runs contradict', () => {
    const none = [run(1, 'canceled', null, '0.10000'), run(2, 'canceled', null, '0.10000')];
    const keys = [{ key: 'order-7:refund:run-1', amount: '0.10000' }, { key: 'order-7:refund:run-2', amount: '0.10000' }, { key: 'order-7:refund:unsent', amount: '0.20000' }];
    expect(problems((fail) => checkDripFeedRefunds(drip({ status: 'canceled', runs: none, refundEntries: keys, refundSum: '0.40000', remains: 400 }), fail))).toEqual([]);
    // Three runs of 100 at a charge of 0.10000: each run's part rounds down to 0.03333, 0.09999 in all.
    const three = [run(1, 'canceled', null, '0.03333'), run(2, 'canceled', null, '0.03333'), run(3, 'canceled', null, '0.03333')];
    const short = three.map((r) => ({ key: `order-7:refund:run-${r.index}`, amount: '0.03333' }));
    const feed = { runs: 3, intervalMinutes: 60, quantityPerRun: 100, mode: 'engine' as const };
    expect(problems((fail) => checkDripFeedRefunds(drip({ status: 'canceled', quantity: 300, charge: '0.10000', dripFeed: feed, runs: three, refundEntries: short, refundSum: '0.09999', remains: 300 }), fail))).toEqual([
      expect.stringContaining('refunded 0.09999 of its charge 0.10000'),
    ]);
    const completedRuns = [run(1, 'completed', 0, '0'), run(2, 'completed', 0, '0'), run(3, 'completed', 0, '0'), run(4, 'partial', 50, '0.05000')];
    const found = problems((fail) => checkDripFeedRefunds(drip({ status: 'completed', runs: completedRuns, refundEntries: [{ key: 'order-7:refund:run-4', amount: '0.05000' }], refundSum: '0.05000', remains: 0 }), fail));
    expect(found).toEqual([expect.stringContaining('completed, but its runs delivered 350 of 400 (partial)')]);
  });
});

describe('checkSubscriptionRefund', () => {
  const subscription = { username: 'acc', min: 100, max: 200, posts: 4, oldPosts: 0, delayMinutes: 0 };
  const sub = (fields: object) => ({ ...drip({}), dripFeed: null, type: 'subscriptions', quantity: 800, charge: '0.80000', remains: null, subscription, ...fields });

  it('R-SUBSCRIPTION-UNSERVED: the posts never served at max, and max less what each served post got', () => {
    // Served 2 posts: 150 and 200 → unserved 2 × 200 + 50 = 450 of 800 → 0.45000.
    const upstream = { subscription: { status: 'Canceled', delivered: [150, 200] } };
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'partial', refundSum: '0.45000' }), upstream, fail))).toEqual([]);
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'partial', refundSum: '0.40000' }), upstream, fail))).toEqual([expect.stringContaining('the rule gives 0.45000')]);
  });

  it('no post served: canceled with the whole charge back; every post at max: completed with nothing back', () => {
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'canceled', refundSum: '0.80000' }), { subscription: { status: 'Canceled', delivered: [] } }, fail))).toEqual([]);
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'completed', refundSum: '0' }), { subscription: { status: 'Completed', delivered: [200, 200, 200, 200] } }, fail))).toEqual([]);
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'partial', refundSum: '0' }), { subscription: { status: 'Completed', delivered: [200, 200, 200, 200] } }, fail))).toEqual([
      expect.stringContaining('(completed expected)'),
    ]);
  });

  it('support: the whole charge back, or nothing (R-CANCEL-NO-REFUND), whatever was served', () => {
    const upstream = { subscription: { status: 'Canceled', delivered: [150] } };
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'canceled', supportFullCancel: true, refundSum: '0.80000' }), upstream, fail))).toEqual([]);
    expect(problems((fail) => checkSubscriptionRefund(sub({ status: 'canceled', noRefundCancel: true, refundSum: '0' }), upstream, fail))).toEqual([]);
  });
});
