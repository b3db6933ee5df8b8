/**
 * The provider sync's wakes on the simulation's clock: one per provider per aligned window.
 *
 * The engine coalesces wakes over 1 s of real time (deps/coalesced-wake.ts); the simulation's worker
 * cannot (hours of simulated time pass within a real second, and a wake held back that long would
 * reach a sync that ended idle meanwhile), so it sent one `signalWithStart` per dispatch: a workflow
 * task on the sync for each of ~10,000 orders, where nothing came of all but the first of a window.
 * On the simulation's pacing (world.ts SYNC_POLICY: rounds every `alignMs` at its multiples, and
 * `wakeMinGapMs`, `minIntervalMs` and `maxIntervalMs` all equal to it) a delivered wake is followed
 * by a round at the end of its window at the latest (the sync is running: restarted by that wake, it
 * polled at once and saw an order to follow, so it cannot end before its next round), and a later
 * wake in the same window asks for that same round (wakeDelayMs from the last round + alignMs,
 * aligned as the sleep it cuts short). So the later wakes of a window are dropped, and which round
 * polls an order is unchanged. Any other pacing sends every wake.
 */
import type { WakeFn } from '../deps/coalesced-wake';

export interface SyncPacing {
  minIntervalMs: number;
  maxIntervalMs: number;
  wakeMinGapMs: number;
  alignMs: number;
}

/** The window a wake can share with others, or null when the pacing gives no such window. */
export function wakeWindowMs(pacing: SyncPacing): number | null {
  const { alignMs } = pacing;
  const fixed = alignMs > 0 && pacing.minIntervalMs === alignMs && pacing.maxIntervalMs === alignMs && pacing.wakeMinGapMs === alignMs;
  return fixed ? alignMs : null;
}

/**
 * `send` at most once per provider per window of `windowMs` of the clock `nowMs` reads (Temporal's,
 * from the calling activity); a failed send is not counted (the activity's retry sends again), and
 * a call with no clock to read (`nowMs` null) is sent.
 */
export function wakeOncePerWindow(send: WakeFn, windowMs: number, nowMs: () => number | null): WakeFn {
  const lastWindow = new Map<number, number>();
  return async (providerId) => {
    const now = nowMs();
    const window = now === null ? null : Math.floor(now / windowMs);
    if (window !== null && lastWindow.get(providerId) === window) return;
    await send(providerId);
    if (window !== null) lastWindow.set(providerId, window);
  };
}
