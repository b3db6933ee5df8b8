/**
 * Cancels: a user's by the terms (R-CANCEL-REQUEST, R-CANCEL-STALLED) and support's with a full
 * refund or none (R-CANCEL-FULL, R-CANCEL-NO-REFUND). The `cancel` update and the `requestCancel`
 * signal decide and record; the main loop carries a cancel out (processCancel), one at a time.
 */
import { ApplicationFailure, condition, log, setHandler, sleep } from '@temporalio/workflow';
import type { AbandonResult } from '../activities/order-activities';
import { decideCancel, decideSupportCancel } from '../domain/cancel-policy';
import type { CancelDecision } from '../domain/cancel-policy';
import { isFinal } from '../domain/order-status';
import { canceling, reconciling } from './order-activity-options';
import type { CancelRequest, CancelResult } from './order-contract';
import { CANCEL_REFUSED_FAILURE, cancelSignal, cancelUpdate } from './order-messages';
import { processDripCancel } from './order-drip-feed';
import { failMove } from './order-move';
import { attachUpstream, becomeUncertain, describeFailure, endCanceled, endUpstreamCanceled, rememberAnswer } from './order-run';
import type { CancelEntry, OrderRun } from './order-run';

/** Cancel answers kept by request id (a retried request gets the same answer). */
const KEPT_CANCEL_ANSWERS = 20;

// ---------------------------------------------------------------- cancel decisions

const isSupportCancel = (request: CancelRequest) => (request.mode ?? 'terms') !== 'terms';

export function decide(run: OrderRun, request: CancelRequest): CancelDecision {
  const { state, cancels, moves } = run;
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
  if (!isFinal(state.status) && (run.moveStop || moves.some((m) => m.result === null))) {
    return { allowed: false, rule: 'R-SUBSTITUTE', reason: 'the order is being moved to another service by support; try again later' };
  }
  return decideCancel({
    status: state.status,
    placedAt: state.timestamps.placedAt,
    startedAt: state.timestamps.startedAt,
    now: Date.now(),
    serviceCancelable: state.cancelable,
    suspended: false,
    cancelRequested: state.flags.cancelRequested || state.dripFeed?.stopped === true || cancels.some((c) => c.result === null),
    ...(state.executeAt !== undefined && state.timestamps.dispatchedAt === null ? { scheduledUntil: state.executeAt } : {}),
  });
}

function knownAnswer(run: OrderRun, request: CancelRequest): CancelResult | CancelEntry | undefined {
  if (!request.requestId) return undefined;
  return run.cancelAnswers.get(request.requestId) ?? run.cancels.find((c) => c.request.requestId === request.requestId);
}

function enqueueCancel(run: OrderRun, request: CancelRequest, rule: string): CancelEntry {
  const entry: CancelEntry = { request, rule, result: null };
  run.cancels.push(entry);
  run.version++;
  // A dispatch retrying in the background must not hold the cancel up: interrupt it.
  run.dispatchScope?.cancel();
  log.info('cancel accepted', { orderId: run.orderId, rule, mode: request.mode ?? 'terms', requestedBy: request.requestedBy, reason: request.reason });
  return entry;
}

export function answerCancel(run: OrderRun, entry: CancelEntry, result: CancelResult): void {
  entry.result = result;
  recordCancel(run, entry.request, result);
}

function recordCancel(run: OrderRun, request: CancelRequest, result: CancelResult): void {
  const { cancelAnswers } = run;
  run.state.lastCancel = {
    requestId: request.requestId ?? null,
    requestedBy: request.requestedBy,
    accepted: result.accepted,
    rule: result.rule,
    message: result.accepted ? result.message : result.reason,
    at: Date.now(),
  };
  if (request.requestId) {
    rememberAnswer(cancelAnswers, request.requestId, result, KEPT_CANCEL_ANSWERS);
  }
}

// ---------------------------------------------------------------- handlers

/** The `cancel` update (waits for the loop's answer) and the `requestCancel` signal. */
export function registerCancelHandlers(run: OrderRun): void {
  setHandler(
    cancelUpdate,
    async (request) => {
      const known = knownAnswer(run, request);
      if (known && !('request' in known)) return known;
      let entry = known as CancelEntry | undefined;
      if (!entry) {
        const decision = decide(run, request);
        if (!decision.allowed) {
          const refused: CancelResult = { accepted: false, rule: decision.rule, reason: decision.reason };
          recordCancel(run, request, refused);
          return refused;
        }
        entry = enqueueCancel(run, request, decision.rule);
      }
      const waiting = entry;
      await condition(() => waiting.result !== null);
      return waiting.result!;
    },
    {
      // Refused at once, with the rule and the reason; a refused update leaves no trace in history.
      validator: (request) => {
        if (knownAnswer(run, request)) return;
        const decision = decide(run, request);
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
    if (knownAnswer(run, request)) return; // the same request again
    const decision = decide(run, request);
    if (decision.allowed) {
      enqueueCancel(run, request, decision.rule);
    } else {
      recordCancel(run, request, { accepted: false, rule: decision.rule, reason: decision.reason });
      log.info('cancel signal refused', { orderId: run.orderId, rule: decision.rule, reason: decision.reason });
      run.version++;
    }
  });
}

// ---------------------------------------------------------------- main-loop steps

/**
 * How long support's cancel waits for an `add` in flight, step by step: the attempt answers within
 * the provider timeout (15 s), and its activity's start-to-close (1 min) ends it even if its worker
 * died, so 63 s in all covers it.
 */
const ADD_IN_FLIGHT_WAITS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

/**
 * Support canceled while a dispatch attempt was mid-call: its answer is waited for, so an order the
 * provider took is known, kept on the order and asked to be dropped, not left running upstream
 * unknown to the workflow while its charge is refunded (seen in the simulation: seed 42, 3,000
 * orders over 18 days, order 1454). A lost answer (recorded by the attempt) ends the wait at once.
 */
async function awaitAddInFlight(orderId: number, first: AbandonResult): Promise<AbandonResult> {
  let fence = first;
  for (const ms of ADD_IN_FLIGHT_WAITS_MS) {
    if (fence.kind !== 'uncertain' || fence.attemptAnswered) return fence;
    await sleep(ms);
    fence = await reconciling.abandonDispatch(orderId);
  }
  return fence;
}

/**
 * Support's cancel (R-CANCEL-FULL whatever the cancel flag, or R-CANCEL-NO-REFUND): the order ends
 * canceled here and now; the provider is asked to drop its order afterwards (best effort).
 */
async function processSupportCancel(run: OrderRun, entry: CancelEntry): Promise<void> {
  const { orderId, state } = run;
  if (state.providerOrderId === null) {
    let fence = await reconciling.abandonDispatch(orderId);
    // Only a fence that says so waits (a result recorded before the field existed replays as before).
    if (fence.kind === 'uncertain' && fence.attemptAnswered === false) fence = await awaitAddInFlight(orderId, fence);
    if (fence.kind === 'placed') attachUpstream(run, fence.providerOrderId, 'dispatch');
    else if (fence.kind === 'uncertain') log.warn('support cancel while an add may have landed at the provider', { orderId });
  }
  const reason = entry.request.reason?.trim();
  failMove(run, 'the order was canceled by support');
  if (entry.request.mode === 'no_refund') {
    run.noRefundReason = reason!;
    endCanceled(run, 'R-CANCEL-NO-REFUND', `canceled by support without a refund: ${reason}`);
  } else {
    endCanceled(run, 'R-CANCEL-FULL', `canceled by support with a full refund${reason ? `: ${reason}` : ''}`);
  }
  run.askProviderToDrop = state.providerOrderId !== null;
  run.closingCancel = {
    entry,
    result: {
      accepted: true,
      rule: entry.rule,
      message: entry.request.mode === 'no_refund' ? `order canceled without a refund: ${reason}` : 'order canceled; its whole charge is refunded',
    },
  };
}

export async function processCancel(run: OrderRun, entry: CancelEntry): Promise<void> {
  const { orderId, state } = run;
  if (isSupportCancel(entry.request)) return processSupportCancel(run, entry);
  if (state.dripFeed) return processDripCancel(run, entry, (result) => answerCancel(run, entry, result));
  if (state.providerOrderId === null) {
    // Not (known to be) at the provider: close the dispatch fence first.
    const fence = await reconciling.abandonDispatch(orderId);
    if (fence.kind === 'placed') {
      attachUpstream(run, fence.providerOrderId, 'dispatch');
    } else if (fence.kind === 'uncertain') {
      becomeUncertain(run, 'a cancel interrupted a dispatch in flight');
      const d = decide(run, entry.request);
      return answerCancel(run, entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: 'the order is being confirmed with the provider; try again later' } : { accepted: false, rule: d.rule, reason: d.reason });
    } else {
      endUpstreamCanceled(run, 'R-CANCEL-FULL', 'canceled before it reached the provider');
      return answerCancel(run, entry, { accepted: true, rule: entry.rule, message: 'order canceled before it reached the provider; its charge is refunded' });
    }
  }
  if (entry.rule === 'R-CANCEL-STALLED') {
    // Not started for more than 10 days: canceled here, refunded, and the provider asked to drop it.
    endCanceled(run, 'R-CANCEL-FULL', 'canceled: not started more than 10 days after it was placed');
    run.askProviderToDrop = true; // after the refund (finish)
    return answerCancel(run, entry, { accepted: true, rule: entry.rule, message: 'order canceled: it had not started for more than 10 days; its charge is refunded' });
  }
  // R-CANCEL-REQUEST: the provider decides; the refund follows its final status.
  let answer: { accepted: boolean; error?: string };
  try {
    answer = await canceling.cancelAtProvider(orderId);
  } catch (error) {
    answer = { accepted: false, error: `the provider could not be reached (${describeFailure(error)}); try again later` };
  }
  if (isFinal(state.status)) {
    const d = decide(run, entry.request);
    return answerCancel(run, entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: 'the order ended meanwhile' } : { accepted: false, rule: d.rule, reason: d.reason });
  }
  if (answer.accepted) {
    state.flags.cancelRequested = true;
    return answerCancel(run, entry, { accepted: true, rule: entry.rule, message: 'the provider was asked to cancel; the refund follows its answer' });
  }
  answerCancel(run, entry, { accepted: false, rule: entry.rule, reason: `the provider refused the cancel: ${answer.error}` });
}
