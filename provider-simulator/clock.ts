/** The simulator reads time only through a Clock, so tests can drive it with a virtual one. */
export type Clock = () => number;

export interface VirtualClock {
  /** Pass this as the simulator's `clock`. */
  now: Clock;
  advance(ms: number): number;
  set(epochMs: number): void;
}

/** A clock that moves only when told to. Starts at a fixed, readable instant by default. */
export function createVirtualClock(startMs = Date.UTC(2025, 0, 1, 12, 0, 0)): VirtualClock {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
      return t;
    },
    set(epochMs: number) {
      t = epochMs;
    },
  };
}
