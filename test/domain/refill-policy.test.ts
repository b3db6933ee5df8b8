import fc from 'fast-check';
import {
  RefillInput, decideRefill, refillNeeded, refillShortfall, refillWindowClosesAt,
} from '../../domain/refill-policy';
import { ORDER_STATUSES } from '../../domain/order-status';

const H = 60 * 60 * 1000;
const D = 24 * H;
const placedAt = Date.UTC(2025, 4, 1, 10, 0, 0);
const base: RefillInput = {
  status: 'completed',
  guarantee: { kind: 'days', days: 30 },
  placedAt,
  completedAt: placedAt + 2 * D,
  lastRefillCompletedAt: null,
  refillInFlight: false,
  voided: false,
  now: placedAt + 10 * D,
};

describe('refillWindowClosesAt', () => {
  it('R-REFILL-WINDOW: a 30-day guarantee accepts requests until day 27 after the ORDER date (placedAt + 27 × 24h)', () => {
    expect(refillWindowClosesAt(placedAt, { kind: 'days', days: 30 })).toBe(placedAt + 27 * D);
    expect(refillWindowClosesAt(placedAt, { kind: 'days', days: 7 })).toBe(placedAt + 4 * D);
  });

  it('R-REFILL-WINDOW: a lifetime guarantee (and no guarantee) has no closing instant', () => {
    expect(refillWindowClosesAt(placedAt, { kind: 'lifetime' })).toBeNull();
    expect(refillWindowClosesAt(placedAt, { kind: 'none' })).toBeNull();
  });

  it('R-REFILL-WINDOW: refuses a guarantee that is not a positive whole number of days', () => {
    expect(() => refillWindowClosesAt(placedAt, { kind: 'days', days: 0 })).toThrow(/days/);
    expect(() => refillWindowClosesAt(placedAt, { kind: 'days', days: 2.5 })).toThrow(/days/);
  });
});

describe('decideRefill', () => {
  it('R-REFILL-STATUS: a completed order with a guarantee, in the window, after the cooldown, is accepted', () => {
    expect(decideRefill(base)).toEqual({ accepted: true });
  });

  it('R-REFILL-SERVICE: an order of a service without guarantee is refused', () => {
    expect(decideRefill({ ...base, guarantee: { kind: 'none' } })).toEqual({
      accepted: false, rule: 'R-REFILL-SERVICE', reason: 'this service has no refill guarantee',
    });
  });

  it('R-REFILL-STATUS: only a completed order can be refilled', () => {
    for (const status of ORDER_STATUSES.filter((s) => s !== 'completed')) {
      expect(decideRefill({ ...base, status })).toEqual({
        accepted: false, rule: 'R-REFILL-STATUS', reason: `only a completed order can be refilled (order is ${status})`,
      });
    }
  });

  it('R-REFILL-VOID: a voided guarantee is refused with that reason', () => {
    const d = decideRefill({ ...base, voided: true });
    expect(d).toMatchObject({ accepted: false, rule: 'R-REFILL-VOID' });
    if (!d.accepted) expect(d.reason).toMatch(/void.*another service/);
  });

  it('R-REFILL-WINDOW: accepted at exactly placedAt + 27 days, refused one millisecond later', () => {
    expect(decideRefill({ ...base, now: placedAt + 27 * D })).toEqual({ accepted: true });
    expect(decideRefill({ ...base, now: placedAt + 27 * D + 1 })).toEqual({
      accepted: false,
      rule: 'R-REFILL-WINDOW',
      reason: 'refill window closed at 2025-05-28T10:00:00.000Z (guarantee period minus 3 days from the order date)',
    });
  });

  it('R-REFILL-WINDOW: the window counts from the order date, not from completion', () => {
    // Completed late (day 20): day 28 is still within 30 days of completion, but past day 27 of the order.
    expect(decideRefill({ ...base, completedAt: placedAt + 20 * D, now: placedAt + 28 * D })).toMatchObject({
      accepted: false, rule: 'R-REFILL-WINDOW',
    });
  });

  it('R-REFILL-WINDOW: a lifetime guarantee accepts requests years later', () => {
    expect(decideRefill({ ...base, guarantee: { kind: 'lifetime' }, now: placedAt + 3 * 365 * D })).toEqual({ accepted: true });
  });

  it('R-REFILL-WINDOW: a guarantee of 3 days or less never accepts a request', () => {
    expect(decideRefill({ ...base, guarantee: { kind: 'days', days: 3 }, completedAt: placedAt + H, now: placedAt + 2 * D }))
      .toMatchObject({ accepted: false, rule: 'R-REFILL-WINDOW' });
  });

  it('R-REFILL-COOLDOWN: refused at exactly 24 hours after completion, accepted one millisecond later', () => {
    const completedAt = placedAt + 2 * D;
    expect(decideRefill({ ...base, completedAt, now: completedAt + 24 * H })).toEqual({
      accepted: false,
      rule: 'R-REFILL-COOLDOWN',
      reason: 'refill is possible more than 24 hours after the order completed (after 2025-05-04T10:00:00.000Z)',
    });
    expect(decideRefill({ ...base, completedAt, now: completedAt + 24 * H + 1 })).toEqual({ accepted: true });
  });

  it('R-REFILL-COOLDOWN: refused until more than 24 hours after the last refill completed', () => {
    const last = placedAt + 8 * D;
    const d = decideRefill({ ...base, lastRefillCompletedAt: last, now: last + 10 * H });
    expect(d).toMatchObject({ accepted: false, rule: 'R-REFILL-COOLDOWN' });
    if (!d.accepted) expect(d.reason).toMatch(/after the last refill completed/);
    expect(decideRefill({ ...base, lastRefillCompletedAt: last, now: last + 24 * H })).toMatchObject({ accepted: false });
    expect(decideRefill({ ...base, lastRefillCompletedAt: last, now: last + 24 * H + 1 })).toEqual({ accepted: true });
  });

  it('R-REFILL-COOLDOWN: a refill already in progress blocks a new request', () => {
    expect(decideRefill({ ...base, refillInFlight: true })).toEqual({
      accepted: false, rule: 'R-REFILL-COOLDOWN', reason: 'a refill is already in progress',
    });
  });

  it('R-REFILL-SERVICE, R-REFILL-WINDOW: permanent refusals win over ones that only need waiting (no guarantee beats cooldown, window beats in-flight)', () => {
    expect(decideRefill({ ...base, guarantee: { kind: 'none' }, status: 'in_progress' })).toMatchObject({ rule: 'R-REFILL-SERVICE' });
    expect(decideRefill({ ...base, refillInFlight: true, now: placedAt + 29 * D })).toMatchObject({ rule: 'R-REFILL-WINDOW' });
    expect(decideRefill({ ...base, voided: true, now: base.completedAt! + H })).toMatchObject({ rule: 'R-REFILL-VOID' });
  });

  it('R-REFILL-STATUS: a completed order without completedAt is a data error', () => {
    expect(() => decideRefill({ ...base, completedAt: null })).toThrow(/completedAt/);
  });

  it('R-REFILL-SERVICE/STATUS/VOID/WINDOW/COOLDOWN: accepted exactly when every condition holds (random inputs vs a restatement of the rules)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ORDER_STATUSES),
        fc.oneof(
          fc.constant({ kind: 'none' as const }), fc.constant({ kind: 'lifetime' as const }),
          fc.integer({ min: 1, max: 60 }).map((days) => ({ kind: 'days' as const, days })),
        ),
        fc.integer({ min: 0, max: 40 * D }), fc.option(fc.integer({ min: 0, max: 40 * D }), { nil: null }),
        fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 60 * D }),
        (status, guarantee, completedOffset, lastOffset, refillInFlight, voided, nowOffset) => {
          const completedAt = placedAt + completedOffset;
          const last = lastOffset === null ? null : completedAt + lastOffset;
          const now = completedAt + nowOffset;
          const d = decideRefill({ status, guarantee, placedAt, completedAt, lastRefillCompletedAt: last, refillInFlight, voided, now });
          const inWindow = guarantee.kind !== 'days' || now <= placedAt + (guarantee.days - 3) * D;
          const cooled = now - completedAt > D && (last === null || now - last > D);
          const expected = guarantee.kind !== 'none' && status === 'completed' && !voided && inWindow && !refillInFlight && cooled;
          expect(d.accepted).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('refillNeeded and refillShortfall', () => {
  it('R-REFILL-NEED: no refill while the count is at or above start + quantity', () => {
    expect(refillNeeded({ startCount: 500, quantity: 1000, currentCount: 1500 })).toBe(false);
    expect(refillNeeded({ startCount: 500, quantity: 1000, currentCount: 2000 })).toBe(false);
    expect(refillShortfall({ startCount: 500, quantity: 1000, currentCount: 1600 })).toBe(0);
  });

  it('R-REFILL-NEED: a refill is needed once the count drops below start + quantity', () => {
    expect(refillNeeded({ startCount: 500, quantity: 1000, currentCount: 1499 })).toBe(true);
    expect(refillShortfall({ startCount: 500, quantity: 1000, currentCount: 1200 })).toBe(300);
  });

  it('R-REFILL-NEED: restores at most the delivered quantity (start 500 + order 1000 guarantees 1000, not 1500)', () => {
    expect(refillShortfall({ startCount: 500, quantity: 1000, currentCount: 100 })).toBe(1000);
  });

  it('R-REFILL-NEED: refuses negative or fractional counts', () => {
    expect(() => refillNeeded({ startCount: -1, quantity: 10, currentCount: 5 })).toThrow(/startCount/);
    expect(() => refillShortfall({ startCount: 1, quantity: 10, currentCount: 5.5 })).toThrow(/currentCount/);
    expect(() => refillNeeded({ startCount: 1, quantity: 0, currentCount: 5 })).toThrow(/quantity/);
  });

  it('R-REFILL-NEED: the shortfall lies in [0, quantity] and is positive exactly when a refill is needed', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 100_000 }), fc.nat(2_000_000), (startCount, quantity, currentCount) => {
        const counts = { startCount, quantity, currentCount };
        const s = refillShortfall(counts);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(quantity);
        expect(s > 0).toBe(refillNeeded(counts));
      }),
    );
  });
});
