import {
  ACTIVE_STATUSES, FINAL_STATUSES, NO_FLAGS, ORDER_STATUSES, OrderStatus, canTransition, isActive, isFinal,
} from '../../domain/order-status';

describe('order statuses', () => {
  it('R-ONE-ACTIVE-PER-LINK: active and final statuses split all statuses with no overlap', () => {
    expect([...ACTIVE_STATUSES, ...FINAL_STATUSES].sort()).toEqual([...ORDER_STATUSES].sort());
    expect(ACTIVE_STATUSES.filter((s) => FINAL_STATUSES.includes(s))).toEqual([]);
  });

  it('R-ONE-ACTIVE-PER-LINK: new, pending, dispatch_uncertain and in_progress hold the link', () => {
    for (const s of ['new', 'pending', 'dispatch_uncertain', 'in_progress'] as OrderStatus[]) {
      expect(isActive(s)).toBe(true);
      expect(isFinal(s)).toBe(false);
    }
  });

  it('R-ONE-ACTIVE-PER-LINK: completed, partial, canceled and rejected release the link and are final', () => {
    for (const s of ['completed', 'partial', 'canceled', 'rejected'] as OrderStatus[]) {
      expect(isFinal(s)).toBe(true);
      expect(isActive(s)).toBe(false);
    }
  });

  it('STATUS: nothing leaves a final status (completed, partial, canceled, rejected)', () => {
    for (const from of FINAL_STATUSES) for (const to of ORDER_STATUSES) expect(canTransition(from, to)).toBe(false);
  });

  it.each([
    ['new', 'pending'],
    ['new', 'rejected'],
    ['pending', 'in_progress'],
    ['in_progress', 'completed'],
    ['in_progress', 'partial'],
    ['in_progress', 'canceled'],
    ['pending', 'dispatch_uncertain'],
    ['dispatch_uncertain', 'pending'],
    ['dispatch_uncertain', 'in_progress'],
    ['dispatch_uncertain', 'canceled'],
    ['pending', 'completed'],
    ['pending', 'canceled'],
  ] as [OrderStatus, OrderStatus][])('STATUS: %s -> %s is an allowed forward move', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it('R-SUBSTITUTE: in_progress -> pending is allowed (a move sends the rest to a provider that has not started)', () => {
    expect(canTransition('in_progress', 'pending')).toBe(true);
  });

  it('an engine drip-feed: in_progress -> dispatch_uncertain is allowed (its next run was sent with an unknown outcome)', () => {
    expect(canTransition('in_progress', 'dispatch_uncertain')).toBe(true);
  });

  it.each([
    ['pending', 'new'],
    ['pending', 'rejected'],
    ['in_progress', 'rejected'],
    ['new', 'in_progress'],
    ['new', 'canceled'],
    ['new', 'completed'],
    ['pending', 'pending'],
  ] as [OrderStatus, OrderStatus][])('STATUS: %s -> %s is refused (backward, skipped payment, or no move)', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('STATUS: every allowed move goes forward but a move (in_progress -> pending) and a drip-feed\'s next uncertain run (in_progress -> dispatch_uncertain); otherwise the only two-way pair is pending <-> dispatch_uncertain', () => {
    const rank: Record<OrderStatus, number> = {
      new: 0, pending: 1, dispatch_uncertain: 1, in_progress: 2, completed: 3, partial: 3, canceled: 3, rejected: 3,
    };
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        if (!canTransition(from, to)) continue;
        if (from === 'in_progress' && to === 'pending') continue; // R-SUBSTITUTE
        if (from === 'in_progress' && to === 'dispatch_uncertain') continue; // a drip-feed's next run
        expect(rank[to]).toBeGreaterThanOrEqual(rank[from]);
        if (rank[to] === rank[from]) expect([from, to].sort()).toEqual(['dispatch_uncertain', 'pending']);
      }
    }
  });

  it('STATUS: an order starts with no flags set', () => {
    expect(NO_FLAGS).toEqual({ overdue: false, stalled: false, cancelRequested: false, refillFailed: false });
    expect(Object.isFrozen(NO_FLAGS)).toBe(true);
  });
});
