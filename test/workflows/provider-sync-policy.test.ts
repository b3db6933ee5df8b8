/** The provider sync's pacing rules (pure). */
import {
  alignedSleepMs,
  DEFAULT_PROVIDER_SYNC_POLICY,
  nextIdleSince,
  nextIntervalMs,
  resolvePolicy,
  shouldContinueAsNew,
  shouldEnd,
  wakeDelayMs,
  type RoundOutcome,
} from '../../workflows/provider-sync-policy';

const policy = resolvePolicy(undefined);
const round = (r: Partial<RoundOutcome>) => ({ ok: true as const, round: { checked: 10, changed: 0, firstChecks: 0, activeRemaining: 10, ...r } });

describe('adaptive interval', () => {
  it('is 15 s after a round with changes or new orders, whatever it was before', () => {
    expect(nextIntervalMs(300_000, round({ changed: 1 }), policy)).toBe(15_000);
    expect(nextIntervalMs(120_000, round({ firstChecks: 3 }), policy)).toBe(15_000);
  });

  it('doubles while nothing changes, up to 5 minutes', () => {
    const seen: number[] = [];
    let interval = 15_000;
    for (let i = 0; i < 7; i++) seen.push((interval = nextIntervalMs(interval, round({}), policy)));
    expect(seen).toEqual([30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
  });

  it('stays short while more orders wait than one round covers (backlog), so nobody waits for the growth', () => {
    expect(nextIntervalMs(60_000, round({ checked: 1000, activeRemaining: 4000 }), policy)).toBe(15_000);
  });

  it('is the longest with nothing to follow (a wake brings the next order in), and backs off after a failed round', () => {
    expect(nextIntervalMs(15_000, round({ checked: 0, activeRemaining: 0 }), policy)).toBe(300_000);
    expect(nextIntervalMs(15_000, { ok: false }, policy)).toBe(30_000);
    expect(nextIntervalMs(300_000, { ok: false }, policy)).toBe(300_000);
  });
});

describe('continue-as-new', () => {
  it('after roundsPerRun rounds, a history of maxHistoryEvents, or when the server suggests it', () => {
    const run = { roundsThisRun: 1, historyLength: 20, continueAsNewSuggested: false };
    expect(shouldContinueAsNew(run, policy)).toBe(false);
    expect(shouldContinueAsNew({ ...run, roundsThisRun: DEFAULT_PROVIDER_SYNC_POLICY.roundsPerRun }, policy)).toBe(true);
    expect(shouldContinueAsNew({ ...run, historyLength: 2_000 }, policy)).toBe(true);
    expect(shouldContinueAsNew({ ...run, continueAsNewSuggested: true }, policy)).toBe(true);
  });
});

describe('idle end and wake spacing', () => {
  it('ends after an hour with nothing to follow, unless a wake is pending', () => {
    const t0 = 1_000_000;
    const idle = round({ checked: 0, activeRemaining: 0 });
    const since = nextIdleSince(null, idle, t0);
    expect(since).toBe(t0);
    expect(nextIdleSince(since, idle, t0 + 5)).toBe(t0);
    expect(nextIdleSince(since, round({}), t0 + 5)).toBeNull();
    expect(nextIdleSince(since, { ok: false }, t0 + 5)).toBe(t0); // a failed round says nothing
    expect(shouldEnd(since, t0 + 59 * 60_000, false, policy)).toBe(false);
    expect(shouldEnd(since, t0 + 60 * 60_000, false, policy)).toBe(true);
    expect(shouldEnd(since, t0 + 60 * 60_000, true, policy)).toBe(false);
    expect(shouldEnd(null, t0 + 600 * 60_000, false, policy)).toBe(false);
  });

  it('a wake right after a round waits for the 5 s gap; later wakes start a round at once', () => {
    expect(wakeDelayMs(null, 50, policy)).toBe(0);
    expect(wakeDelayMs(1_000, 2_000, policy)).toBe(4_000);
    expect(wakeDelayMs(1_000, 9_000, policy)).toBe(0);
  });

  it('alignMs ends a sleep on the nearest multiple of it, never at once; syncs that polled apart then wake together; 0 leaves it', () => {
    expect(DEFAULT_PROVIDER_SYNC_POLICY.alignMs).toBe(0);
    expect(alignedSleepMs(1_234, 15_000, 0)).toBe(15_000);
    const hour = 3_600_000;
    expect(alignedSleepMs(12 * hour + 60_000, 2 * hour, 6 * hour)).toBe(6 * hour - 60_000); // 14:01 → nearest 12:00 is past: 18:00
    expect(alignedSleepMs(10 * hour + 60_000, 2 * hour, 6 * hour)).toBe(2 * hour - 60_000); // 12:01 → 12:00 (sooner)
    expect(alignedSleepMs(10 * hour, 7 * hour, 6 * hour)).toBe(8 * hour); // 17:00 → 18:00
    expect(alignedSleepMs(10 * hour, 10 * hour, 6 * hour)).toBe(8 * hour); // 20:00 → 18:00 (sooner)
    expect(alignedSleepMs(12 * hour, 6 * hour, 6 * hour)).toBe(6 * hour); // on a multiple already
    // Three syncs that finished their rounds minutes apart sleep until the same instant.
    const ends = [12 * hour + 5_000, 12 * hour + 60_000, 12 * hour + 7 * 60_000].map((now) => now + alignedSleepMs(now, 6 * hour, 6 * hour));
    expect(new Set(ends)).toEqual(new Set([18 * hour]));
  });

  it('refuses nonsense settings', () => {
    expect(() => resolvePolicy({ alignMs: -1 })).toThrow(RangeError);
    expect(() => resolvePolicy({ minIntervalMs: 0 })).toThrow(RangeError);
    expect(() => resolvePolicy({ minIntervalMs: 60_000, maxIntervalMs: 1_000 })).toThrow(RangeError);
    expect(() => resolvePolicy({ growthFactor: 0.5 })).toThrow(RangeError);
    expect(resolvePolicy({ maxOrders: 250.7 }).maxOrders).toBe(250);
  });
});
