import fc from 'fast-check';
import { START_WINDOW_MS, STALLED_AFTER_MS, isStalled, startWindowState } from '../../domain/start-window';

const H = 60 * 60 * 1000;
const D = 24 * H;
const placedAt = Date.UTC(2025, 0, 10, 12, 0, 0);

describe('startWindowState', () => {
  it('R-START-WINDOW: the window is 24 hours and stalling starts after 10 days', () => {
    expect(START_WINDOW_MS).toBe(24 * H);
    expect(STALLED_AFTER_MS).toBe(10 * D);
  });

  it('R-START-WINDOW: a just-placed order is simply pending; the next check is right after 24 hours', () => {
    expect(startWindowState({ placedAt, startedAt: null, now: placedAt })).toEqual({
      overdue: false, stalled: false, nextCheckAt: placedAt + 24 * H + 1,
    });
  });

  it('R-START-WINDOW: at exactly 24 hours the order is not yet overdue ("up to 24 hours")', () => {
    expect(startWindowState({ placedAt, startedAt: null, now: placedAt + 24 * H }).overdue).toBe(false);
  });

  it('R-START-WINDOW: one millisecond after 24 hours without a start the order is overdue', () => {
    expect(startWindowState({ placedAt, startedAt: null, now: placedAt + 24 * H + 1 })).toEqual({
      overdue: true, stalled: false, nextCheckAt: placedAt + 10 * D + 1,
    });
  });

  it('R-CANCEL-STALLED: at exactly 10 days the order is not stalled; one millisecond later it is, and nothing changes after', () => {
    expect(startWindowState({ placedAt, startedAt: null, now: placedAt + 10 * D }).stalled).toBe(false);
    expect(startWindowState({ placedAt, startedAt: null, now: placedAt + 10 * D + 1 })).toEqual({
      overdue: true, stalled: true, nextCheckAt: null,
    });
    expect(isStalled({ placedAt, startedAt: null, now: placedAt + 10 * D + 1 })).toBe(true);
  });

  it('R-START-WINDOW: a started order is neither overdue nor stalled, even if it started late', () => {
    const startedAt = placedAt + 30 * H;
    expect(startWindowState({ placedAt, startedAt, now: placedAt + 11 * D })).toEqual({
      overdue: false, stalled: false, nextCheckAt: null,
    });
  });

  it('R-START-WINDOW: a start recorded after `now` has not happened yet at `now`, and is the next change', () => {
    const startedAt = placedAt + 30 * H;
    expect(startWindowState({ placedAt, startedAt, now: placedAt + 25 * H })).toEqual({
      overdue: true, stalled: false, nextCheckAt: startedAt,
    });
  });

  it('R-START-WINDOW: a start recorded for a later instant within the window means the flags never change (no timer)', () => {
    expect(startWindowState({ placedAt, startedAt: placedAt + H, now: placedAt })).toEqual({
      overdue: false, stalled: false, nextCheckAt: null,
    });
    // Starting at the very first overdue millisecond also prevents the flag from ever showing.
    expect(startWindowState({ placedAt, startedAt: placedAt + 24 * H + 1, now: placedAt }).nextCheckAt).toBeNull();
  });

  it('R-START-WINDOW: refuses instants that are not whole milliseconds', () => {
    expect(() => startWindowState({ placedAt: NaN, startedAt: null, now: 0 })).toThrow(/placedAt/);
    expect(() => startWindowState({ placedAt, startedAt: 1.5, now: placedAt })).toThrow(/startedAt/);
    expect(() => startWindowState({ placedAt, startedAt: null, now: Infinity })).toThrow(/now/);
  });

  it('R-START-WINDOW: nextCheckAt is exactly the next instant at which the answer changes', () => {
    const state = (now: number, startedAt: number | null) => {
      const s = startWindowState({ placedAt, startedAt, now });
      return { overdue: s.overdue, stalled: s.stalled };
    };
    fc.assert(
      fc.property(
        fc.integer({ min: -D, max: 12 * D }),
        fc.option(fc.integer({ min: 0, max: 12 * D }), { nil: null }),
        (offset, startOffset) => {
          const now = placedAt + offset;
          const startedAt = startOffset === null ? null : placedAt + startOffset;
          const { nextCheckAt } = startWindowState({ placedAt, startedAt, now });
          if (nextCheckAt === null) {
            // Never changes again: same answer far in the future.
            expect(state(now + 100 * D, startedAt)).toEqual(state(now, startedAt));
            return;
          }
          expect(nextCheckAt).toBeGreaterThan(now);
          expect(state(nextCheckAt - 1, startedAt)).toEqual(state(now, startedAt));
          expect(state(nextCheckAt, startedAt)).not.toEqual(state(now, startedAt));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
