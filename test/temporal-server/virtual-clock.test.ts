// The in-memory server's time-skipping clock (temporal-server/clock.ts): the timer slack the
// simulation uses to fire timers a few ms apart at one instant, late by at most the slack, never early,
// and the workflow timers' slack in proportion to their length.
import { VirtualClock } from '../../temporal-server/clock';

/** Arms timers at the given offsets from now, lets the clock skip to all of them, and says when each fired. */
async function fireTimes(clock: VirtualClock, offsetsMs: number[], toleranceMs: Array<number | undefined> = []): Promise<Array<{ due: number; firedAt: number }>> {
  const start = clock.now();
  const fired = offsetsMs.map(
    (offset, i) => new Promise<{ due: number; firedAt: number }>((resolve) => clock.at(start + offset, () => resolve({ due: start + offset, firedAt: clock.now() }), toleranceMs[i])),
  );
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

describe('VirtualClock workflow timer slack', () => {
  const HOUR = 3_600_000;
  const slack = { fraction: 0.1, maxMs: 6 * HOUR };

  it("a workflow timer's tolerance is its length's share, capped, and never under the clock's slack", () => {
    const clock = new VirtualClock({ timeSkipping: true, slackMs: 1_000, workflowTimerSlack: slack });
    expect(clock.workflowTimerToleranceMs(10 * HOUR)).toBe(HOUR);
    expect(clock.workflowTimerToleranceMs(30 * 24 * HOUR)).toBe(6 * HOUR);
    expect(clock.workflowTimerToleranceMs(5_000)).toBe(1_000);
    expect(new VirtualClock({ timeSkipping: true, slackMs: 1_000 }).workflowTimerToleranceMs(30 * 24 * HOUR)).toBe(1_000);
  });

  it('a timer fires with later ones within its tolerance, at the last of them, never early; one past it fires at its own instant', async () => {
    // Due at 10 h (1 h of tolerance), 10.5 h and 10.9 h (within it), 11.5 h (past it).
    const times = await fireTimes(new VirtualClock({ timeSkipping: true }), [10 * HOUR, 10.5 * HOUR, 10.9 * HOUR, 11.5 * HOUR], [HOUR, HOUR, HOUR, HOUR]);
    for (const t of times.slice(0, 3)) expect(t.firedAt - times[2].due).toBeLessThan(200);
    expect(times[3].firedAt - times[2].firedAt).toBeGreaterThanOrEqual(0.6 * HOUR - 200);
    for (const t of times) expect(t.firedAt).toBeGreaterThanOrEqual(t.due);
  });

  it("a timer of little tolerance (a client's sleep) bounds the jump: nothing before it waits past it", async () => {
    // A long timer due at 10 h could wait to 11 h, but a sleep due at 10.2 h may not wait at all:
    // both fire at 10.2 h, and the timer due at 10.4 h at its own instant.
    const times = await fireTimes(new VirtualClock({ timeSkipping: true }), [10 * HOUR, 10.2 * HOUR, 10.4 * HOUR], [HOUR, 0, HOUR]);
    expect(times[0].firedAt - times[1].due).toBeLessThan(200);
    expect(times[1].firedAt - times[1].due).toBeLessThan(200);
    expect(times[2].firedAt - times[1].firedAt).toBeGreaterThanOrEqual(0.2 * HOUR - 200);
    expect(times[2].firedAt - times[2].due).toBeLessThan(200);
  });

  it('refuses a share outside 0..1 or a negative cap', () => {
    expect(() => new VirtualClock({ timeSkipping: true, workflowTimerSlack: { fraction: 1.5, maxMs: 0 } })).toThrow('workflow timer slack');
    expect(() => new VirtualClock({ timeSkipping: true, workflowTimerSlack: { fraction: 0.1, maxMs: -1 } })).toThrow('workflow timer slack');
  });
});
