// The in-memory server's time-skipping clock (temporal-server/clock.ts): the timer slack the
// simulation uses to fire timers a few ms apart at one instant, late by at most the slack, never early.
import { VirtualClock } from '../../temporal-server/clock';

/** Arms timers at the given offsets from now, lets the clock skip to all of them, and says when each fired. */
async function fireTimes(clock: VirtualClock, offsetsMs: number[]): Promise<Array<{ due: number; firedAt: number }>> {
  const start = clock.now();
  const fired = offsetsMs.map((offset) => new Promise<{ due: number; firedAt: number }>((resolve) => clock.at(start + offset, () => resolve({ due: start + offset, firedAt: clock.now() }))));
  clock.unlockByClient(); // nothing holds the clock: it jumps from timer to timer
  const times = await Promise.all(fired);
  clock.stop();
  return times;
}

describe('VirtualClock timer slack', () => {
  it('without slack each timer fires at its own instant (as the official test server does)', async () => {
    const times = await fireTimes(new VirtualClock({ timeSkipping: true }), [3_600_000, 3_600_400, 3_600_900]);
    // Each fires when the clock reaches its own time, not at a later one's (the clock also runs in
    // real time: a busy machine may add a few ms between callbacks, never 400).
    for (const t of times) {
      expect(t.firedAt).toBeGreaterThanOrEqual(t.due);
      expect(t.firedAt - t.due).toBeLessThan(200);
    }
  });

  it('with 1 s of slack, timers due within 1 s of the first fire together at the last one; none fires early', async () => {
    const times = await fireTimes(new VirtualClock({ timeSkipping: true, slackMs: 1_000 }), [3_600_000, 3_600_040, 3_600_900, 3_602_500]);
    // The clock also runs in real time, so callbacks of one instant read it a millisecond or two apart.
    // The first timer fires only once the clock jumped to the third's time (900 ms after its own due)...
    expect(times[0].firedAt).toBeGreaterThanOrEqual(times[2].due);
    expect(times[2].firedAt - times[0].firedAt).toBeLessThan(200);
    // ...and the fourth, 1.6 s after the third, at its own instant.
    expect(times[3].firedAt - times[2].firedAt).toBeGreaterThanOrEqual(1_500);
    for (const t of times) {
      expect(t.firedAt).toBeGreaterThanOrEqual(t.due);
      expect(t.firedAt - t.due).toBeLessThan(1_000 + 200);
    }
  });

  it('refuses a negative slack', () => {
    expect(() => new VirtualClock({ timeSkipping: true, slackMs: -1 })).toThrow('timer slack');
  });
});
