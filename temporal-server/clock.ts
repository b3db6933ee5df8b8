/**
 * Virtual time, as Temporal's time-skipping test server keeps it.
 *
 * Time normally runs at wall-clock speed. While nothing holds the clock (no lock from a client,
 * no pending workflow task, no activity in flight), it jumps straight to the next timer. Locks are
 * counted: the SDK's test environment holds one lock from the start and releases it only while a
 * client awaits a workflow result or env.sleep(); the server itself takes one for every workflow
 * task and activity attempt in flight, so activity timeouts pass in real time.
 */
export type TimerCallback = () => void;

interface Timer {
  id: number;
  fireAt: number;
  callback: TimerCallback;
}

export class VirtualClock {
  private offsetMs = 0;
  private clientLocks: number;
  private readonly inFlight = new Map<string, number>();
  private timers: Timer[] = [];
  private nextTimerId = 1;
  private realTimeout: NodeJS.Timeout | undefined;
  private tickScheduled = false;
  private stopped = false;

  private readonly slackMs: number;

  /**
   * `slackMs` (default 0): a jump to the next timer goes on to the last timer due within that many
   * ms after it, so timers a few ms apart fire at one instant (late by at most the slack, never
   * early, as a real server's timer queue fires them late by its own latency). Each instant the
   * clock stops at costs a round of workflow tasks in real time; a simulation of months stops at
   * thousands of them, many only milliseconds apart (orders placed in one batch).
   */
  constructor(options: { timeSkipping: boolean; slackMs?: number }) {
    // Without time skipping the clock stays locked for good and runs in real time.
    this.clientLocks = options.timeSkipping ? 1 : Number.POSITIVE_INFINITY;
    this.slackMs = options.slackMs ?? 0;
    if (!(this.slackMs >= 0)) throw new Error('timer slack must be 0 or more ms');
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  isSkipping(): boolean {
    return this.clientLocks === 0 && this.inFlight.size === 0;
  }

  lockByClient(): void {
    this.clientLocks += 1;
  }

  unlockByClient(): void {
    if (this.clientLocks <= 0) throw new Error('unbalanced UnlockTimeSkipping: time skipping is already unlocked');
    this.clientLocks -= 1;
    this.scheduleTick();
  }

  /** Marks work in flight (a workflow task, an activity attempt) that time must not skip past. */
  hold(key: string): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const count = this.inFlight.get(key);
    if (count === undefined) return;
    if (count <= 1) this.inFlight.delete(key);
    else this.inFlight.set(key, count - 1);
    this.scheduleTick();
  }

  /** Calls back once virtual time reaches `fireAt`; returns a function that cancels the timer. */
  at(fireAt: number, callback: TimerCallback): () => void {
    const timer = { id: this.nextTimerId++, fireAt, callback };
    const index = this.timers.findIndex((t) => t.fireAt > fireAt);
    if (index === -1) this.timers.push(timer);
    else this.timers.splice(index, 0, timer);
    this.scheduleTick();
    return () => {
      this.timers = this.timers.filter((t) => t.id !== timer.id);
    };
  }

  after(delayMs: number, callback: TimerCallback): () => void {
    return this.at(this.now() + Math.max(0, delayMs), callback);
  }

  stop(): void {
    this.stopped = true;
    if (this.realTimeout) clearTimeout(this.realTimeout);
    this.timers = [];
  }

  private scheduleTick(): void {
    if (this.tickScheduled || this.stopped) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      this.tick();
    });
  }

  /** Fires due timers; skips ahead while nothing holds the clock; else waits in real time. */
  private tick(): void {
    if (this.stopped) return;
    if (this.realTimeout) {
      clearTimeout(this.realTimeout);
      this.realTimeout = undefined;
    }
    const next = this.timers[0];
    if (!next) return;
    const wait = next.fireAt - this.now();
    if (wait <= 0 || this.isSkipping()) {
      if (wait > 0) this.offsetMs += this.jumpTarget(next.fireAt) - this.now();
      this.timers.shift();
      next.callback();
      // Callbacks usually schedule work (which takes a hold) before the next tick runs.
      this.scheduleTick();
      return;
    }
    this.realTimeout = setTimeout(() => this.tick(), Math.min(wait, 2 ** 31 - 1));
  }

  /** Where a jump to `first` lands: the last timer due within the slack after it (timers are sorted). */
  private jumpTarget(first: number): number {
    let target = first;
    for (const t of this.timers) {
      if (t.fireAt > first + this.slackMs) break;
      target = t.fireAt;
    }
    return target;
  }
}
