import { newDripFeed, newRun } from '../../domain/drip-feed';
import type { DripRun } from '../../domain/drip-feed';
import { combineRefillParts, refillRunOrders } from '../../domain/drip-feed-refill';

const part = (runIndex: number, status: 'pending' | 'in_progress' | 'completed' | 'rejected' | 'failed', reason: string | null = null) => ({ runIndex, status, reason });

describe('refills of a drip-feed the engine runs', () => {
  it('R-REFILL-NEED on the delivered total: every run order that delivered something gets a refill; a run refused, canceled before it started, or never sent gets none', () => {
    const feed = newDripFeed({ runs: 5, intervalMinutes: 60, quantityPerRun: 100 });
    const runs: Array<Partial<DripRun>> = [
      { providerOrderId: '11', status: 'completed' },
      { providerOrderId: null, status: 'canceled' }, // refused by the provider
      { providerOrderId: '13', status: 'partial', remains: 40 },
      { providerOrderId: '14', status: 'canceled', remains: 100 },
    ];
    for (const r of runs) feed.list.push({ ...newRun(feed), ...r });
    expect(refillRunOrders(feed)).toEqual([{ runIndex: 1, providerOrderId: '11' }, { runIndex: 3, providerOrderId: '13' }]);
  });

  it('the refill is pending until a part moves, in progress while any part is with the provider, completed only when every part completed', () => {
    expect(combineRefillParts([part(1, 'pending'), part(2, 'pending')])).toEqual({ status: 'pending', reason: null });
    expect(combineRefillParts([part(1, 'in_progress'), part(2, 'pending')])).toEqual({ status: 'in_progress', reason: null });
    expect(combineRefillParts([part(1, 'completed'), part(2, 'pending')])).toEqual({ status: 'in_progress', reason: null });
    expect(combineRefillParts([part(1, 'completed'), part(2, 'completed')])).toEqual({ status: 'completed', reason: null });
  });

  it('R-REFILL-SUPPORT: once no part is with the provider, the worst outcome wins (failed before rejected) and the reason names the runs not refilled', () => {
    expect(combineRefillParts([part(1, 'completed'), part(2, 'rejected', 'the provider rejected the refill')])).toEqual({
      status: 'rejected',
      reason: '1 of 2 run orders refilled; not refilled: run 2 (rejected: the provider rejected the refill)',
    });
    expect(combineRefillParts([part(1, 'rejected'), part(2, 'failed', 'no answer'), part(3, 'completed')])).toEqual({
      status: 'failed',
      reason: '1 of 3 run orders refilled; not refilled: run 1 (rejected); run 2 (failed: no answer)',
    });
    expect(combineRefillParts([part(1, 'failed'), part(2, 'pending')]).status).toBe('pending');
    expect(combineRefillParts([]).status).toBe('failed');
  });
});
