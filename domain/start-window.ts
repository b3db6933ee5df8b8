import { DAY_MS, HOUR_MS, assertInstant, assertOptionalInstant } from './time';

/**
 * How long an order may wait for the provider to start.
 *
 * R-START-WINDOW: a provider may take UP TO 24 hours; only AFTER that is an unstarted
 * order overdue. R-CANCEL-STALLED: not started for MORE THAN 10 days -> stalled (a
 * cancel becomes possible even on services without cancellation).
 * Both thresholds are strict: at exactly placedAt + 24h the order is not yet overdue;
 * one millisecond later it is. Same for 10 days.
 */
export const START_WINDOW_MS = 24 * HOUR_MS;
export const STALLED_AFTER_MS = 10 * DAY_MS;

export interface StartWindowInput {
  placedAt: number;
  /** When the provider started the order; null while it has not. */
  startedAt: number | null;
  now: number;
}

export interface StartWindowState {
  overdue: boolean;
  stalled: boolean;
  /** The next instant at which overdue or stalled changes (a timer for the workflow), or null if never. */
  nextCheckAt: number | null;
}

/** Whether the order has started by `now` (a start recorded after `now` has not happened yet). */
function hasStarted(startedAt: number | null, now: number): boolean {
  return startedAt !== null && startedAt <= now;
}

/** R-CANCEL-STALLED: not started and more than 10 days since placement. */
export function isStalled(input: StartWindowInput): boolean {
  return startWindowState(input).stalled;
}

/** The flags at instant `t` (strict thresholds: true from threshold + 1 ms). */
function flagsAt(placedAt: number, startedAt: number | null, t: number): { overdue: boolean; stalled: boolean } {
  if (hasStarted(startedAt, t)) return { overdue: false, stalled: false };
  return { overdue: t > placedAt + START_WINDOW_MS, stalled: t > placedAt + STALLED_AFTER_MS };
}

/**
 * R-START-WINDOW / R-CANCEL-STALLED at `now`. Once the order has started both flags are
 * off and stay off (a late start ends the waiting). nextCheckAt is the first later
 * instant whose answer differs: the flags can only change at one of the two thresholds
 * or at a start recorded for a later instant, so those are the only candidates.
 */
export function startWindowState({ placedAt, startedAt, now }: StartWindowInput): StartWindowState {
  assertInstant('placedAt', placedAt);
  assertOptionalInstant('startedAt', startedAt);
  assertInstant('now', now);
  const current = flagsAt(placedAt, startedAt, now);
  const candidates = [placedAt + START_WINDOW_MS + 1, placedAt + STALLED_AFTER_MS + 1, startedAt ?? now]
    .filter((t) => t > now)
    .sort((a, b) => a - b);
  const nextCheckAt = candidates.find((t) => {
    const at = flagsAt(placedAt, startedAt, t);
    return at.overdue !== current.overdue || at.stalled !== current.stalled;
  });
  return { ...current, nextCheckAt: nextCheckAt ?? null };
}
