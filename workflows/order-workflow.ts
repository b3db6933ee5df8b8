/**
 * One order, from placement to its final status (issue "The order engine", lifecycle steps 1-6).
 *
 *   place     reserveAndDebit (local activity): row + debit, or a refusal that ends the workflow
 *   dispatch  dispatchOrder: placed | refused (canceled, full refund) | uncertain (reconcile) |
 *             retry_later (Temporal retries with backoff for up to 24 h, then canceled, full refund)
 *   follow    providerUpdate signals from the provider sync move the status forward; a timer only
 *             for the start window (R-START-WINDOW 24 h, R-CANCEL-STALLED 10 days) while not started
 *   finish    one refund by the final status (R-PARTIAL, R-CANCEL-FULL, R-NO-REFUND-DONE)
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
import { decideCancel } from '../domain/cancel-policy';
import { addMoney, isZeroMoney } from '../domain/money';
import { isFinal } from '../domain/order-status';
import { refundForFinalStatus } from '../domain/refund';
import { startWindowState } from '../domain/start-window';
import type {
  CancelRequest,
  CancelResult,
  DispatchResolution,
  OrderInput,
  OrderState,
  PlacementResult,
  ProviderUpdate,
} from './order-contract';
import {
  CANCEL_REFUSED_FAILURE,
  cancelSignal,
  cancelUpdate,
  placementUpdate,
  providerUpdateSignal,
  resolveDispatchSignal,
  stateQuery,
} from './order-messages';
import { applyProviderUpdate, initialOrderState, mirrorPatch, mirrorSnapshot } from './order-state';
import { changedSearchAttributes, orderSearchAttributes } from './order-search-attributes';
import type { MirrorSnapshot } from './order-state';

// ---------------------------------------------------------------- activity options

/** Placement: database only, on the placement's critical path: a local activity, retried until it answers. */
const placing = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Mirror writes: local, so each costs one marker event and no extra workflow task. */
const mirroring = proxyLocalActivities<OrderActivities>({
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

/** Wait after an uncertain `add` before asking orders_by_link, so a late-processed add shows up. */
export const RECONCILE_DELAY_MS = 2 * 60_000;
/** Automatic re-dispatches after "the provider does not have it"; then support decides. */
export const MAX_AUTO_REDISPATCHES = 3;
/** Cancel answers kept by request id (a retried request gets the same answer). */
const KEPT_CANCEL_ANSWERS = 20;

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
}

interface DispatchProgress {
  /** Re-dispatches made after a reconcile found nothing upstream. */
  redispatches: number;
  /** The uncertainty needs support's resolveDispatch (lookup unsupported, ambiguous, or retries used up). */
  awaitingSupport: boolean;
  /** orders_by_link already asked in this uncertainty episode. */
  looked: boolean;
}

/** Why the order ended canceled: decides the refund's rule. */
type CancelCause = 'R-CANCEL-FULL' | 'R-AUTO-CANCEL';

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
  let resolution: DispatchResolution | null = null;
  let cancelCause: CancelCause | null = null;
  let dispatchScope: CancellationScope | null = null;
  /** A local cancel of an order the provider has: ask it to drop the order once the refund is done. */
  let askProviderToDrop = false;
  /** Bumped by every handler that changed something the main loop must look at. */
  let version = 0;

  // ---------------------------------------------------------------- cancel decisions

  function decide(request: CancelRequest): { allowed: true; rule: string } | { allowed: false; rule: string; reason: string } {
    if (request.requestedBy.kind === 'user' && request.requestedBy.userId !== state.userId) {
      return { allowed: false, rule: 'R-CANCEL-REQUEST', reason: 'only the order\'s owner can cancel it' };
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
    log.info('cancel accepted', { orderId, rule, requestedBy: request.requestedBy });
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
    const before = state.status;
    const effect = applyProviderUpdate(state, update, Date.now());
    if (effect === 'ignored') return;
    if (effect === 'moved') {
      log.info('provider update', { orderId, from: before, to: state.status, startCount: state.startCount, remains: state.remains });
      if (state.status === 'canceled') cancelCause = state.flags.cancelRequested ? 'R-CANCEL-FULL' : 'R-AUTO-CANCEL';
    }
    version++;
  }

  setHandler(providerUpdateSignal, onProviderUpdate);

  setHandler(resolveDispatchSignal, (r) => {
    if (state.status !== 'dispatch_uncertain') {
      log.warn('resolveDispatch ignored: dispatch is not uncertain', { orderId, status: state.status, action: r.action });
      return;
    }
    resolution = r;
    version++;
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

  function endCanceled(cause: CancelCause, reason: string): void {
    if (isFinal(state.status)) return;
    state.status = 'canceled';
    state.rejectReason = reason;
    state.timestamps.finishedAt = Date.now();
    cancelCause = cause;
    log.info('order canceled', { orderId, cause, reason });
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
        endCanceled('R-AUTO-CANCEL', `the provider refused the order: ${result.reason}`);
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
        if (!cancels.some((c) => c.result === null)) endCanceled('R-CANCEL-FULL', `the order was closed before dispatch (${result.status})`);
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
      else if (!cancels.some((c) => c.result === null)) throw error; // the workflow itself is being canceled
    } finally {
      dispatchScope = null;
    }
    if (result === null && failure === null) return; // interrupted by a cancel: processCancel takes over
    if (result === null) {
      // The retries ran out (24 h of "try later") or a non-retryable failure: close the fence.
      const fence = await reconciling.abandonDispatch(orderId);
      if (fence.kind === 'placed') result = { kind: 'placed', providerOrderId: fence.providerOrderId, answer: null, replayed: true };
      else if (fence.kind === 'uncertain') result = { kind: 'uncertain', reason: failure!, answer: null };
      else return endCanceled('R-CANCEL-FULL', `the provider did not take the order: ${failure}`);
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

  async function applyResolution(): Promise<void> {
    const r = resolution!;
    resolution = null;
    log.info('resolveDispatch', { orderId, action: r.action, by: r.by.userId });
    switch (r.action) {
      case 'attach': {
        const attached = await reconciling.attachProviderOrder(orderId, r.providerOrderId, r.by);
        if (attached.attached) attachUpstream(r.providerOrderId, 'attach');
        else log.warn('resolveDispatch attach refused', { orderId, reason: attached.reason });
        return;
      }
      case 'redispatch':
        await reconciling.resetDispatch(orderId);
        dispatch.awaitingSupport = false;
        state.status = 'pending';
        return;
      case 'cancel':
        return endCanceled('R-CANCEL-FULL', `canceled by support while its dispatch was uncertain${r.reason ? `: ${r.reason}` : ''}`);
    }
  }

  async function processCancel(entry: CancelEntry): Promise<void> {
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
        endCanceled('R-CANCEL-FULL', 'canceled before it reached the provider');
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
      if (entry.result !== null) continue;
      const d = decide(entry.request);
      answerCancel(entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: `the order ended ${state.status}` } : { accepted: false, rule: d.rule, reason: d.reason });
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
      });
      const rule = state.status === 'canceled' ? (cancelCause ?? 'R-CANCEL-FULL') : due.rule;
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
    refreshStartWindow();
    if (isFinal(state.status)) break; // finish() refunds first, then mirrors: a final row has its money back
    await mirror();
    const cancel = cancels.find((c) => c.result === null);
    if (cancel) {
      await processCancel(cancel);
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
      if (cancels.every((c) => c.result !== null)) {
        return continueAsNew<typeof orderWorkflow>(input, {
          state,
          placement: placement!,
          mirrored,
          cancelAnswers: [...cancelAnswers].map(([requestId, result]) => ({ requestId, result })),
          dispatch,
        });
      }
    }
    await waitForChange();
  }

  await finish();
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
