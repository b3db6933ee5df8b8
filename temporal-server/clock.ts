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
  /** How late it may fire (ms): a jump that takes it along lands no later than fireAt + this. */
  toleranceMs: number;
  callback: TimerCallback;
}

/**
 * How late a timer the server keeps for a workflow (its own StartTimer, and its activities' retry
 * backoffs) may fire on a skipped clock: `fraction` of its length, at most `maxMs` (and never less
 * than the clock's slack). A timer of 30 days may fire hours late, one of a second only by the slack.
 * Temporal promises a timer never fires early; how late it fires depends on the server's load, so a
 * workflow that is right cannot depend on it.
 */
export interface WorkflowTimerSlack {
  fraction: number;
  maxMs: number;
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
  private readonly workflowTimerSlack: WorkflowTimerSlack;

  /**
   * `slackMs` (default 0): every timer may fire that many ms late, so a jump to the next timer goes
   * on to the last timer due within that many ms after it, and timers a few ms apart fire at one
   * instant (late by at most the slack, never early, as a real server's timer queue fires them late
   * by its own latency). Each instant the clock stops at costs a round of workflow tasks in real
   * time; a simulation of months stops at thousands of them, many only milliseconds apart (orders
   * placed in one batch).
   * `workflowTimerSlack` (default none): workflows' own timers and their activities' retry backoffs
   * may fire later, in proportion to their length (workflowTimerToleranceMs). A jump never takes a
   * timer later than its own tolerance, so a client's env.sleep (the clock's slack only) bounds every
   * jump that passes it.
   */
  constructor(options: { timeSkipping: boolean; slackMs?: number; workflowTimerSlack?: WorkflowTimerSlack }) {
    // Without time skipping the clock stays locked for good and runs in real time.
    this.clientLocks = options.timeSkipping ? 1 : Number.POSITIVE_INFINITY;
    this.slackMs = options.slackMs ?? 0;
    if (!(this.slackMs >= 0)) throw new Error('timer slack must be 0 or more ms');
    this.workflowTimerSlack = options.workflowTimerSlack ?? { fraction: 0, maxMs: 0 };
    const { fraction, maxMs } = this.workflowTimerSlack;
    if (!(fraction >= 0 && fraction <= 1 && maxMs >= 0)) throw new Error('workflow timer slack: fraction must be 0..1 and maxMs 0 or more');
  }

  /** How late a workflow's timer of `durationMs` may fire: a share of its length, capped, at least the slack. */
  workflowTimerToleranceMs(durationMs: number): number {
    const { fraction, maxMs } = this.workflowTimerSlack;
    return Math.max(this.slackMs, Math.min(maxMs, Math.floor(durationMs * fraction)));
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

  /**
   * Calls back once virtual time reaches `fireAt`, on a jump no later than `fireAt + toleranceMs`
   * (default: the clock's slack); returns a function that cancels the timer.
   */
  at(fireAt: number, callback: TimerCallback, toleranceMs = this.slackMs): () => void {
    const timer = { id: this.nextTimerId++, fireAt, toleranceMs: Math.max(0, toleranceMs), callback };
    const index = this.timers.findIndex((t) => t.fireAt > fireAt);
    if (index === -1) this.timers.push(timer);
    else this.timers.splice(index, 0, timer);
    this.scheduleTick();
    return () => {
      this.timers = this.timers.filter((t) => t.id !== timer.id);
    };
  }

  after(delayMs: number, callback: TimerCallback, toleranceMs?: number): () => void {
    return this.at(this.now() + Math.max(0, delayMs), callback, toleranceMs);
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
      if (wait > 0) this.offsetMs += this.jumpTarget() - this.now();
      this.timers.shift();
      next.callback();
      // Callbacks usually schedule work (which takes a hold) before the next tick runs.
      this.scheduleTick();
      return;
    }
    this.realTimeout = setTimeout(() => this.tick(), Math.min(wait, 2 ** 31 - 1));
  }

  /**
   * Where a jump lands: the last timer that every timer before it may wait for (each no later than
   * its fireAt + toleranceMs). Timers are sorted by fireAt, the first is the next due.
   */
  private jumpTarget(): number {
    let target = this.timers[0].fireAt;
    let latest = Number.POSITIVE_INFINITY;
    for (const t of this.timers) {
      if (t.fireAt > latest) break;
      target = t.fireAt;
      latest = Math.min(latest, t.fireAt + t.toleranceMs);
    }
    return target;
  }
}
