import Decimal from 'decimal.js';
import fc from 'fast-check';
import { carriedPartRefund, feedDone, feedOutcome, newDripFeed, newRun, nextRunAt, runDelivered, runRefund, unsentQuantity, unsentRefund } from '../../domain/drip-feed';
import { compareMoney, formatMoney, sumMoney } from '../../domain/money';
import { partialRefund } from '../../domain/refund';
import type { DripFeedProgress, DripRun } from '../../domain/drip-feed';

const HOUR = 3_600_000;

function feedWith(runs: Array<Partial<DripRun>>, total = 10): DripFeedProgress {
  const feed = newDripFeed({ runs: total, intervalMinutes: 60, quantityPerRun: 100 });
  for (const r of runs) feed.list.push({ ...newRun(feed), ...r });
  return feed;
}

describe('drip-feed decisions', () => {
  it('the next run is due interval minutes after the previous was sent, never while one is in flight, none after the last or a stop', () => {
    expect(nextRunAt(feedWith([]))).toBe(0);
    expect(nextRunAt(feedWith([{ status: 'in_progress', sentAt: 5 * HOUR }]))).toBeNull();
    expect(nextRunAt(feedWith([{ status: 'completed', sentAt: 5 * HOUR, finishedAt: 5.2 * HOUR }]))).toBe(6 * HOUR);
    expect(nextRunAt(feedWith(Array(10).fill({ status: 'completed', sentAt: 0 })))).toBeNull();
    expect(nextRunAt({ ...feedWith([{ status: 'completed', sentAt: 0 }]), stopped: true })).toBeNull();
  });

  it('R-PARTIAL / R-AUTO-CANCEL / R-CANCEL-FULL: a run gives back the charge of what it did not deliver, by how it ended', () => {
    // 10 runs of 100 for 0.90000: 0.09000 a run.
    expect(runRefund('0.90000', 1000, { ...newRun(feedWith([])), status: 'partial', remains: 40 }, false)).toEqual({ amount: '0.03600', rule: 'R-PARTIAL' });
    expect(runRefund('0.90000', 1000, { ...newRun(feedWith([])), status: 'canceled' }, false)).toEqual({ amount: '0.09000', rule: 'R-AUTO-CANCEL' });
    expect(runRefund('0.90000', 1000, { ...newRun(feedWith([])), status: 'canceled' }, true)).toEqual({ amount: '0.09000', rule: 'R-CANCEL-FULL' });
    expect(runRefund('0.90000', 1000, { ...newRun(feedWith([])), status: 'completed', remains: 0 }, false).amount).toBe('0.00000');
  });

  it('R-CANCEL-FULL: a stop after run 4 gives back runs 5-10 exactly', () => {
    const feed = feedWith(Array(4).fill({ status: 'completed', sentAt: 0 }));
    expect(unsentRefund('0.90000', 1000, feed)).toBe('0.54000');
  });

  it('the feed ends when no run is in flight and none is left; its status comes from what its runs delivered', () => {
    const done = feedWith([...Array(9).fill({ status: 'completed' }), { status: 'partial', remains: 30 }]);
    expect(feedDone(done)).toBe(true);
    expect(feedOutcome(done, 1000)).toEqual({ status: 'partial', remains: 30 });
    expect(feedOutcome(feedWith(Array(10).fill({ status: 'completed' })), 1000)).toEqual({ status: 'completed', remains: 0 });
    const stopped = { ...feedWith([{ status: 'canceled' }]), stopped: true };
    expect(feedDone(stopped)).toBe(true);
    expect(feedOutcome(stopped, 1000)).toEqual({ status: 'canceled', remains: 1000 });
    expect(feedDone(feedWith([{ status: 'in_progress' }]))).toBe(false);
  });
});

describe('carriedPartRefund: the rounding of a feed\'s refund parts is carried over the feed', () => {
  /** Settles `list` in order as the workflow does, each part by carriedPartRefund; the unsent runs last when `unsent`. */
  function settle(charge: string, feed: DripFeedProgress, list: DripRun[], unsent: boolean): string[] {
    const parts: string[] = [];
    for (const run of list) {
      feed.list.push(run);
      const amount = carriedPartRefund(charge, feed.runs * feed.quantityPerRun, feed, run.quantity - runDelivered(run));
      run.refund = { amount, rule: 'R-CANCEL-FULL' };
      run.settled = true;
      parts.push(amount);
    }
    if (unsent) {
      feed.stopped = true;
      const amount = carriedPartRefund(charge, feed.runs * feed.quantityPerRun, feed, unsentQuantity(feed));
      feed.unsentRefund = { amount, rule: 'R-CANCEL-FULL' };
      parts.push(amount);
    }
    return parts;
  }
  const canceledRun = (feed: DripFeedProgress): DripRun => ({ ...newRun(feed), status: 'canceled' });

  it('R-CANCEL-FULL: a feed that delivered nothing gets its whole charge back (per-part rounding fell 0.00001 short)', () => {
    // rate 0.12345 per 1000, 2 runs of 10: charge 0.00247; each run alone rounds down to 0.00123.
    const feed = newDripFeed({ runs: 2, intervalMinutes: 60, quantityPerRun: 10 });
    expect(runRefund('0.00247', 20, canceledRun(feed), true).amount).toBe('0.00123');
    const first = canceledRun(feed);
    const parts = settle('0.00247', feed, [first, { ...canceledRun(feed), index: 2 }], false);
    expect(parts).toEqual(['0.00123', '0.00124']);
    expect(sumMoney(parts)).toBe('0.00247');
  });

  it('R-PARTIAL / R-CANCEL-FULL: any settled runs and unsent rest add up to exactly the rule on the undelivered total, each part ≥ 0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99_999_999 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.record({ status: fc.constantFrom('completed', 'partial', 'canceled'), remains: fc.integer({ min: 0, max: 500 }) }), { maxLength: 8 }),
        (chargeUnits, runs, perRun, outcomes) => {
          const charge = formatMoney(new Decimal(chargeUnits).div(100_000));
          const feed = newDripFeed({ runs, intervalMinutes: 60, quantityPerRun: perRun });
          const list = outcomes.slice(0, runs).map((o, i): DripRun => ({ ...newRun(feed), index: i + 1, status: o.status as DripRun['status'], remains: Math.min(o.remains, perRun) }));
          const parts = settle(charge, feed, list, list.length < runs);
          const undelivered = list.reduce((n, r) => n + r.quantity - runDelivered(r), 0) + (runs - list.length) * perRun;
          for (const part of parts) expect(compareMoney(part, '0')).toBeGreaterThanOrEqual(0);
          expect(sumMoney(parts)).toBe(partialRefund(charge, runs * perRun, undelivered));
          if (undelivered === runs * perRun) expect(sumMoney(parts)).toBe(charge);
        },
      ),
    );
  });
});
