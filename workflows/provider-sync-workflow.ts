/**
 * The provider sync: one long-lived workflow per provider (id providerSyncWorkflowId(providerId), task
 * queue ORDER_TASK_QUEUE) that follows every active order of that provider ("Follow" in the order
 * lifecycle) and tells each order's workflow when its upstream state changed.
 *
 *   loop: pollProviderRound (≤ maxOrders orders, oldest check first, 100 ids per status call; then
 *         the refills in flight, 100 ids per refill_status call, refillUpdate signals on a change)
 *         → sleep an adaptive interval (provider-sync-policy.ts), cut short by the 'wake' signal
 *         → continue-as-new every roundsPerRun rounds (or when the history grows), carrying its state
 *   end:  after idleEndMs with no order to follow; the next 'wake' (signalWithStart) starts it again.
 *
 * Callers: the order workflow's dispatch activity, once an order has its provider order id:
 *   client.workflow.signalWithStart(providerSyncWorkflow, { workflowId: providerSyncWorkflowId(p),
 *     taskQueue: ORDER_TASK_QUEUE, args: [{ providerId: p }], signal: PROVIDER_SYNC_MESSAGES.wake,
 *     signalArgs: [{ providerId: p }] })
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { PollProviderRoundResult, ProviderSyncActivities } from '../activities/provider-sync-activities';
import {
  alignedSleepMs,
  nextIdleSince,
  nextIntervalMs,
  resolvePolicy,
  shouldContinueAsNew,
  shouldEnd,
  wakeDelayMs,
} from './provider-sync-policy';
import type { ProviderSyncPolicy, RoundResultForPolicy } from './provider-sync-policy';

/** Names of the sync's messages, for callers that do not import the workflow. */
export const PROVIDER_SYNC_MESSAGES = {
  /** Signal, args [] or [{ providerId }]: an order was dispatched; poll soon. */
  wake: 'wake',
  /** Query → ProviderSyncStatus. */
  state: 'providerSyncState',
} as const;

export interface WakeArgs {
  providerId?: number;
}

export const wakeSignal = defineSignal<[WakeArgs?]>(PROVIDER_SYNC_MESSAGES.wake);

/** The small state carried from run to run by continue-as-new. */
export interface ProviderSyncCarried {
  /** The sleep the next round will be followed by, before it is adapted. */
  intervalMs: number;
  /** Since when (epoch ms, workflow time) the provider has had nothing to follow; null when it has. */
  idleSinceMs: number | null;
  /** Rounds over all runs. */
  totalRounds: number;
  /** Runs so far, this one excluded. */
  previousRuns: number;
  /** Start of the last round (epoch ms), to space wake-triggered rounds. */
  lastRoundStartedMs: number | null;
  /** The last round's figures. */
  lastRound: PollProviderRoundResult | null;
}

export interface ProviderSyncInput {
  providerId: number;
  /** Overrides of DEFAULT_PROVIDER_SYNC_POLICY (tests, a slow provider...). maxOrders here wins over the policy's. */
  maxOrders?: number;
  policy?: Partial<ProviderSyncPolicy>;
  carried?: ProviderSyncCarried;
}

export interface ProviderSyncStatus extends ProviderSyncCarried {
  providerId: number;
  roundsThisRun: number;
  /** 'polling' during a round, 'sleeping' between rounds. */
  phase: 'polling' | 'sleeping' | 'ending';
  /** When the current sleep ends (epoch ms, workflow time), while sleeping. */
  sleepingUntilMs: number | null;
  wakes: number;
  lastError: string | null;
}

export const providerSyncStateQuery = defineQuery<ProviderSyncStatus>(PROVIDER_SYNC_MESSAGES.state);

export type ProviderSyncEnd = { ended: 'idle' | 'unknown_provider'; totalRounds: number };

const { pollProviderRound } = proxyActivities<ProviderSyncActivities>({
  // ≤ 10 status calls (15 s timeout each) and the signals and row writes: minutes at worst.
  startToCloseTimeout: '5 minutes',
  // The activity heartbeats after every batch of 100 orders.
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    // Then the workflow backs off itself (longer sleeps) and tries again: the loop never dies of a
    // provider outage, and its history stays readable.
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['UnknownProvider'],
  },
});

export async function providerSyncWorkflow(input: ProviderSyncInput): Promise<ProviderSyncEnd> {
  const policy = resolvePolicy({ ...input.policy, ...(input.maxOrders !== undefined ? { maxOrders: input.maxOrders } : {}) });
  const carried: ProviderSyncCarried = input.carried ?? {
    intervalMs: policy.minIntervalMs,
    idleSinceMs: null,
    totalRounds: 0,
    previousRuns: 0,
    lastRoundStartedMs: null,
    lastRound: null,
  };
  const state: ProviderSyncStatus = {
    ...carried,
    providerId: input.providerId,
    roundsThisRun: 0,
    phase: 'polling',
    sleepingUntilMs: null,
    wakes: 0,
    lastError: null,
  };
  let wakePending = false;

  setHandler(wakeSignal, () => {
    wakePending = true;
    state.wakes += 1;
  });
  setHandler(providerSyncStateQuery, () => state);

  for (;;) {
    // A wake that arrived before this round is answered by it.
    wakePending = false;
    state.phase = 'polling';
    state.sleepingUntilMs = null;
    state.lastRoundStartedMs = Date.now();
    let outcome: RoundResultForPolicy;
    try {
      const round = await pollProviderRound({ providerId: input.providerId, maxOrders: policy.maxOrders });
      state.lastRound = round;
      state.lastError = null;
      // Refills in flight keep the sync awake and count as the orders do for the pacing.
      outcome = {
        ok: true,
        round: {
          checked: round.checked + (round.refillsChecked ?? 0),
          changed: round.changed + (round.refillsChanged ?? 0),
          firstChecks: round.firstChecks,
          activeRemaining: round.activeRemaining + (round.refillsRemaining ?? 0),
        },
      };
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      if (cause instanceof ApplicationFailure && cause.type === 'UnknownProvider') {
        log.warn('provider sync: provider does not exist; ending', { providerId: input.providerId });
        return { ended: 'unknown_provider', totalRounds: state.totalRounds };
      }
      state.lastError = cause instanceof Error ? cause.message : String(cause);
      log.warn('provider sync: round failed after its retries; backing off', {
        providerId: input.providerId,
        error: state.lastError,
      });
      outcome = { ok: false };
    }
    state.roundsThisRun += 1;
    state.totalRounds += 1;
    state.intervalMs = nextIntervalMs(state.intervalMs, outcome, policy);
    state.idleSinceMs = nextIdleSince(state.idleSinceMs, outcome, Date.now());

    if (shouldEnd(state.idleSinceMs, Date.now(), wakePending, policy)) {
      state.phase = 'ending';
      log.info('provider sync: nothing to follow; ending until the next wake', {
        providerId: input.providerId,
        idleSinceMs: state.idleSinceMs,
      });
      return { ended: 'idle', totalRounds: state.totalRounds };
    }

    state.phase = 'sleeping';
    // alignedSleepMs: unchanged without policy.alignMs (histories of earlier runs replay as before).
    const sleepMs = alignedSleepMs(Date.now(), state.intervalMs, policy.alignMs);
    state.sleepingUntilMs = Date.now() + sleepMs;
    const woken = await condition(() => wakePending, sleepMs);
    if (woken) {
      // Rounds stay at least wakeMinGapMs apart: a burst of dispatches makes one round.
      const delay = alignedSleepMs(Date.now(), wakeDelayMs(state.lastRoundStartedMs, Date.now(), policy), policy.alignMs);
      if (delay > 0) await sleep(delay);
    }

    const info = workflowInfo();
    if (
      shouldContinueAsNew(
        { roundsThisRun: state.roundsThisRun, historyLength: info.historyLength, continueAsNewSuggested: info.continueAsNewSuggested },
        policy,
      )
    ) {
      const next: ProviderSyncCarried = {
        intervalMs: state.intervalMs,
        idleSinceMs: state.idleSinceMs,
        totalRounds: state.totalRounds,
        previousRuns: state.previousRuns + 1,
        lastRoundStartedMs: state.lastRoundStartedMs,
        lastRound: state.lastRound,
      };
      // The sleep is over: the new run polls at once. Wakes received meanwhile are answered by it.
      await continueAsNew<typeof providerSyncWorkflow>({ ...input, carried: next });
    }
  }
}
