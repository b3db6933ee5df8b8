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
 *
 * The parts, one file each, share one OrderRun (order-run.ts): order-cancel.ts, order-dispatch.ts,
 * order-move.ts, order-provider-updates.ts, order-refills.ts, order-finish.ts; the activities' options
 * are in order-activity-options.ts.
 */
import { allHandlersFinished, condition, continueAsNew, log, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ReserveAndDebitResult } from '../activities/order-activities';
import { isFinal } from '../domain/order-status';
import { mirroring, placing } from './order-activity-options';
import { processCancel, registerCancelHandlers } from './order-cancel';
import type { OrderInput, OrderState } from './order-contract';
import { answerResolution, dispatchStep, reconcileStep, registerResolveDispatchHandler } from './order-dispatch';
import { decideDripPatchesAtStart, dripFeedStep } from './order-drip-feed';
import { finish } from './order-finish';
import { placementUpdate, stateQuery } from './order-messages';
import { registerMoveHandler, startMove, stopStep } from './order-move';
import { onProviderUpdate, registerProviderUpdateHandler } from './order-provider-updates';
import { followGuarantee, registerRefillHandlers } from './order-refills';
import { carry, createOrderRun, interruptPending, mirror, refreshStartWindow, waitForChange } from './order-run';
import type { OrderRun, OrderWorkflowCarried } from './order-run';
import { guaranteeOpen } from './refill-state';
import { scheduleStep } from './order-schedule';
import { subscriptionStep } from './order-subscription';

// What tests, the client and the bench import from here.
export { DISPATCH_RETRY } from './order-activity-options';
export { MAX_AUTO_REDISPATCHES, RECONCILE_DELAY_MS } from './order-dispatch';
export { MOVE_STOP_TIMEOUT_MS } from './order-move';
export { MAX_RUN_HISTORY_EVENTS, REFILLS_PER_RUN, RUN_MAX_AGE_MS } from './order-refills';
export type { OrderWorkflowCarried } from './order-run';

/**
 * The awaits below stay where they were when this was one function: an extra `await` of a helper
 * moves the commands that follow by a microtask, after the CancelTimer a canceled start-window timer
 * emits one microtask after refreshStartWindow() (histories of earlier runs would not replay).
 */
export async function orderWorkflow(input: OrderInput, carried?: OrderWorkflowCarried): Promise<OrderState> {
  const run = createOrderRun(input, carried);
  const { orderId, state, cancels, moves } = run;
  registerHandlers(run);
  decideDripPatchesAtStart(run);

  if (!run.placement) {
    const placed = await placing.reserveAndDebit(input);
    if (!recordPlacement(run, placed)) {
      await condition(allHandlersFinished);
      return state;
    }
  }

  if (carried && !isFinal(state.status)) {
    // A providerUpdate that crossed the continue-as-new would be lost: catch up with what the sync
    // last told this order (a repeat changes nothing).
    const upstream = await mirroring.upstreamState(orderId);
    if (upstream) onProviderUpdate(run, upstream);
  }

  for (;;) {
    if (carried?.refills) break; // a continued run of the refill phase: the order finished long ago
    refreshStartWindow(run);
    if (isFinal(state.status)) break; // finish() refunds first, then mirrors: a final row has its money back
    await mirror(run);
    const cancel = cancels.find((c) => c.result === null);
    if (cancel) {
      await processCancel(run, cancel);
      continue;
    }
    const move = moves.find((m) => m.result === null);
    if (move) {
      await startMove(run, move);
      continue;
    }
    if (run.moveStop) {
      await stopStep(run);
      continue;
    }
    if (run.resolution && state.status !== 'dispatch_uncertain') {
      answerResolution(run, run.resolution, { accepted: false, rule: 'dispatch_uncertain', reason: `the dispatch was settled meanwhile (status ${state.status})` });
      continue;
    }
    // Order types (issue 12); a Default order has neither, and its commands stay as they were.
    if (state.executeAt !== undefined && (await scheduleStep(run))) continue;
    if (state.dripFeed && (await dripFeedStep(run))) continue;
    if (state.status === 'pending' && state.providerOrderId === null) {
      await dispatchStep(run);
      continue;
    }
    if (state.status === 'dispatch_uncertain') {
      await reconcileStep(run);
      continue;
    }
    if (input.subscription && (await subscriptionStep(run))) continue; // at the provider: follows its posts
    if (workflowInfo().continueAsNewSuggested) {
      // Refills (a later issue) keep guaranteed orders open for months: start a fresh history.
      await condition(allHandlersFinished);
      if (!interruptPending(run) && !run.moveStop && !run.resolution) return continueAsNew<typeof orderWorkflow>(input, carry(run, false));
    }
    await waitForChange(run);
  }

  if (!carried?.refills) await finish(run);
  // A completed order with a guarantee stays open for its refills (R-REFILL-*); others end here.
  if (carried?.refills || guaranteeOpen(state, Date.now())) await followGuarantee(run);
  await condition(allHandlersFinished);
  log.info('order finished', { orderId, status: state.status, refunded: state.refunded });
  return state;
}

/** Every message the order answers, in the order they are registered. */
function registerHandlers(run: OrderRun): void {
  setHandler(stateQuery, () => run.state);

  setHandler(placementUpdate, async () => {
    await condition(() => run.placement !== null);
    return run.placement!;
  });

  registerCancelHandlers(run);
  registerProviderUpdateHandler(run);
  registerMoveHandler(run);
  registerResolveDispatchHandler(run);
  registerRefillHandlers(run);
}

/** reserveAndDebit's answer: the order is pending (true), or refused and `rejected` (false: the workflow ends). */
function recordPlacement(run: OrderRun, placed: ReserveAndDebitResult): boolean {
  const { orderId, state } = run;
  if (!placed.accepted) {
    state.status = 'rejected';
    state.rejectReason = placed.message;
    state.timestamps.finishedAt = Date.now();
    run.placement = { accepted: false, code: placed.code, message: placed.message, ...(placed.holderOrderId !== undefined ? { holderOrderId: placed.holderOrderId } : {}) };
    log.info('placement refused', { orderId, code: placed.code });
    return false;
  }
  state.status = 'pending';
  state.timestamps.paidAt = placed.paidAt;
  run.mirrored.status = 'pending'; // reserveAndDebit wrote it
  run.placement = { accepted: true, order: JSON.parse(JSON.stringify(state)) as OrderState };
  log.info('placed', { orderId, charge: state.charge });
  return true;
}
