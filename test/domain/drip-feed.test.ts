import { feedDone, feedOutcome, newDripFeed, newRun, nextRunAt, runRefund, unsentRefund } from '../../domain/drip-feed';
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
