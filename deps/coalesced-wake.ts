/**
 * One wake per provider per window instead of one per dispatch.
 *
 * Every order that reaches a provider wakes that provider's sync workflow (a signalWithStart: an RPC,
 * a history event and usually an activation of the sync). In a burst of placements the sync answers
 * them all with one round anyway (its rounds are wakeMinGapMs apart), so the wakes after the first
 * only cost. Here the first wake of a window goes out at once (awaited, as before: a failure still
 * fails the caller, which retries); later ones within `windowMs` become a single trailing wake at the
 * window's end, so an order dispatched just after a round started still gets a round soon after.
 * A trailing wake that fails, or is lost with the process, costs latency only: the sync keeps polling
 * every order the database lists as active on its own interval.
 */
export type WakeFn = (providerId: number) => Promise<void>;

export function coalesceWakes(send: WakeFn, windowMs: number, onError: (providerId: number, error: unknown) => void = () => undefined): WakeFn {
  const lastSentAt = new Map<number, number>();
  const trailing = new Map<number, NodeJS.Timeout>();

  const sendTrailing = async (providerId: number) => {
    trailing.delete(providerId);
    lastSentAt.set(providerId, Date.now());
    await send(providerId).catch((error: unknown) => onError(providerId, error));
  };

  return async (providerId: number) => {
    const last = lastSentAt.get(providerId);
    const now = Date.now();
    if (last === undefined || now - last >= windowMs) {
      lastSentAt.set(providerId, now);
      try {
        await send(providerId);
      } catch (error) {
        lastSentAt.delete(providerId); // not sent: the caller's retry sends at once
        throw error;
      }
      return;
    }
    if (trailing.has(providerId)) return;
    const timer = setTimeout(() => void sendTrailing(providerId), last + windowMs - now);
    // A pending trailing wake does not keep the process alive (the sync polls on its own anyway).
    timer.unref();
    trailing.set(providerId, timer);
  };
}
