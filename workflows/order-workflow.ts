/**
 * One order, from placement to its final status (issue "The order engine", lifecycle steps 1-6).
 *
 *   place     reserveAndDebit (local activity): row + debit, or a refusal that ends the workflow
 *   dispatch  dispatchOrder: placed | refused (canceled, full refund) | uncertain (reconcile) |
 *             retry_later (Temporal retries with backoff for up to 24 h, then canceled, full refund)
 *   follow    providerUpdate signals from the provider sync move the status forward; a timer only
 *             for the start window (R-START-WINDOW 24 h, R-CANCEL-STALLED 10 days) while not started
 *   support   cancel with a full refund or none (R-CANCEL-FULL, R-CANCEL-NO-REFUND), whatever the
 *             cancel flag; move to another service (R-SUBSTITUTE): the old upstream order is asked to
 *             cancel, its final answer says what is still owed, that part is dispatched anew;
 *             resolveDispatch for an uncertain dispatch (attach | redispatch | cancel)
 *   finish    one refund by the final status (R-PARTIAL, R-CANCEL-FULL, R-NO-REFUND-DONE)
 *   refills   a completed order with a guarantee stays open until its refill window closes (never,
 *             for a lifetime guarantee): `refill` updates (validator: decideRefill), the refill
 *             activity (R-BLOCKED, R-REFILL-VOID, R-REFILL-NEED, the provider's `refill`), the
 *             sync's refillUpdate signals; continue-as-new every REFILLS_PER_RUN refills or
 *             RUN_MAX_AGE_MS, carrying the state (see workflows/README.md, "Refills")
 *
 * All side effects happen in the main loop, one at a time; message handlers only record what they
 * were told (and the cancel update waits for the loop's answer). Every state change is mirrored to
 * the orders row by a local activity (one marker event, no extra workflow task), so an order's
 * history does not grow with its delivery time.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities, DispatchResult } from '../activities/order-activities';
import type { RefillActivities, SendRefillResult } from '../activities/refill-activities';
import { decideCancel, decideSupportCancel } from '../domain/cancel-policy';
import type { CancelDecision } from '../domain/cancel-policy';
import { addMoney, isZeroMoney } from '../domain/money';
import { isFinal } from '../domain/order-status';
import { refillWindowClosesAt } from '../domain/refill-policy';
import { DAY_MS } from '../domain/time';
import { refundForFinalStatus } from '../domain/refund';
import { startWindowState } from '../domain/start-window';
import type {
  CancelRequest,
  CancelResult,
  DispatchResolution,
  MoveRecord,
  MoveRequest,
  MoveResult,
  OrderInput,
  OrderState,
  PlacementResult,
  ProviderUpdate,
  RefillRecord,
  RefillRequest,
  RefillResult,
  ResolveDispatchResult,
  RetryRefillRequest,
} from './order-contract';
import {
  CANCEL_REFUSED_FAILURE,
  cancelSignal,
  cancelUpdate,
  moveUpdate,
  placementUpdate,
  providerUpdateSignal,
  REFILL_REFUSED_FAILURE,
  refillRequestUpdate,
  refillUpdateSignal,
  resolveDispatchUpdate,
  retryRefillUpdate,
  stateQuery,
  SUPPORT_REFUSED_FAILURE,
} from './order-messages';
import { decideMove, deliveredBeforeMove, isCurrentUpstream, newMoveRecord, remainingAfterStop, stoppingMove, upstreamQuantity } from './move-state';
import { applyProviderUpdate, initialOrderState, mirrorPatch, mirrorSnapshot } from './order-state';
import { changedSearchAttributes, orderSearchAttributes } from './order-search-attributes';
import type { MirrorSnapshot } from './order-state';
import {
  applyRefillUpdate,
  decideRefillRequest,
  decideRetry,
  emptyRefills,
  expireStuckRefill,
  findRefill,
  findRefillByRequest,
  guaranteeOpen,
  putRefill,
  refillInFlight,
  refillMirrorPatch,
  refillSnapshot,
  refreshAnswer,
  stuckAt,
  validRequestId,
} from './refill-state';
import type { RefillDecision } from './refill-state';

// ---------------------------------------------------------------- activity options

/** Placement: database only, on the placement's critical path: a local activity, retried until it answers. */
const placing = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Mirror writes: local, so each costs one marker event and no extra workflow task. */
const mirroring = proxyLocalActivities<OrderActivities & RefillActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** The DISPATCH RETRY POLICY: "provider says try later" waits 30 s, 1 min, 2 min ... 30 min, for 24 h at most. */
export const DISPATCH_RETRY = {
  initialInterval: '30s',
  backoffCoefficient: 2,
  maximumInterval: '30m',
  scheduleToClose: '24h',
} as const;
const dispatching = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: DISPATCH_RETRY.scheduleToClose,
  retry: {
    initialInterval: DISPATCH_RETRY.initialInterval,
    backoffCoefficient: DISPATCH_RETRY.backoffCoefficient,
    maximumInterval: DISPATCH_RETRY.maximumInterval,
    nonRetryableErrorTypes: ['OrderMissing', 'UnknownProviderError'],
  },
});

/** Reconciliation and fences: idempotent, retried until they answer. */
const reconciling = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m', nonRetryableErrorTypes: ['OrderMissing'] },
});

/** A user waits for the answer to a cancel: bounded. */
const canceling = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['OrderMissing'] },
});

/** Money: the ledger's idempotency key makes every retry the same one entry. */
const paying = proxyActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** A refill request: the user waits for the answer (the provider's `refill` included), so bounded. */
const refilling = proxyActivities<RefillActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['OrderMissing'] },
});

/** Wait after an uncertain `add` before asking orders_by_link, so a late-processed add shows up. */
export const RECONCILE_DELAY_MS = 2 * 60_000;
/** Automatic re-dispatches after "the provider does not have it"; then support decides. */
export const MAX_AUTO_REDISPATCHES = 3;
/** Cancel answers kept by request id (a retried request gets the same answer). */
const KEPT_CANCEL_ANSWERS = 20;
/** Move and dispatch-resolution answers kept by request id. */
const KEPT_SUPPORT_ANSWERS = 20;
/** How long a move waits for the old provider to confirm its cancel before it gives up. */
export const MOVE_STOP_TIMEOUT_MS = DAY_MS;
/** Refill answers kept by request id (refused ones included; accepted ones are the refills themselves). */
const KEPT_REFILL_ANSWERS = 20;
/** While following a guarantee: a new run after this many refills... */
export const REFILLS_PER_RUN = 10;
/** ...or once the run is this old (a lifetime order's runs stay small whatever its age)... */
export const RUN_MAX_AGE_MS = 30 * DAY_MS;
/** ...or once its history holds this many events (or Temporal suggests it). */
export const MAX_RUN_HISTORY_EVENTS = 2_000;

// ---------------------------------------------------------------- carried state

interface CancelEntry {
  request: CancelRequest;
  rule: string;
  result: CancelResult | null;
}

/** Everything a run hands to the next one (continue-as-new). */
export interface OrderWorkflowCarried {
  state: OrderState;
  placement: PlacementResult;
  mirrored: MirrorSnapshot;
  cancelAnswers: Array<{ requestId: string; result: CancelResult }>;
  dispatch: DispatchProgress;
  /** Move and resolveDispatch answers by key (`move:<requestId>`, `resolve:<requestId>`). Optional: added later. */
  supportAnswers?: Array<{ key: string; result: MoveResult | ResolveDispatchResult }>;
  /** Present once the order follows its guarantee (the run starts in the refill phase). */
  refills?: RefillsCarried;
}

interface RefillsCarried {
  /** Answers by request key (`refill:<requestId>`, `retry:<requestId>`). */
  answers: Array<{ key: string; result: RefillResult }>;
  /** What each refill row holds, as last written (refillSnapshot). */
  mirrored: Array<[number, string]>;
  /** Runs so far, this one excluded. */
  runs: number;
}

type RefillEntry =
  | { kind: 'request'; key: string; request: RefillRequest; result: RefillResult | null }
  | { kind: 'retry'; key: string; request: RetryRefillRequest; result: RefillResult | null };

interface DispatchProgress {
  /** Re-dispatches made after a reconcile found nothing upstream. */
  redispatches: number;
  /** The uncertainty needs support's resolveDispatch (lookup unsupported, ambiguous, or retries used up). */
  awaitingSupport: boolean;
  /** orders_by_link already asked in this uncertainty episode. */
  looked: boolean;
}

/** Why the order ended canceled: decides the refund's rule (none for R-CANCEL-NO-REFUND). */
type CancelCause = 'R-CANCEL-FULL' | 'R-AUTO-CANCEL' | 'R-CANCEL-NO-REFUND';

interface MoveEntry {
  request: MoveRequest;
  result: MoveResult | null;
}

interface ResolutionEntry {
  request: DispatchResolution;
  result: ResolveDispatchResult | null;
}

/** A move waiting for its old upstream order to stop (never carried: no new run while one waits). */
interface MoveStop {
  record: MoveRecord;
  target: MoveRequest['target'];
  /** Units still owed, once the old upstream order's final answer came. */
  remaining: number | null;
  /** Workflow time after which the move gives up. */
  deadline: number;
}

export async function orderWorkflow(input: OrderInput, carried?: OrderWorkflowCarried): Promise<OrderState> {
  const orderId = input.orderId;
  const state: OrderState = carried?.state ?? initialOrderState(input);
  let placement: PlacementResult | null = carried?.placement ?? null;
  let mirrored: MirrorSnapshot = carried?.mirrored ?? mirrorSnapshot(state);
  /** The search attributes as last written (set at start by the client, inherited across runs). */
  let indexed = orderSearchAttributes(state);
  const cancelAnswers = new Map<string, CancelResult>((carried?.cancelAnswers ?? []).map((a) => [a.requestId, a.result]));
  const dispatch: DispatchProgress = carried?.dispatch ?? { redispatches: 0, awaitingSupport: false, looked: false };
  const cancels: CancelEntry[] = [];
  let resolution: ResolutionEntry | null = null;
  const moves: MoveEntry[] = [];
  let moveStop: MoveStop | null = null;
  const supportAnswers = new Map<string, MoveResult | ResolveDispatchResult>((carried?.supportAnswers ?? []).map((a) => [a.key, a.result]));
  /** R-CANCEL-NO-REFUND: support's stated reason, once such a cancel ended the order. */
  let noRefundReason: string | null = null;
  /** Support's cancel that ended the order: answered by finish(), once its refund (if any) is posted. */
  let closingCancel: { entry: CancelEntry; result: CancelResult } | null = null;
  let cancelCause: CancelCause | null = null;
  let dispatchScope: CancellationScope | null = null;
  /** A local cancel of an order the provider has: ask it to drop the order once the refund is done. */
  let askProviderToDrop = false;
  /** Bumped by every handler that changed something the main loop must look at. */
  let version = 0;
  const refillAnswers = new Map<string, RefillResult>((carried?.refills?.answers ?? []).map((a) => [a.key, a.result]));
  const mirroredRefills = new Map<number, string>(carried?.refills?.mirrored ?? []);
  const refillQueue: RefillEntry[] = [];
  const runsBefore = carried?.refills?.runs ?? 0;
  const runStartedAt = Date.now();
  let refillsThisRun = 0;

  // ---------------------------------------------------------------- cancel decisions

  const isSupportCancel = (request: CancelRequest) => (request.mode ?? 'terms') !== 'terms';
  const pendingCancel = () => cancels.some((c) => c.result === null);
  /** Something support or a user asked that must stop a dispatch in flight. */
  const interruptPending = () => pendingCancel() || moves.some((m) => m.result === null);

  function decide(request: CancelRequest): CancelDecision {
    if (isSupportCancel(request)) {
      if (request.requestedBy.kind === 'user') {
        return { allowed: false, rule: 'R-CANCEL-REQUEST', reason: 'only support can cancel with a forced refund or without one' };
      }
      return decideSupportCancel({
        status: state.status,
        mode: request.mode as 'full_refund' | 'no_refund',
        reason: request.reason,
        supportCancelInFlight: cancels.some((c) => c.result === null && isSupportCancel(c.request)),
      });
    }
    if (request.requestedBy.kind === 'user' && request.requestedBy.userId !== state.userId) {
      return { allowed: false, rule: 'R-CANCEL-REQUEST', reason: 'only the order\'s owner can cancel it' };
    }
    if (!isFinal(state.status) && (moveStop || moves.some((m) => m.result === null))) {
      return { allowed: false, rule: 'R-SUBSTITUTE', reason: 'the order is being moved to another service by support; try again later' };
    }
    return decideCancel({
      status: state.status,
      placedAt: state.timestamps.placedAt,
      startedAt: state.timestamps.startedAt,
      now: Date.now(),
      serviceCancelable: state.cancelable,
      suspended: false,
      cancelRequested: state.flags.cancelRequested || cancels.some((c) => c.result === null),
    });
  }

  function knownAnswer(request: CancelRequest): CancelResult | CancelEntry | undefined {
    if (!request.requestId) return undefined;
    return cancelAnswers.get(request.requestId) ?? cancels.find((c) => c.request.requestId === request.requestId);
  }

  function enqueueCancel(request: CancelRequest, rule: string): CancelEntry {
    const entry: CancelEntry = { request, rule, result: null };
    cancels.push(entry);
    version++;
    // A dispatch retrying in the background must not hold the cancel up: interrupt it.
    dispatchScope?.cancel();
    log.info('cancel accepted', { orderId, rule, mode: request.mode ?? 'terms', requestedBy: request.requestedBy, reason: request.reason });
    return entry;
  }

  function answerCancel(entry: CancelEntry, result: CancelResult): void {
    entry.result = result;
    recordCancel(entry.request, result);
  }

  function recordCancel(request: CancelRequest, result: CancelResult): void {
    state.lastCancel = {
      requestId: request.requestId ?? null,
      requestedBy: request.requestedBy,
      accepted: result.accepted,
      rule: result.rule,
      message: result.accepted ? result.message : result.reason,
      at: Date.now(),
    };
    if (request.requestId) {
      cancelAnswers.set(request.requestId, result);
      while (cancelAnswers.size > KEPT_CANCEL_ANSWERS) cancelAnswers.delete(cancelAnswers.keys().next().value!);
    }
  }

  // ---------------------------------------------------------------- handlers

  setHandler(stateQuery, () => state);

  setHandler(placementUpdate, async () => {
    await condition(() => placement !== null);
    return placement!;
  });

  setHandler(
    cancelUpdate,
    async (request) => {
      const known = knownAnswer(request);
      if (known && !('request' in known)) return known;
      let entry = known as CancelEntry | undefined;
      if (!entry) {
        const decision = decide(request);
        if (!decision.allowed) {
          const refused: CancelResult = { accepted: false, rule: decision.rule, reason: decision.reason };
          recordCancel(request, refused);
          return refused;
        }
        entry = enqueueCancel(request, decision.rule);
      }
      const waiting = entry;
      await condition(() => waiting.result !== null);
      return waiting.result!;
    },
    {
      // Refused at once, with the rule and the reason; a refused update leaves no trace in history.
      validator: (request) => {
        if (knownAnswer(request)) return;
        const decision = decide(request);
        if (!decision.allowed) {
          throw ApplicationFailure.create({
            type: CANCEL_REFUSED_FAILURE,
            message: `${decision.rule}: ${decision.reason}`,
            details: [{ accepted: false, rule: decision.rule, reason: decision.reason } satisfies CancelResult],
            nonRetryable: true,
          });
        }
      },
    },
  );

  setHandler(cancelSignal, (request) => {
    if (knownAnswer(request)) return; // the same request again
    const decision = decide(request);
    if (decision.allowed) {
      enqueueCancel(request, decision.rule);
    } else {
      recordCancel(request, { accepted: false, rule: decision.rule, reason: decision.reason });
      log.info('cancel signal refused', { orderId, rule: decision.rule, reason: decision.reason });
      version++;
    }
  });

  function onProviderUpdate(update: ProviderUpdate): void {
    if (!isCurrentUpstream(state, update)) {
      log.info('provider update about an upstream order this order moved away from: ignored', { orderId, update });
      return;
    }
    if (moveStop && !isFinal(state.status)) {
      // R-SUBSTITUTE: the old upstream order's end is not the order's end; what it left undelivered
      // goes to the new service. (A Completed still ends the order, and the move with it.)
      const remaining = remainingAfterStop(state, update);
      if (remaining !== null) {
        if (moveStop.remaining === null) {
          moveStop.remaining = remaining;
          state.lastProviderAnswer = update.raw ?? { status: update.status, remains: update.remains, observedAt: update.observedAt };
          log.info('move: the old upstream order stopped', { orderId, status: update.status, remaining });
          version++;
        }
        return;
      }
    }
    // After a move, the new provider's Canceled leaves what the old one delivered: Partial.
    const moved = update.status === 'canceled' && deliveredBeforeMove(state) ? { ...update, status: 'partial' as const, remains: upstreamQuantity(state) } : update;
    const before = state.status;
    const effect = applyProviderUpdate(state, moved, Date.now());
    if (effect === 'ignored') return;
    if (effect === 'moved') {
      log.info('provider update', { orderId, from: before, to: state.status, startCount: state.startCount, remains: state.remains });
      if (state.status === 'canceled') cancelCause = state.flags.cancelRequested ? 'R-CANCEL-FULL' : 'R-AUTO-CANCEL';
      if (moveStop && isFinal(state.status)) failMove(`the old provider ended the order ${state.status} before the cancel took effect`);
    }
    version++;
  }

  setHandler(providerUpdateSignal, onProviderUpdate);

  // ---------------------------------------------------------------- support's updates (move, resolveDispatch)

  function keepSupportAnswer(key: string, result: MoveResult | ResolveDispatchResult): void {
    supportAnswers.set(key, result);
    while (supportAnswers.size > KEPT_SUPPORT_ANSWERS) supportAnswers.delete(supportAnswers.keys().next().value!);
  }

  function refuseSupport(result: { accepted: false; rule: string; reason: string }): never {
    throw ApplicationFailure.create({ type: SUPPORT_REFUSED_FAILURE, message: `${result.rule}: ${result.reason}`, details: [result], nonRetryable: true });
  }

  const moveKey = (request: MoveRequest) => `move:${request?.requestId}`;
  const moveBusy = () => ({ moveInFlight: moveStop !== null || moves.some((m) => m.result === null), cancelInFlight: pendingCancel() });
  const knownMove = (request: MoveRequest) =>
    (supportAnswers.get(moveKey(request)) as MoveResult | undefined) ?? moves.find((m) => m.request.requestId === request?.requestId);

  setHandler(
    moveUpdate,
    async (request) => {
      const known = knownMove(request);
      if (known && !('request' in known)) return known;
      let entry = known as MoveEntry | undefined;
      if (!entry) {
        const decision = decideMove(state, request, moveBusy());
        if (!decision.allowed) return { accepted: false, rule: decision.rule, reason: decision.reason };
        entry = { request, result: null };
        moves.push(entry);
        version++;
        dispatchScope?.cancel(); // a dispatch to the old service must not go on meanwhile
        log.info('move accepted', { orderId, to: request.target, requestedBy: request.requestedBy, reason: request.reason });
      }
      const waiting = entry;
      await condition(() => waiting.result !== null);
      return waiting.result!;
    },
    {
      validator: (request) => {
        if (request && knownMove(request)) return;
        const decision = decideMove(state, request, moveBusy());
        if (!decision.allowed) refuseSupport({ accepted: false, rule: decision.rule, reason: decision.reason });
      },
    },
  );

  const resolveKey = (r: DispatchResolution) => (r?.requestId ? `resolve:${r.requestId}` : null);
  const knownResolution = (r: DispatchResolution) => {
    const key = resolveKey(r);
    if (!key) return undefined;
    return (supportAnswers.get(key) as ResolveDispatchResult | undefined) ?? (resolution?.request.requestId === r.requestId ? resolution : undefined);
  };
  function decideResolution(r: DispatchResolution | undefined): { accepted: false; rule: string; reason: string } | null {
    const refuse = (reason: string) => ({ accepted: false as const, rule: 'dispatch_uncertain', reason });
    if (!r || !['attach', 'redispatch', 'cancel'].includes(r.action)) return refuse('action must be attach, redispatch or cancel');
    if (r.action === 'attach' && (typeof r.providerOrderId !== 'string' || r.providerOrderId.trim() === '')) return refuse('attach needs the provider\'s order id');
    if (state.status !== 'dispatch_uncertain') return refuse(`the order's dispatch is not uncertain (status ${state.status})`);
    if (resolution && resolution.result === null) return refuse('a resolution of this dispatch is already being carried out');
    return null;
  }

  setHandler(
    resolveDispatchUpdate,
    async (r) => {
      const known = knownResolution(r);
      if (known && !('request' in known)) return known;
      let entry = known as ResolutionEntry | undefined;
      if (!entry) {
        const refused = decideResolution(r);
        if (refused) return refused;
        entry = { request: r, result: null };
        resolution = entry;
        version++;
        log.info('resolveDispatch accepted', { orderId, action: r.action, by: r.by, reason: r.reason });
      }
      const waiting = entry;
      await condition(() => waiting.result !== null);
      return waiting.result!;
    },
    {
      validator: (r) => {
        if (r && knownResolution(r)) return;
        const refused = decideResolution(r);
        if (refused) refuseSupport(refused);
      },
    },
  );

  // ---------------------------------------------------------------- refill handlers

  const refillKey = (request: RefillRequest) => `refill:${request.requestId}`;
  const retryKey = (request: RetryRefillRequest) => `retry:${request.requestId ?? `${request.refillId}-${state.refills?.recent.find((r) => r.refillId === request.refillId)?.attempts ?? 0}`}`;
  const queuedRefill = () => refillQueue.some((e) => e.result === null);

  function refusal(decision: RefillDecision & { accepted: false }): RefillResult {
    return { accepted: false, rule: decision.rule, reason: decision.reason };
  }

  function refuseInValidator(decision: RefillDecision): void {
    if (decision.accepted) return;
    throw ApplicationFailure.create({
      type: REFILL_REFUSED_FAILURE,
      message: `${decision.rule}: ${decision.reason}`,
      details: [refusal(decision)],
      nonRetryable: true,
    });
  }

  /** The answer or queued entry of a request seen before (the same request id), if any. */
  function knownRefill(key: string, requestId: string | undefined): RefillResult | RefillEntry | undefined {
    const answer = refillAnswers.get(key);
    if (answer) return refreshAnswer(state, answer);
    const queued = refillQueue.find((e) => e.key === key);
    if (queued) return queued.result ? refreshAnswer(state, queued.result) : queued;
    if (requestId !== undefined && key.startsWith('refill:')) {
      const made = findRefillByRequest(state, requestId);
      if (made) return made.status === 'failed' ? { accepted: false, rule: 'R-REFILL-SUPPORT', reason: made.reason ?? 'the provider did not take the refill', refill: { ...made } } : { accepted: true, refill: { ...made } };
    }
    return undefined;
  }

  function enqueueRefill(entry: RefillEntry): RefillEntry {
    refillQueue.push(entry);
    version++;
    log.info(entry.kind === 'request' ? 'refill request accepted for checks' : 'refill retry accepted', { orderId, requestedBy: entry.request.requestedBy });
    return entry;
  }

  async function awaitRefill(entry: RefillEntry): Promise<RefillResult> {
    await condition(() => entry.result !== null);
    return entry.result!;
  }

  setHandler(
    refillRequestUpdate,
    async (request) => {
      const known = knownRefill(refillKey(request), request.requestId);
      if (known && !('kind' in known)) return known;
      if (known) return awaitRefill(known);
      const decision = decideRefillRequest(state, request, Date.now(), queuedRefill());
      if (!decision.accepted) return refusal(decision);
      return awaitRefill(enqueueRefill({ kind: 'request', key: refillKey(request), request, result: null }));
    },
    {
      // Refused at once with the rule and the reason; a refused update leaves no trace in history.
      validator: (request) => {
        if (request && validRequestId(request.requestId) && knownRefill(refillKey(request), request.requestId)) return;
        refuseInValidator(decideRefillRequest(state, request, Date.now(), queuedRefill()));
      },
    },
  );

  setHandler(
    retryRefillUpdate,
    async (request) => {
      const known = request.requestId !== undefined ? knownRefill(retryKey(request), undefined) : undefined;
      if (known && !('kind' in known)) return known;
      if (known) return awaitRefill(known);
      const decision = decideRetry(state, request, queuedRefill());
      if (!decision.accepted) return refusal(decision);
      return awaitRefill(enqueueRefill({ kind: 'retry', key: retryKey(request), request, result: null }));
    },
    {
      validator: (request) => {
        if (request && request.requestId !== undefined && knownRefill(retryKey(request), undefined)) return;
        refuseInValidator(decideRetry(state, request, queuedRefill()));
      },
    },
  );

  setHandler(refillUpdateSignal, (update) => {
    if (applyRefillUpdate(state, update, Date.now())) {
      log.info('refill update', { orderId, refillId: update.refillId, status: update.status });
      version++;
    } else {
      log.info('refill update ignored (not a refill in flight, or not forward)', { orderId, refillId: update.refillId, status: update.status });
    }
  });

  // ---------------------------------------------------------------- start window timer

  let deadline: { at: number; fired: boolean; scope: CancellationScope } | null = null;

  /** One timer at a time, kept across waits (re-armed only when the instant changes). */
  function armDeadline(at: number | null): void {
    if (deadline && !deadline.fired && deadline.at === at) return;
    if (deadline && !deadline.fired) deadline.scope.cancel();
    deadline = null;
    if (at === null) return;
    const armed = { at, fired: false, scope: new CancellationScope() };
    armed.scope
      .run(() => sleep(Math.max(1, at - Date.now())))
      .then(
        () => void (armed.fired = true),
        () => undefined, // canceled: the order started or finished
      );
    deadline = armed;
  }

  /** R-START-WINDOW (24 h: overdue) and R-CANCEL-STALLED (10 days: stalled), while not started. */
  function refreshStartWindow(): void {
    if (state.status === 'new' || isFinal(state.status)) return armDeadline(null);
    const window = startWindowState({ placedAt: state.timestamps.placedAt, startedAt: state.timestamps.startedAt, now: Date.now() });
    if (window.overdue !== state.flags.overdue || window.stalled !== state.flags.stalled) {
      log.info('start window', { orderId, overdue: window.overdue, stalled: window.stalled });
      state.flags.overdue = window.overdue;
      state.flags.stalled = window.stalled;
    }
    armDeadline(window.nextCheckAt);
  }

  /** Waits for a message or the start-window timer; with a timeout, false when it passed quietly. */
  async function waitForChange(timeoutMs?: number): Promise<boolean> {
    const seen = version;
    const woke = () => version !== seen || (deadline?.fired ?? false);
    if (timeoutMs === undefined) {
      await condition(woke);
      return true;
    }
    return condition(woke, timeoutMs);
  }

  // ---------------------------------------------------------------- steps

  /** Search attributes follow every change, so visibility queries find the order as it moves. */
  function reindex(): void {
    const attributes = orderSearchAttributes(state);
    const changed = changedSearchAttributes(indexed, attributes);
    if (changed.length > 0) upsertSearchAttributes(changed);
    indexed = attributes;
  }

  async function mirror(): Promise<void> {
    reindex();
    await mirrorRefills();
    const now = mirrorSnapshot(state);
    const patch = mirrorPatch(mirrored, now, state);
    if (!patch) return;
    try {
      await mirroring.mirrorOrder(orderId, patch);
    } catch (error) {
      // Only a non-retryable failure gets here (the database refused the values): the row is a read
      // model, so the order goes on (and its money with it) and the failure is logged for a fix.
      log.error('mirror failed: the orders row is behind the workflow', { orderId, patch, error: describeFailure(error) });
    }
    mirrored = now;
  }

  /** Each refill whose row lacks what the workflow knows (status, provider id, reason, completion). */
  async function mirrorRefills(): Promise<void> {
    for (const refill of state.refills?.recent ?? []) {
      const now = refillSnapshot(refill);
      if (mirroredRefills.get(refill.refillId) === now) continue;
      try {
        await mirroring.mirrorRefill(refill.refillId, refillMirrorPatch(refill));
      } catch (error) {
        log.error('refill mirror failed: the refills row is behind the workflow', { orderId, refillId: refill.refillId, error: describeFailure(error) });
      }
      mirroredRefills.set(refill.refillId, now);
    }
    for (const id of [...mirroredRefills.keys()]) if (!findRefill(state, id)) mirroredRefills.delete(id);
  }

  function endCanceled(cause: CancelCause, reason: string): void {
    if (isFinal(state.status)) return;
    state.status = 'canceled';
    state.rejectReason = reason;
    state.timestamps.finishedAt = Date.now();
    cancelCause = cause;
    log.info('order canceled', { orderId, cause, reason });
  }

  /**
   * The current upstream order will not deliver (refused, given up, canceled before it was sent).
   * Canceled with a full refund, unless a move came after part was delivered: then Partial, with
   * the part this upstream order was for as its remains (R-PARTIAL).
   */
  function endUpstreamCanceled(cause: CancelCause, reason: string): void {
    if (isFinal(state.status)) return;
    if (!deliveredBeforeMove(state)) return endCanceled(cause, reason);
    state.status = 'partial';
    state.remains = upstreamQuantity(state);
    state.rejectReason = reason;
    state.timestamps.finishedAt = Date.now();
    log.info('order ended partial: delivered in part before a move', { orderId, remains: state.remains, reason });
  }

  function attachUpstream(providerOrderId: string, how: string): void {
    state.providerOrderId = providerOrderId;
    state.timestamps.dispatchedAt ??= Date.now();
    if (state.status === 'dispatch_uncertain') state.status = 'pending';
    state.lastProviderAnswer = { action: how, providerOrderId, at: Date.now() };
    dispatch.awaitingSupport = false;
    dispatch.looked = false;
    log.info('provider order attached', { orderId, providerOrderId, how });
  }

  function becomeUncertain(reason: string): void {
    if (state.status === 'pending') state.status = 'dispatch_uncertain';
    dispatch.looked = false;
    log.warn('dispatch uncertain', { orderId, reason });
  }

  function applyDispatch(result: DispatchResult): void {
    switch (result.kind) {
      case 'placed':
        state.providerOrderId = result.providerOrderId;
        state.timestamps.dispatchedAt ??= Date.now();
        if (state.status === 'dispatch_uncertain') state.status = 'pending';
        if (result.answer) {
          state.lastProviderAnswer = result.answer;
          mirrored.lastProviderAnswer = JSON.stringify(result.answer);
        }
        mirrored.providerOrderId = result.providerOrderId; // the activity wrote it
        log.info('dispatched', { orderId, providerOrderId: result.providerOrderId });
        return;
      case 'refused':
        state.lastProviderAnswer = result.answer;
        mirrored.lastProviderAnswer = JSON.stringify(result.answer);
        // R-AUTO-CANCEL: the provider will not take this order (bad link, private account...).
        endUpstreamCanceled('R-AUTO-CANCEL', `the provider refused the order: ${result.reason}`);
        return;
      case 'uncertain':
        if (result.answer) {
          state.lastProviderAnswer = result.answer;
          mirrored.lastProviderAnswer = JSON.stringify(result.answer);
        }
        becomeUncertain(result.reason);
        return;
      case 'abandoned':
        // Only a cancel closes the fence; the queued cancel finishes the job.
        if (!interruptPending()) endUpstreamCanceled('R-CANCEL-FULL', `the order was closed before dispatch (${result.status})`);
        return;
    }
  }

  async function dispatchStep(): Promise<void> {
    const scope = new CancellationScope();
    dispatchScope = scope;
    let result: DispatchResult | null = null;
    let failure: string | null = null;
    try {
      result = await scope.run(() => dispatching.dispatchOrder(orderId));
    } catch (error) {
      if (!isCancellation(error)) failure = describeFailure(error);
      else if (!interruptPending()) throw error; // the workflow itself is being canceled
    } finally {
      dispatchScope = null;
    }
    if (result === null && failure === null) return; // interrupted by a cancel or a move: they take over
    if (result === null) {
      // The retries ran out (24 h of "try later") or a non-retryable failure: close the fence.
      const fence = await reconciling.abandonDispatch(orderId);
      if (fence.kind === 'placed') result = { kind: 'placed', providerOrderId: fence.providerOrderId, answer: null, replayed: true };
      else if (fence.kind === 'uncertain') result = { kind: 'uncertain', reason: failure!, answer: null };
      else return endUpstreamCanceled('R-CANCEL-FULL', `the provider did not take the order: ${failure}`);
    }
    applyDispatch(result);
  }

  async function reconcileStep(): Promise<void> {
    if (resolution) return applyResolution();
    if (!dispatch.awaitingSupport && !dispatch.looked) {
      // Give a late-processed add time to appear; anything that happens meanwhile is looked at first.
      if (await waitForChange(RECONCILE_DELAY_MS)) return;
      const found = await reconciling.findUpstreamOrder(orderId);
      dispatch.looked = true;
      switch (found.kind) {
        case 'found':
          return attachUpstream(found.providerOrderId, 'orders_by_link');
        case 'none':
          if (dispatch.redispatches < MAX_AUTO_REDISPATCHES) {
            dispatch.redispatches++;
            state.status = 'pending'; // the add never landed: dispatch again
            log.info('reconcile: not at the provider, dispatching again', { orderId, redispatches: dispatch.redispatches });
            return;
          }
          break;
        case 'unsupported':
        case 'ambiguous':
          break;
      }
      dispatch.awaitingSupport = true;
      log.warn('dispatch uncertain: waiting for support (resolveDispatch)', { orderId, lookup: found });
      return;
    }
    await waitForChange();
  }

  function answerResolution(entry: ResolutionEntry, result: ResolveDispatchResult): void {
    entry.result = result;
    const key = resolveKey(entry.request);
    if (key) keepSupportAnswer(key, result);
    if (resolution === entry) resolution = null;
  }

  async function applyResolution(): Promise<void> {
    const entry = resolution!;
    const r = entry.request;
    log.info('resolveDispatch', { orderId, action: r.action, by: r.by.userId, reason: r.reason });
    switch (r.action) {
      case 'attach': {
        const attached = await reconciling.attachProviderOrder(orderId, r.providerOrderId, r.by);
        if (!attached.attached) {
          log.warn('resolveDispatch attach refused', { orderId, reason: attached.reason });
          return answerResolution(entry, { accepted: false, rule: 'dispatch_uncertain', reason: attached.reason });
        }
        attachUpstream(r.providerOrderId, 'attach');
        return answerResolution(entry, { accepted: true, action: 'attach', providerOrderId: r.providerOrderId, message: `attached to the provider's order ${r.providerOrderId}; followed from now on` });
      }
      case 'redispatch':
        await reconciling.resetDispatch(orderId);
        dispatch.awaitingSupport = false;
        state.status = 'pending';
        return answerResolution(entry, { accepted: true, action: 'redispatch', message: 'the order is sent to the provider again' });
      case 'cancel':
        endUpstreamCanceled('R-CANCEL-FULL', `canceled by support while its dispatch was uncertain${r.reason ? `: ${r.reason}` : ''}`);
        return answerResolution(entry, { accepted: true, action: 'cancel', message: `order ${state.status}; the undelivered charge is refunded` });
    }
  }

  // ---------------------------------------------------------------- moves (R-SUBSTITUTE)

  function answerMove(entry: MoveEntry, result: MoveResult): void {
    entry.result = result;
    keepSupportAnswer(moveKey(entry.request), result);
  }

  function failMove(why: string): void {
    if (!moveStop) return;
    moveStop.record.phase = 'failed';
    moveStop.record.outcome = why;
    moveStop.record.updatedAt = Date.now();
    log.warn('move failed', { orderId, to: moveStop.record.to, why });
    moveStop = null;
  }

  /**
   * A move support asked for: with nothing at the provider, switch at once; else ask the old
   * provider to cancel and wait (stopStep) for its final answer. Answered once one of those is done.
   */
  async function startMove(entry: MoveEntry): Promise<void> {
    // Checked again: the order may have moved on while the request waited (this entry itself is not "in flight").
    const decision = decideMove(state, entry.request, { moveInFlight: moveStop !== null, cancelInFlight: pendingCancel() });
    if (!decision.allowed) return answerMove(entry, { accepted: false, rule: decision.rule, reason: decision.reason });
    const record = newMoveRecord(state, entry.request, Date.now());
    (state.moves ??= []).push(record);
    moveStop = { record, target: entry.request.target, remaining: null, deadline: Date.now() + MOVE_STOP_TIMEOUT_MS };
    if (state.providerOrderId === null) {
      // Nothing placed that we know of: the switch itself holds the dispatch fence.
      const switched = await reconciling.switchService(orderId, { serviceId: record.to.serviceId, providerId: record.to.providerId, quantity: upstreamQuantity(state), fromProviderOrderId: null });
      if (switched.kind === 'switched') {
        moveStop.remaining = upstreamQuantity(state);
        switchToTarget(true);
        return answerMove(entry, { accepted: true, rule: 'R-SUBSTITUTE', message: `moved to service ${record.to.serviceId}; ${record.quantity} sent to its provider`, move: { ...record } });
      }
      if (switched.kind === 'uncertain') {
        failMove('an add to the old provider may be in flight: resolve the dispatch first');
        becomeUncertain('a move interrupted a dispatch in flight');
        return answerMove(entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: record.outcome!, move: { ...record } });
      }
      attachUpstream(switched.providerOrderId, 'dispatch');
      record.from.providerOrderId = switched.providerOrderId;
    }
    let answer: { accepted: boolean; error?: string };
    try {
      answer = await canceling.cancelAtProvider(orderId);
    } catch (error) {
      answer = { accepted: false, error: `the provider could not be reached (${describeFailure(error)}); try again later` };
    }
    const stop = moveStop as MoveStop | null; // handlers may have changed it during the call
    if (stop === null) return answerMove(entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: record.outcome ?? 'the move was given up', move: { ...record } });
    if (stop.remaining === null && !answer.accepted) {
      failMove(`the old provider refused to cancel: ${answer.error}`);
      return answerMove(entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: record.outcome!, move: { ...record } });
    }
    log.info('move: the old provider was asked to cancel', { orderId, providerOrderId: record.from.providerOrderId });
    answerMove(entry, { accepted: true, rule: 'R-SUBSTITUTE', message: `the old provider was asked to cancel; what it leaves undelivered goes to service ${record.to.serviceId}`, move: { ...record } });
  }

  /** Waits for the old upstream order's final answer (or the deadline), then switches. */
  async function stopStep(): Promise<void> {
    const stop = moveStop!;
    if (stop.remaining !== null) {
      if (stop.remaining > 0) {
        await reconciling.switchService(orderId, { serviceId: stop.record.to.serviceId, providerId: stop.record.to.providerId, quantity: stop.remaining, fromProviderOrderId: stop.record.from.providerOrderId });
      }
      return switchToTarget(false);
    }
    if (Date.now() >= stop.deadline) return failMove('the old provider did not confirm the cancel within 24 hours; the order stays with it');
    await waitForChange(stop.deadline - Date.now());
  }

  /** The workflow's side of a switch the row already made: the rest is dispatched as a new order. */
  function switchToTarget(atOnce: boolean): void {
    const stop = moveStop!;
    const remaining = stop.remaining!;
    const record = stop.record;
    moveStop = null;
    record.updatedAt = Date.now();
    if (remaining === 0) {
      // Delivered in full before it stopped: nothing to move, the order is done.
      record.phase = 'failed';
      record.outcome = 'nothing left to move: the old provider delivered the whole order';
      state.remains = 0;
      state.status = 'completed';
      state.timestamps.finishedAt = Date.now();
      return;
    }
    state.serviceId = record.to.serviceId;
    state.providerId = record.to.providerId;
    state.providerOrderId = null;
    state.upstreamQuantity = remaining;
    if (!atOnce) state.remains = remaining;
    state.status = 'pending';
    state.flags.cancelRequested = false;
    dispatch.redispatches = 0;
    dispatch.awaitingSupport = false;
    dispatch.looked = false;
    mirrored.providerOrderId = null; // switchService wrote it
    record.quantity = remaining;
    record.phase = 'moved';
    record.outcome = `${remaining} of ${state.quantity} sent on to service ${record.to.serviceId}`;
    log.info('moved to another service', { orderId, to: record.to, quantity: remaining });
  }

  /**
   * Support's cancel (R-CANCEL-FULL whatever the cancel flag, or R-CANCEL-NO-REFUND): the order ends
   * canceled here and now; the provider is asked to drop its order afterwards (best effort).
   */
  async function processSupportCancel(entry: CancelEntry): Promise<void> {
    if (state.providerOrderId === null) {
      const fence = await reconciling.abandonDispatch(orderId);
      if (fence.kind === 'placed') attachUpstream(fence.providerOrderId, 'dispatch');
      else if (fence.kind === 'uncertain') log.warn('support cancel while an add may have landed at the provider', { orderId });
    }
    const reason = entry.request.reason?.trim();
    failMove('the order was canceled by support');
    if (entry.request.mode === 'no_refund') {
      noRefundReason = reason!;
      endCanceled('R-CANCEL-NO-REFUND', `canceled by support without a refund: ${reason}`);
    } else {
      endCanceled('R-CANCEL-FULL', `canceled by support with a full refund${reason ? `: ${reason}` : ''}`);
    }
    askProviderToDrop = state.providerOrderId !== null;
    closingCancel = {
      entry,
      result: {
        accepted: true,
        rule: entry.rule,
        message: entry.request.mode === 'no_refund' ? `order canceled without a refund: ${reason}` : 'order canceled; its whole charge is refunded',
      },
    };
  }

  async function processCancel(entry: CancelEntry): Promise<void> {
    if (isSupportCancel(entry.request)) return processSupportCancel(entry);
    if (state.providerOrderId === null) {
      // Not (known to be) at the provider: close the dispatch fence first.
      const fence = await reconciling.abandonDispatch(orderId);
      if (fence.kind === 'placed') {
        attachUpstream(fence.providerOrderId, 'dispatch');
      } else if (fence.kind === 'uncertain') {
        becomeUncertain('a cancel interrupted a dispatch in flight');
        const d = decide(entry.request);
        return answerCancel(entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: 'the order is being confirmed with the provider; try again later' } : { accepted: false, rule: d.rule, reason: d.reason });
      } else {
        endUpstreamCanceled('R-CANCEL-FULL', 'canceled before it reached the provider');
        return answerCancel(entry, { accepted: true, rule: entry.rule, message: 'order canceled before it reached the provider; its charge is refunded' });
      }
    }
    if (entry.rule === 'R-CANCEL-STALLED') {
      // Not started for more than 10 days: canceled here, refunded, and the provider asked to drop it.
      endCanceled('R-CANCEL-FULL', 'canceled: not started more than 10 days after it was placed');
      askProviderToDrop = true; // after the refund (finish)
      return answerCancel(entry, { accepted: true, rule: entry.rule, message: 'order canceled: it had not started for more than 10 days; its charge is refunded' });
    }
    // R-CANCEL-REQUEST: the provider decides; the refund follows its final status.
    let answer: { accepted: boolean; error?: string };
    try {
      answer = await canceling.cancelAtProvider(orderId);
    } catch (error) {
      answer = { accepted: false, error: `the provider could not be reached (${describeFailure(error)}); try again later` };
    }
    if (isFinal(state.status)) {
      const d = decide(entry.request);
      return answerCancel(entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: 'the order ended meanwhile' } : { accepted: false, rule: d.rule, reason: d.reason });
    }
    if (answer.accepted) {
      state.flags.cancelRequested = true;
      return answerCancel(entry, { accepted: true, rule: entry.rule, message: 'the provider was asked to cancel; the refund follows its answer' });
    }
    answerCancel(entry, { accepted: false, rule: entry.rule, reason: `the provider refused the cancel: ${answer.error}` });
  }

  /** The one refund of this order, by its final status; then the final mirror. */
  async function finish(): Promise<void> {
    for (const entry of cancels) {
      if (entry.result !== null || entry === closingCancel?.entry) continue;
      const d = decide(entry.request);
      answerCancel(entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: `the order ended ${state.status}` } : { accepted: false, rule: d.rule, reason: d.reason });
    }
    failMove(`the order ended ${state.status}`);
    for (const entry of moves) {
      if (entry.result === null) answerMove(entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: `the order ended ${state.status}` });
    }
    if (resolution && resolution.result === null) {
      answerResolution(resolution, { accepted: false, rule: 'dispatch_uncertain', reason: `the order ended ${state.status}` });
    }
    if (state.refunds.length === 0 && state.status !== 'rejected') {
      if (state.status === 'partial' && state.remains === null) {
        log.error('partial without remains: no automatic refund, support must decide', { orderId });
      }
      const due = refundForFinalStatus({
        status: state.status,
        charge: state.charge,
        quantity: state.quantity,
        remains: state.status === 'partial' ? (state.remains ?? 0) : undefined,
        alreadyRefunded: state.refunded,
        ...(state.status === 'canceled' && cancelCause === 'R-CANCEL-NO-REFUND' ? { noRefundReason: noRefundReason ?? '' } : {}),
      });
      const rule = state.status === 'canceled' && cancelCause !== 'R-CANCEL-NO-REFUND' ? (cancelCause ?? 'R-CANCEL-FULL') : due.rule;
      if (!isZeroMoney(due.amount)) {
        let posted;
        try {
          posted = await paying.refundOrder({ orderId, amount: due.amount, rule, reason: state.rejectReason ?? state.status });
        } catch (error) {
          // A refund the ledger refuses is a bug: fail the workflow task (retried after a fix), never close without it.
          throw new Error(`refund of order ${orderId} failed: ${describeFailure(error)}`);
        }
        state.refunds.push({ amount: posted.amount, rule, idempotencyKey: posted.idempotencyKey, at: posted.at });
        state.refunded = addMoney(state.refunded, posted.amount);
        log.info('refunded', { orderId, amount: posted.amount, rule });
      }
    }
    refreshStartWindow();
    await mirror();
    // Support's cancel is answered once its refund is posted and mirrored: the answer tells the truth.
    if (closingCancel) answerCancel(closingCancel.entry, closingCancel.result);
    if (askProviderToDrop) {
      // Best effort: the order is already canceled and refunded here (R-CANCEL-STALLED).
      try {
        const answer = await canceling.cancelAtProvider(orderId);
        log.info('asked the provider to drop a canceled order', { orderId, answer });
      } catch (error) {
        log.warn('best-effort cancel at the provider failed', { orderId, error: describeFailure(error) });
      }
    }
  }

  /** What the next run needs (continue-as-new). */
  function carry(following: boolean): OrderWorkflowCarried {
    return {
      state,
      placement: placement!,
      mirrored,
      cancelAnswers: [...cancelAnswers].map(([requestId, result]) => ({ requestId, result })),
      dispatch,
      supportAnswers: [...supportAnswers].map(([key, result]) => ({ key, result })),
      ...(following
        ? {
            refills: {
              answers: [...refillAnswers].map(([key, result]) => ({ key, result })),
              mirrored: [...mirroredRefills],
              runs: runsBefore + 1,
            },
          }
        : {}),
    };
  }

  // ---------------------------------------------------------------- refills

  function answerRefill(entry: RefillEntry, result: RefillResult): void {
    entry.result = result;
    refillAnswers.set(entry.key, result);
    while (refillAnswers.size > KEPT_REFILL_ANSWERS) refillAnswers.delete(refillAnswers.keys().next().value!);
  }

  /** A request the validator accepted: the activity's checks, the row, the provider's `refill`. */
  async function processRefill(entry: RefillEntry): Promise<void> {
    state.refills ??= emptyRefills();
    const retried = entry.kind === 'retry' ? findRefill(state, entry.request.refillId) : null;
    if (entry.kind === 'retry') {
      // The order may have moved on while the update waited in the queue.
      const d = decideRetry(state, entry.request, false);
      if (!d.accepted) return answerRefill(entry, refusal(d));
    }
    const requestId = entry.kind === 'request' ? entry.request.requestId : retried!.requestId;
    let sent: SendRefillResult;
    try {
      sent = await refilling.sendRefill({
        orderId,
        requestId,
        requestedBy: entry.kind === 'request' ? entry.request.requestedBy : retried!.requestedBy,
        attempt: retried ? retried.attempts + 1 : 1,
        ...(retried ? { refillId: retried.refillId } : {}),
        check: entry.kind === 'request' ? { startCount: state.startCount, quantity: state.quantity } : null,
        ...(entry.kind === 'retry' && entry.request.reason ? { reason: entry.request.reason } : {}),
      });
    } catch (error) {
      log.warn('refill could not be sent', { orderId, error: describeFailure(error) });
      return answerRefill(entry, { accepted: false, rule: 'R-REFILL-SUPPORT', reason: `the refill could not be requested now (${describeFailure(error)}); try again later` });
    }
    const now = Date.now();
    if (sent.kind === 'refused') {
      if (sent.rule === 'R-REFILL-VOID' && sent.voidReason) state.refills.voidReason = sent.voidReason;
      log.info('refill refused', { orderId, rule: sent.rule, reason: sent.reason });
      return answerRefill(entry, { accepted: false, rule: sent.rule, reason: sent.reason, ...(sent.counts ? { counts: sent.counts } : {}) });
    }
    const record: RefillRecord = {
      refillId: sent.refillId,
      requestId,
      requestedBy: retried ? retried.requestedBy : (entry.request as RefillRequest).requestedBy,
      status: sent.kind === 'sent' ? 'pending' : 'failed',
      providerRefillId: sent.kind === 'sent' ? sent.providerRefillId : null,
      reason: sent.kind === 'sent' ? null : sent.reason,
      attempts: sent.attempt,
      counts: sent.counts ?? retried?.counts ?? null,
      requestedAt: retried?.requestedAt ?? now,
      updatedAt: now,
      completedAt: null,
    };
    if (!retried) {
      state.refills.total++;
      refillsThisRun++;
    }
    putRefill(state, record);
    mirroredRefills.set(record.refillId, refillSnapshot(record)); // the activity wrote the row
    if (sent.kind === 'sent') {
      log.info('refill sent', { orderId, refillId: record.refillId, providerRefillId: record.providerRefillId, attempt: record.attempts });
      return answerRefill(entry, { accepted: true, refill: { ...record } });
    }
    // Not taken by the provider: reported (flags.refillFailed), support can retry it (R-REFILL-SUPPORT).
    // With no count to go by, the provider's refusal is its R-REFILL-NEED answer, passed on.
    const rule = entry.kind === 'retry' || sent.uncertain || record.counts ? 'R-REFILL-SUPPORT' : 'R-REFILL-NEED';
    log.warn('refill not taken by the provider', { orderId, refillId: record.refillId, reason: sent.reason, uncertain: sent.uncertain });
    answerRefill(entry, { accepted: false, rule, reason: sent.reason, refill: { ...record } });
  }

  /** What the sync last heard about refills in flight, for a run that may have missed its signals. */
  async function catchUpRefills(): Promise<void> {
    if (!refillInFlight(state)) return;
    for (const update of await mirroring.refillUpstreamStates(orderId)) {
      if (applyRefillUpdate(state, update, Date.now())) log.info('refill caught up with the sync', { orderId, refillId: update.refillId, status: update.status });
    }
  }

  function shouldStartNewRun(): boolean {
    const info = workflowInfo();
    return (
      refillsThisRun >= REFILLS_PER_RUN ||
      info.continueAsNewSuggested ||
      info.historyLength >= MAX_RUN_HISTORY_EVENTS ||
      Date.now() - runStartedAt >= RUN_MAX_AGE_MS
    );
  }

  /**
   * The refill phase: a completed order with a guarantee waits for refill requests until its window
   * closes (R-REFILL-WINDOW, from the order date; never for a lifetime guarantee) and no refill is in
   * flight, or until its guarantee is found void. Side effects one at a time, as in the main loop.
   */
  async function followGuarantee(): Promise<void> {
    state.refills ??= emptyRefills();
    if (carried?.refills) await catchUpRefills();
    log.info('following the refill guarantee', { orderId, guarantee: state.guarantee, run: runsBefore + 1 });
    for (;;) {
      if (expireStuckRefill(state, Date.now())) log.warn('refill failed: no progress at the provider', { orderId });
      await mirror();
      const entry = refillQueue.find((e) => e.result === null);
      if (entry) {
        await processRefill(entry);
        continue;
      }
      const now = Date.now();
      if (!guaranteeOpen(state, now) && allHandlersFinished()) {
        log.info('refill guarantee over', { orderId, voidReason: state.refills.voidReason, refills: state.refills.total });
        return;
      }
      if (shouldStartNewRun()) {
        await condition(allHandlersFinished);
        if (!queuedRefill()) {
          log.info('refill guarantee continues in a new run', { orderId, refillsThisRun, historyLength: workflowInfo().historyLength });
          return continueAsNew<typeof orderWorkflow>(input, carry(true));
        }
        continue;
      }
      const closesAt = refillWindowClosesAt(state.timestamps.placedAt, state.guarantee);
      const wakes = [runStartedAt + RUN_MAX_AGE_MS];
      if (closesAt !== null && now <= closesAt) wakes.push(closesAt + 1);
      const stuck = stuckAt(state);
      if (stuck !== null) wakes.push(stuck);
      await waitForChange(Math.max(1, Math.min(...wakes) - now));
    }
  }

  // ---------------------------------------------------------------- the order's life

  if (!placement) {
    const placed = await placing.reserveAndDebit(input);
    if (!placed.accepted) {
      state.status = 'rejected';
      state.rejectReason = placed.message;
      state.timestamps.finishedAt = Date.now();
      placement = { accepted: false, code: placed.code, message: placed.message, ...(placed.holderOrderId !== undefined ? { holderOrderId: placed.holderOrderId } : {}) };
      log.info('placement refused', { orderId, code: placed.code });
      await condition(allHandlersFinished);
      return state;
    }
    state.status = 'pending';
    state.timestamps.paidAt = placed.paidAt;
    mirrored.status = 'pending'; // reserveAndDebit wrote it
    placement = { accepted: true, order: JSON.parse(JSON.stringify(state)) as OrderState };
    log.info('placed', { orderId, charge: state.charge });
  }

  if (carried && !isFinal(state.status)) {
    // A providerUpdate that crossed the continue-as-new would be lost: catch up with what the sync
    // last told this order (a repeat changes nothing).
    const upstream = await mirroring.upstreamState(orderId);
    if (upstream) onProviderUpdate(upstream);
  }

  for (;;) {
    if (carried?.refills) break; // a continued run of the refill phase: the order finished long ago
    refreshStartWindow();
    if (isFinal(state.status)) break; // finish() refunds first, then mirrors: a final row has its money back
    await mirror();
    const cancel = cancels.find((c) => c.result === null);
    if (cancel) {
      await processCancel(cancel);
      continue;
    }
    const move = moves.find((m) => m.result === null);
    if (move) {
      await startMove(move);
      continue;
    }
    if (moveStop) {
      await stopStep();
      continue;
    }
    if (resolution && state.status !== 'dispatch_uncertain') {
      answerResolution(resolution, { accepted: false, rule: 'dispatch_uncertain', reason: `the dispatch was settled meanwhile (status ${state.status})` });
      continue;
    }
    if (state.status === 'pending' && state.providerOrderId === null) {
      await dispatchStep();
      continue;
    }
    if (state.status === 'dispatch_uncertain') {
      await reconcileStep();
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      // Refills (a later issue) keep guaranteed orders open for months: start a fresh history.
      await condition(allHandlersFinished);
      if (!interruptPending() && !moveStop && !resolution) return continueAsNew<typeof orderWorkflow>(input, carry(false));
    }
    await waitForChange();
  }

  if (!carried?.refills) await finish();
  // A completed order with a guarantee stays open for its refills (R-REFILL-*); others end here.
  if (carried?.refills || guaranteeOpen(state, Date.now())) await followGuarantee();
  await condition(allHandlersFinished);
  log.info('order finished', { orderId, status: state.status, refunded: state.refunded });
  return state;
}

function describeFailure(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  // ActivityFailure wraps the activity's own failure: report the innermost message.
  while (e && typeof e === 'object' && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return e?.message ?? String(error);
}
