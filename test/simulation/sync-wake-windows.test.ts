// The simulation's worker sends the provider sync one wake per provider per aligned window of
// Temporal's clock (simulation/sync-wake-windows.ts). The property below is why that is safe: on
// the simulation's pacing, a later wake of a window asks for the very round the first one did.
import fc from 'fast-check';
import { wakeOncePerWindow, wakeWindowMs } from '../../simulation/sync-wake-windows';
import { SYNC_POLICY } from '../../simulation/world';
import { alignedSleepMs, resolvePolicy, wakeDelayMs } from '../../workflows/provider-sync-policy';

const HOUR = 3_600_000;

describe('the round a wake asks for, on the simulation pacing (SYNC_POLICY)', () => {
  const policy = resolvePolicy(SYNC_POLICY);
  const align = SYNC_POLICY.alignMs;
  /** What the sync does on a wake while sleeping: sleep until this instant, then poll. */
  const roundAfterWake = (lastRoundStartedMs: number, wakeAtMs: number) =>
    wakeAtMs + alignedSleepMs(wakeAtMs, wakeDelayMs(lastRoundStartedMs, wakeAtMs, policy), align);

  it('a second wake in the same window asks for the round the sync already sleeps until: dropping it changes no round', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 * align }),
        fc.integer({ min: 0, max: 1 }),
        fc.integer({ min: 0, max: align - 1 }),
        fc.integer({ min: 0, max: align - 1 }),
        (lastRound, laterWindow, a, b) => {
          // The sleep the round at lastRound ended with (rounds take no time on the held clock).
          const sleepingUntil = lastRound + alignedSleepMs(lastRound, policy.minIntervalMs, align);
          // The two wakes fall in the round's window or the next (the sleep ends within 9 h).
          const window = Math.floor(lastRound / align) + laterWindow;
          const first = Math.max(lastRound, window * align + Math.min(a, b));
          const second = Math.max(first, window * align + Math.max(a, b));
          fc.pre(first < sleepingUntil && second < sleepingUntil && Math.floor(second / align) === Math.floor(first / align));
          expect(roundAfterWake(lastRound, first)).toBe(sleepingUntil);
          expect(roundAfterWake(lastRound, second)).toBe(sleepingUntil);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('the window is the pacing period only when rounds, wakes and alignment share it', () => {
    expect(wakeWindowMs(SYNC_POLICY)).toBe(6 * HOUR);
    expect(wakeWindowMs({ ...SYNC_POLICY, wakeMinGapMs: HOUR })).toBeNull();
    expect(wakeWindowMs({ ...SYNC_POLICY, minIntervalMs: HOUR })).toBeNull();
    expect(wakeWindowMs({ ...SYNC_POLICY, alignMs: 0 })).toBeNull();
  });
});

describe('wakeOncePerWindow', () => {
  function recorder() {
    const sent: number[] = [];
    return { sent, send: async (providerId: number) => void sent.push(providerId) };
  }

  it('sends the first wake of each provider in a window and drops the rest of that window', async () => {
    const { sent, send } = recorder();
    let now = 6 * HOUR;
    const wake = wakeOncePerWindow(send, 6 * HOUR, () => now);
    await wake(1);
    await wake(2);
    now += 5 * HOUR;
    await wake(1);
    await wake(2);
    expect(sent).toEqual([1, 2]);
    now = 12 * HOUR; // the next window
    await wake(1);
    expect(sent).toEqual([1, 2, 1]);
  });

  it('a wake that failed is not counted: the next one (the activity retry) is sent', async () => {
    const sent: number[] = [];
    let fail = true;
    const wake = wakeOncePerWindow(
      async (providerId) => {
        if (fail) throw new Error('unavailable');
        sent.push(providerId);
      },
      6 * HOUR,
      () => 0,
    );
    await expect(wake(1)).rejects.toThrow('unavailable');
    fail = false;
    await wake(1);
    await wake(1);
    expect(sent).toEqual([1]);
  });

  it('with no clock to read (a local activity, or outside an activity) every wake is sent', async () => {
    const { sent, send } = recorder();
    const wake = wakeOncePerWindow(send, 6 * HOUR, () => null);
    await wake(1);
    await wake(1);
    expect(sent).toEqual([1, 1]);
  });
});
