/**
 * Heartbeats of the order's activities, so that a worker that dies mid-activity is noticed at the
 * activity's heartbeat timeout (10 s, workflows/order-activity-options.ts) instead of at its
 * start-to-close timeout (30 s to a minute): the order's next attempt runs on another worker that
 * much sooner (a dispatch of an order placed just before a crash, a user's cancel or refill).
 * Only an activity that runs longer than one interval sends a heartbeat, so the usual call of a few
 * milliseconds costs nothing; a local activity, or one scheduled without a heartbeat timeout (an
 * older history's), sends none.
 */
import { activityContext } from './activity-context';

/** Below the 10 s heartbeat timeout, with the SDK's throttle (80 % of that timeout) on top. */
export const HEARTBEAT_EVERY_MS = 3_000;

type AsyncFn = (...args: never[]) => Promise<unknown>;

export function heartbeatWhileRunning<F extends AsyncFn>(fn: F, everyMs = HEARTBEAT_EVERY_MS): F {
  const wrapped = async (...args: Parameters<F>) => {
    const ctx = activityContext(); // null outside an activity (a test, a script): nothing to heartbeat
    if (!ctx || ctx.info.isLocal || !ctx.info.heartbeatTimeoutMs) return fn(...args);
    const timer = setInterval(() => ctx.heartbeat(), everyMs);
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
  return wrapped as F;
}

/** Every function of `activities`, heartbeating while it runs. */
export function heartbeatingAll<T extends Record<string, AsyncFn>>(activities: T, everyMs = HEARTBEAT_EVERY_MS): T {
  return Object.fromEntries(Object.entries(activities).map(([name, fn]) => [name, heartbeatWhileRunning(fn, everyMs)])) as T;
}
