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
    const times = await fireTimes(new VirtualClock({ timeSkipping: true }), [3_600_000, 3_600_040, 3_600_900]);
    expect(new Set(times.map((t) => t.firedAt)).size).toBe(3);
    for (const t of times) expect(t.firedAt - t.due).toBeLessThan(20);
  });

  it('with 1 s of slack, timers due within 1 s of the first fire together at the last one; none fires early', async () => {
    const times = await fireTimes(new VirtualClock({ timeSkipping: true, slackMs: 1_000 }), [3_600_000, 3_600_040, 3_600_900, 3_602_500]);
    const instants = [...new Set(times.map((t) => t.firedAt))];
    expect(instants).toHaveLength(2); // the first three at one instant, the fourth (1.6 s later) at its own
    expect(times[0].firedAt).toBe(times[2].firedAt);
    for (const t of times) {
      expect(t.firedAt).toBeGreaterThanOrEqual(t.due);
      expect(t.firedAt - t.due).toBeLessThan(1_000 + 20);
    }
  });

  it('refuses a negative slack', () => {
    expect(() => new VirtualClock({ timeSkipping: true, slackMs: -1 })).toThrow('timer slack');
  });
});
