import fc from 'fast-check';
import { ORDER_STATUSES } from '../../domain/order-status';
import { decideSubstitute, fitsTarget, unmovableReason } from '../../domain/substitute';
import type { SubstituteInput, SubstituteService } from '../../domain/substitute';

const current: SubstituteService = {
  id: 1, category: 'Instagram followers', type: 'default', active: true, min: 50, max: 10_000, guarantee: { kind: 'days', days: 30 },
};
const similar: SubstituteService = { ...current, id: 7 };
const input = (extra: Partial<SubstituteInput> = {}): SubstituteInput => ({
  status: 'in_progress',
  current,
  target: similar,
  guarantee: { kind: 'days', days: 30 },
  undelivered: 400,
  ...extra,
});

describe('decideSubstitute (R-SUBSTITUTE)', () => {
  it('R-SUBSTITUTE: a pending or in-progress order may move to an active service of the same category and type', () => {
    expect(decideSubstitute(input())).toEqual({ allowed: true });
    expect(decideSubstitute(input({ status: 'pending' }))).toEqual({ allowed: true });
  });

  it('R-SUBSTITUTE: only pending and in_progress orders can move; the others say why', () => {
    for (const status of ORDER_STATUSES) {
      const movable = status === 'pending' || status === 'in_progress';
      expect(unmovableReason(status) === null).toBe(movable);
      expect(decideSubstitute(input({ status })).allowed).toBe(movable);
    }
    expect(unmovableReason('dispatch_uncertain')).toBe("the order's dispatch is uncertain: resolve it first");
    expect(unmovableReason('completed')).toBe('the order is completed: only an order that has not finished can be moved');
  });

  it.each([
    ['the same service', { id: 1 }, 'the order is already on this service'],
    ['an inactive service', { active: false }, 'service 7 is not active'],
    ['another category', { category: 'Instagram likes' }, 'service 7 is not similar: category/type "Instagram likes"/"default", the order\'s is "Instagram followers"/"default"'],
    ['another type', { type: 'package' }, 'service 7 is not similar: category/type "Instagram followers"/"package", the order\'s is "Instagram followers"/"default"'],
    ['a shorter guarantee', { guarantee: { kind: 'days', days: 7 } }, 'service 7 guarantees less than the order was sold with'],
    ['no guarantee', { guarantee: { kind: 'none' } }, 'service 7 guarantees less than the order was sold with'],
    ['bounds the rest does not fit', { min: 500 }, "the undelivered 400 is outside service 7's 500..10000"],
  ] as Array<[string, Partial<SubstituteService>, string]>)('R-SUBSTITUTE: refused onto %s', (_, change, reason) => {
    expect(decideSubstitute(input({ target: { ...similar, ...change } }))).toEqual({ allowed: false, rule: 'R-SUBSTITUTE', reason });
  });

  it('R-SUBSTITUTE: a longer or lifetime guarantee is fine; an order without one may go anywhere similar', () => {
    expect(decideSubstitute(input({ target: { ...similar, guarantee: { kind: 'lifetime' } } }))).toEqual({ allowed: true });
    expect(decideSubstitute(input({ target: { ...similar, guarantee: { kind: 'days', days: 60 } } }))).toEqual({ allowed: true });
    expect(decideSubstitute(input({ guarantee: { kind: 'none' }, target: { ...similar, guarantee: { kind: 'none' } } }))).toEqual({ allowed: true });
    expect(decideSubstitute(input({ guarantee: { kind: 'lifetime' }, target: { ...similar, guarantee: { kind: 'days', days: 3650 } } })).allowed).toBe(false);
  });

  it('R-SUBSTITUTE: fitsTarget is min..max inclusive (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2000 }), (min, span, n) => {
        const target = { min, max: min + span };
        expect(fitsTarget(n, target)).toBe(n >= target.min && n <= target.max);
      }),
    );
  });
});
