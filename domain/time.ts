/**
 * Time in the domain is epoch milliseconds passed in by the caller (workflows
 * use their deterministic clock); nothing here reads a clock. Days are fixed
 * 24-hour spans: the terms count durations, not calendar days, and epoch
 * milliseconds have no time zone or daylight-saving shifts.
 */
export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/** Throws unless `ms` is a usable instant: a finite whole number of milliseconds. */
export function assertInstant(name: string, ms: number): void {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) {
    throw new RangeError(`${name} must be epoch milliseconds (a safe integer), got ${String(ms)}`);
  }
}

/** Like assertInstant, but null/undefined (not happened yet) is allowed. */
export function assertOptionalInstant(name: string, ms: number | null | undefined): void {
  if (ms !== null && ms !== undefined) assertInstant(name, ms);
}

/** ISO-8601 text of an instant, for reasons shown to people. Pure: no clock is read. */
export function isoInstant(ms: number): string {
  return new Date(ms).toISOString();
}
