/**
 * The provider sync's pacing decisions, as pure functions (no I/O, no clock): how long to sleep after
 * a polling round, when to start a new run (continue-as-new), and when an idle sync may end.
 * Imported by workflow code, so it must stay deterministic and sandbox-safe.
 */

export interface ProviderSyncPolicy {
  /** Orders polled per round, oldest check first (10 status calls of 100 ids). */
  maxOrders: number;
  /** Sleep after a round that saw changes, new orders, or a backlog. */
  minIntervalMs: number;
  /** The longest sleep, reached when nothing changes for a while. */
  maxIntervalMs: number;
  /** Each quiet round multiplies the sleep by this. */
  growthFactor: number;
  /** A 'wake' cuts the sleep short, but rounds never start closer than this (bursts of wakes make one round). */
  wakeMinGapMs: number;
  /** Continue-as-new after this many rounds in one run. */
  roundsPerRun: number;
  /** ...or once the run's history holds this many events (wake signals add events too). */
  maxHistoryEvents: number;
  /** End the workflow when the provider has had no order to follow for this long (a 'wake' restarts it). */
  idleEndMs: number;
  /**
   * Rounds start on whole multiples of this (epoch ms, workflow time): a sleep ends at the multiple
   * nearest to where it would have ended (so up to alignMs/2 sooner or later, never at once). The
   * syncs of several providers then poll at the same instants. 0: no rounding. On a skipped clock
   * (the simulation) each distinct instant is a step the whole engine waits through, so three
   * providers polling at one instant cost one step instead of three.
   */
  alignMs: number;
}

export const DEFAULT_PROVIDER_SYNC_POLICY: Readonly<ProviderSyncPolicy> = Object.freeze({
  maxOrders: 1000,
  minIntervalMs: 15_000,
  maxIntervalMs: 5 * 60_000,
  growthFactor: 2,
  wakeMinGapMs: 5_000,
  // ~11 history events per round (activity 3, timer 2, two workflow tasks 6): ~1,100 events per run.
  roundsPerRun: 100,
  maxHistoryEvents: 2_000,
  idleEndMs: 60 * 60_000,
  alignMs: 0,
});

export function resolvePolicy(overrides: Partial<ProviderSyncPolicy> | undefined): ProviderSyncPolicy {
  const p: ProviderSyncPolicy = { ...DEFAULT_PROVIDER_SYNC_POLICY, ...(overrides ?? {}) };
  const positive = (name: keyof ProviderSyncPolicy) => {
    if (!(Number.isFinite(p[name]) && p[name] > 0)) throw new RangeError(`provider sync policy: ${name} must be > 0, got ${p[name]}`);
  };
  (['maxOrders', 'minIntervalMs', 'maxIntervalMs', 'roundsPerRun', 'maxHistoryEvents', 'idleEndMs'] as const).forEach(positive);
  if (!(p.growthFactor >= 1)) throw new RangeError(`provider sync policy: growthFactor must be >= 1, got ${p.growthFactor}`);
  if (!(Number.isFinite(p.alignMs) && p.alignMs >= 0)) throw new RangeError(`provider sync policy: alignMs must be >= 0, got ${p.alignMs}`);
  if (!(p.wakeMinGapMs >= 0)) throw new RangeError(`provider sync policy: wakeMinGapMs must be >= 0, got ${p.wakeMinGapMs}`);
  if (p.maxIntervalMs < p.minIntervalMs) throw new RangeError('provider sync policy: maxIntervalMs < minIntervalMs');
  p.maxOrders = Math.floor(p.maxOrders);
  p.roundsPerRun = Math.floor(p.roundsPerRun);
  return p;
}

/** What a round tells the pacing (a subset of the activity's result). */
export interface RoundOutcome {
  /** Orders asked about this round. */
  checked: number;
  /** Orders whose status changed or whose start count first appeared. */
  changed: number;
  /** Orders asked about for the first time (new orders). */
  firstChecks: number;
  /** Orders still to follow after the round (active, with a provider order id, not final upstream). */
  activeRemaining: number;
}

export type RoundResultForPolicy = { ok: true; round: RoundOutcome } | { ok: false };

/**
 * The sleep after a round:
 * - something changed, a new order was seen, or more orders are waiting than one round covers
 *   (backlog: the rest of the queue must not wait for the interval to grow) → minIntervalMs;
 * - nothing to follow at all → maxIntervalMs (a 'wake' brings the next order in at once);
 * - a quiet round, or a failed one (the provider is down: back off) → previous × growthFactor,
 *   capped at maxIntervalMs.
 */
export function nextIntervalMs(previousMs: number, result: RoundResultForPolicy, policy: ProviderSyncPolicy): number {
  const grow = () => Math.min(policy.maxIntervalMs, Math.max(policy.minIntervalMs, Math.round(previousMs * policy.growthFactor)));
  if (!result.ok) return grow();
  const r = result.round;
  if (r.changed > 0 || r.firstChecks > 0) return policy.minIntervalMs;
  if (r.activeRemaining > r.checked) return policy.minIntervalMs;
  if (r.activeRemaining === 0) return policy.maxIntervalMs;
  return grow();
}

/** Whether the run should continue-as-new now (between rounds), keeping its history bounded. */
export function shouldContinueAsNew(
  run: { roundsThisRun: number; historyLength: number; continueAsNewSuggested: boolean },
  policy: ProviderSyncPolicy,
): boolean {
  return run.continueAsNewSuggested || run.roundsThisRun >= policy.roundsPerRun || run.historyLength >= policy.maxHistoryEvents;
}

/**
 * When the provider first had nothing to follow (epoch ms), or null when it has orders: carried from
 * round to round and across runs.
 */
export function nextIdleSince(previous: number | null, result: RoundResultForPolicy, nowMs: number): number | null {
  if (!result.ok) return previous;
  if (result.round.activeRemaining > 0) return null;
  return previous ?? nowMs;
}

/** An idle sync ends once it has had nothing to follow for idleEndMs and no 'wake' is pending. */
export function shouldEnd(idleSinceMs: number | null, nowMs: number, wakePending: boolean, policy: ProviderSyncPolicy): boolean {
  return !wakePending && idleSinceMs !== null && nowMs - idleSinceMs >= policy.idleEndMs;
}

/** How long to wait before a round that a 'wake' triggered: rounds start at least wakeMinGapMs apart. */
export function wakeDelayMs(lastRoundStartedMs: number | null, nowMs: number, policy: ProviderSyncPolicy): number {
  if (lastRoundStartedMs === null) return 0;
  return Math.max(0, lastRoundStartedMs + policy.wakeMinGapMs - nowMs);
}

/**
 * A sleep of `sleepMs` from `nowMs`, moved to end on the whole multiple of alignMs nearest to its end,
 * or the first one after `nowMs` (unchanged when alignMs is 0).
 */
export function alignedSleepMs(nowMs: number, sleepMs: number, alignMs: number): number {
  if (alignMs <= 0) return sleepMs;
  const nearest = Math.round((nowMs + sleepMs) / alignMs) * alignMs;
  const end = nearest > nowMs ? nearest : (Math.floor(nowMs / alignMs) + 1) * alignMs;
  return end - nowMs;
}
