/**
 * Drip-feed run by the engine (issue 12, OrderInput.dripFeed mode 'engine'): the order's workflow
 * sends `runs` provider orders of `quantityPerRun`, one at a time, the next `intervalMinutes` after
 * the previous one was sent (a durable timer). Each run is dispatched like any order (dispatchOrder's
 * fence; the orders row points at the run in flight) and followed by the batched provider sync, whose
 * providerUpdate signals land in onRunUpdate. The order's status and counters come from its runs
 * (domain/drip-feed.ts); the order row holds the link until the last run ends (R-ONE-ACTIVE-PER-LINK).
 *
 * Money: each run's undelivered part is refunded when the run ends (ledger key
 * order-<id>:refund:run-<n>); a cancel stops the runs not yet sent and refunds them at once
 * (order-<id>:refund:unsent), the run in flight is asked to cancel and its end decides its refund
 * (R-PARTIAL / R-CANCEL-FULL). Support's full-refund cancel gives back the rest of the charge.
 */
import { CancellationScope, allHandlersFinished, condition, continueAsNew, isCancellation, log, patched, workflowInfo } from '@temporalio/workflow';
import type { DispatchAdd } from '../activities/order-activities';
import {
  advanceRun,
  carriedPartRefund,
  currentRun,
  deliveredTotal,
  feedDone,
  feedOutcome,
  isRunFinal,
  newRun,
  nextRunAt,
  runDelivered,
  runRefund,
  unsentQuantity,
  unsentRefund,
} from '../domain/drip-feed';
import type { DripFeedProgress, DripRun } from '../domain/drip-feed';
import { addMoney, isZeroMoney } from '../domain/money';
import { fullRefund } from '../domain/refund';
import type { RuleId } from '../domain/rule-ids';
import { canceling, dispatching, mirroring, paying, reconciling } from './order-activity-options';
import type { CancelResult, OrderInput, ProviderUpdate } from './order-contract';
import { becomeUncertain, carry, describeFailure, interruptPending, waitForChange } from './order-run';
import type { CancelEntry, OrderRun } from './order-run';

/** patched(): histories from before a drip-feed ended early took its status from its runs replay without it. */
export const DRIP_ENDS_BY_ITS_RUNS_PATCH = 'drip-feed-ends-by-its-runs';

/** patched(): histories from before the refund parts carried their rounding (carriedPartRefund) replay with per-part rounding. */
export const DRIP_CARRIED_ROUNDING_PATCH = 'drip-feed-carried-rounding';

/** patched(): histories from before a stalled drip-feed's cancel ended its run in flight replay on the old path. */
export const DRIP_STALLED_CANCEL_PATCH = 'drip-feed-stalled-cancel-ends-run';

export const isEngineDripFeed = (input: OrderInput) => input.dripFeed?.mode === 'engine';

/** A long feed continues as new after this many runs begun in one workflow run (~25 events each)... */
export const DRIP_RUNS_PER_WORKFLOW_RUN = 10;
/** ...or once the run's history holds this many events (or Temporal suggests it). */
export const DRIP_MAX_RUN_HISTORY_EVENTS = 2_000;
/** patched() id: histories from before drip-feeds continued as new replay without it. */
export const DRIP_CONTINUE_AS_NEW_PATCH = 'drip-feed-continue-as-new';

/** patched() id, asked once in a run's first activation: the run has every drip-feed patch above. */
export const DRIP_PATCHES_AT_START = 'drip-feed-patches-decided-at-start';

/**
 * An engine drip-feed decides its patches when its run begins, not where each one matters: there a
 * `patched()` may follow a local activity's result, and the SDK can hand that result to the code one
 * workflow task later than its marker (when a query rode on the task and the activity resolved while
 * the query was answered: it completes the task with the marker and forces a new one). Replay hands
 * it over before that task boundary, before the SDK has read the patch marker the first execution
 * wrote in the next task, so the late `patched()` said false on replay and the history failed as
 * nondeterministic (the simulation's seed 42, order 2302; test/workflows/query-during-local-activity.test.ts).
 * Asked in the first activation, the answer is the same on replay. Runs begun before this existed
 * (no such marker in their first task) keep asking each patch where it matters, as they did.
 */
export function decideDripPatchesAtStart(run: OrderRun): void {
  if (isEngineDripFeed(run.input)) run.dripPatchedAtStart = patched(DRIP_PATCHES_AT_START);
}

/** Whether the run takes the patched path: every patch for a run begun on this code, else asked here. */
function dripPatched(run: OrderRun, patchId: string): boolean {
  return run.dripPatchedAtStart || patched(patchId);
}

/**
 * A drip-feed passed to its provider (mode 'provider'): one upstream order of quantityPerRun × runs,
 * `runs` and `interval` forwarded; followed, refunded and refilled like a Default order on its total.
 */
export function providerDripAdd(input: OrderInput): DispatchAdd | undefined {
  const drip = input.dripFeed;
  if (drip?.mode !== 'provider') return undefined;
  return { quantity: drip.quantityPerRun, fields: { runs: drip.runs, interval: drip.intervalMinutes } };
}

const feedOf = (run: OrderRun): DripFeedProgress => run.state.dripFeed!;

/**
 * The main loop's step for a drip-feed: dispatch the run due, settle a run that ended, end the feed,
 * or wait for the next run's time. False: a run is in flight (or its dispatch is being reconciled):
 * the loop waits for the sync as for any order.
 */
export async function dripFeedStep(run: OrderRun): Promise<boolean> {
  const { state } = run;
  const feed = feedOf(run);
  const current = currentRun(feed);
  if (state.status === 'dispatch_uncertain') return false; // reconcileStep settles it, then we adopt
  if (current && !isRunFinal(current) && current.providerOrderId === null) {
    if (state.providerOrderId !== null) {
      // Attached by reconcile or support (resolveDispatch): that upstream order is this run.
      current.sentAt ??= Date.now();
      adopt(run, current, state.providerOrderId);
      await mirrorRun(run, current);
      return true;
    }
    await dispatchRun(run, current);
    return true;
  }
  const unsettled = feed.list.find((r) => isRunFinal(r) && !r.settled);
  if (unsettled) {
    await settleRun(run, unsettled);
    return true;
  }
  if (feed.stopped && feed.unsentRefund === null) {
    await refundUnsent(run, 'R-CANCEL-FULL');
    return true;
  }
  if (feedDone(feed)) {
    endFeed(run);
    return true;
  }
  const at = nextRunAt(feed);
  if (at === null) return false; // a run in flight: the sync tells us when it moves
  // Between two runs (the last one ended and settled, none in flight): the place to start a fresh history.
  if (dripHistoryFull(run) && dripPatched(run, DRIP_CONTINUE_AS_NEW_PATCH)) {
    await condition(allHandlersFinished);
    if (!interruptPending(run) && !run.moveStop && !run.resolution) {
      feed.runsAtRunStart = feed.list.length;
      log.info('drip-feed continues in a new run', { orderId: run.orderId, runsBegun: feed.list.length, of: feed.runs, historyLength: workflowInfo().historyLength });
      // The main loop mirrored the row before this step: the next run starts from the same snapshot.
      return continueAsNew<(input: OrderInput, carried: ReturnType<typeof carry>) => Promise<unknown>>(run.input, carry(run, false));
    }
    return true; // a message came meanwhile: the main loop handles it first
  }
  const wait = at - Date.now();
  if (wait > 0) {
    await waitForChange(run, wait); // the durable timer between runs (a message wakes it early)
    return true;
  }
  await beginRun(run);
  return true;
}

/**
 * A feed's history grows ~25 events a run: a long one continues as new every
 * DRIP_RUNS_PER_WORKFLOW_RUN runs (or when the history is large), carrying the feed (every run, its
 * provider order, its refund), so no run is sent twice or skipped across it.
 */
function dripHistoryFull(run: OrderRun): boolean {
  const feed = feedOf(run);
  const info = workflowInfo();
  return feed.list.length - (feed.runsAtRunStart ?? 0) >= DRIP_RUNS_PER_WORKFLOW_RUN || info.historyLength >= DRIP_MAX_RUN_HISTORY_EVENTS || info.continueAsNewSuggested;
}

async function beginRun(run: OrderRun): Promise<void> {
  const { orderId, state } = run;
  const feed = feedOf(run);
  const next = newRun(feed);
  feed.list.push(next);
  const begun = await mirroring.beginDripRun(orderId, { index: next.index, quantity: next.quantity });
  state.providerOrderId = null;
  run.mirrored.providerOrderId = null; // the activity wrote it
  run.dispatch.redispatches = 0;
  if (begun.kind === 'sent') {
    next.sentAt = Date.now();
    adopt(run, next, begun.providerOrderId);
  }
  log.info('drip-feed run begins', { orderId, run: next.index, of: feed.runs, quantity: next.quantity });
}

function adopt(run: OrderRun, current: DripRun, providerOrderId: string): void {
  const { state } = run;
  current.providerOrderId = providerOrderId;
  state.providerOrderId = providerOrderId;
  state.timestamps.dispatchedAt ??= Date.now();
  // Back from a reconcile (which leaves it pending): a feed that had started stays in progress.
  if (state.status === 'pending' && state.timestamps.startedAt !== null) state.status = 'in_progress';
}

async function dispatchRun(run: OrderRun, current: DripRun): Promise<void> {
  const { orderId, state } = run;
  const scope = new CancellationScope();
  run.dispatchScope = scope;
  let result;
  let failure: string | null = null;
  try {
    result = await scope.run(() => dispatching.dispatchOrder(orderId));
  } catch (error) {
    if (!isCancellation(error)) failure = describeFailure(error);
    else if (!interruptPending(run)) throw error;
  } finally {
    run.dispatchScope = null;
  }
  if (!result && failure === null) return; // a cancel interrupted it: processDripCancel takes over
  current.sentAt = Date.now();
  if (!result) {
    // "Try later" for 24 h, or a failure that will not pass: close the fence, as for any order.
    const fence = await reconciling.abandonDispatch(orderId);
    if (fence.kind === 'placed') result = { kind: 'placed' as const, providerOrderId: fence.providerOrderId, answer: null, replayed: true };
    else if (fence.kind === 'uncertain') result = { kind: 'uncertain' as const, reason: failure!, answer: null };
    else result = { kind: 'refused' as const, reason: failure!, code: 'unavailable', answer: null };
  }
  if ('answer' in result && result.answer) {
    state.lastProviderAnswer = result.answer;
    run.mirrored.lastProviderAnswer = JSON.stringify(result.answer);
  }
  switch (result.kind) {
    case 'placed':
      adopt(run, current, result.providerOrderId);
      run.mirrored.providerOrderId = result.providerOrderId; // the activity wrote it
      log.info('drip-feed run sent', { orderId, run: current.index, providerOrderId: result.providerOrderId });
      break;
    case 'refused':
    case 'abandoned':
      // R-AUTO-CANCEL: the provider would not take this run; it is refunded, the feed goes on.
      current.status = 'canceled';
      current.finishedAt = Date.now();
      current.reason = result.kind === 'refused' ? `the provider refused the run: ${result.reason}` : `the run was closed before it was sent (${result.status})`;
      log.info('drip-feed run refused', { orderId, run: current.index, reason: current.reason });
      break;
    case 'uncertain':
      // Reconciled like any order's add (orders_by_link, then support); the loop adopts what it finds.
      state.status = 'dispatch_uncertain';
      becomeUncertain(run, result.reason);
      break;
  }
  await mirrorRun(run, current);
}

/** A final run: its undelivered part back (exactly once: the ledger key names the run). */
async function settleRun(run: OrderRun, target: DripRun): Promise<void> {
  const { orderId, state } = run;
  const due = runRefund(state.charge, state.quantity, target, state.flags.cancelRequested || feedOf(run).stopped);
  if (dripPatched(run, DRIP_CARRIED_ROUNDING_PATCH)) due.amount = carriedPartRefund(state.charge, state.quantity, feedOf(run), target.quantity - runDelivered(target));
  if (!isZeroMoney(due.amount)) {
    const posted = await refund(run, due.amount, due.rule, `run-${target.index}`, target.reason ?? `run ${target.index} ended ${target.status}`);
    target.refund = { amount: posted, rule: due.rule };
  }
  target.settled = true;
  // The parent's counters follow its runs.
  const remaining = state.quantity - deliveredTotal(feedOf(run));
  state.remains = remaining;
  log.info('drip-feed run settled', { orderId, run: target.index, status: target.status, refund: due.amount });
  await mirrorRun(run, target);
}

async function refundUnsent(run: OrderRun, rule: RuleId): Promise<void> {
  const { state } = run;
  const feed = feedOf(run);
  const amount = dripPatched(run, DRIP_CARRIED_ROUNDING_PATCH)
    ? carriedPartRefund(state.charge, state.quantity, feed, unsentQuantity(feed))
    : unsentRefund(state.charge, state.quantity, feed);
  const posted = isZeroMoney(amount) ? amount : await refund(run, amount, rule, 'unsent', `${feed.runs - feed.list.length} runs not sent`);
  feed.unsentRefund = { amount: posted, rule };
}

async function refund(run: OrderRun, amount: string, rule: RuleId, part: string, reason: string): Promise<string> {
  const { orderId, state } = run;
  let posted;
  try {
    posted = await paying.refundOrder({ orderId, amount, rule, reason, part });
  } catch (error) {
    // A refund the ledger refuses is a bug: fail the workflow task (retried after a fix), never skip it.
    throw new Error(`refund of order ${orderId} (${part}) failed: ${describeFailure(error)}`);
  }
  state.refunds.push({ amount: posted.amount, rule, idempotencyKey: posted.idempotencyKey, at: posted.at });
  state.refunded = addMoney(state.refunded, posted.amount);
  return posted.amount;
}

/** Every run ended and none is left to send: the order's final status comes from its runs. */
function endFeed(run: OrderRun): void {
  const { orderId, state } = run;
  const feed = feedOf(run);
  const outcome = feedOutcome(feed, state.quantity);
  state.status = outcome.status;
  state.remains = outcome.remains;
  state.timestamps.finishedAt = Date.now();
  if (outcome.status === 'canceled') {
    run.cancelCause = feed.stopped ? 'R-CANCEL-FULL' : 'R-AUTO-CANCEL';
    state.rejectReason ??= feed.stopped ? 'canceled before any run delivered' : 'the provider delivered none of the runs';
  }
  log.info('drip-feed ended', { orderId, status: state.status, remains: state.remains, runs: feed.list.length });
}

/**
 * finish() for a drip-feed: the runs were refunded as they ended; what is still owed is settled here
 * (an order ended by support or a resolution while runs were left): support's full refund gives back
 * the rest of the charge, R-CANCEL-NO-REFUND nothing, otherwise each run and the runs not sent.
 */
export async function settleDripFeed(run: OrderRun): Promise<void> {
  const { state } = run;
  const feed = feedOf(run);
  if (run.cancelCause === 'R-CANCEL-NO-REFUND') return;
  if (run.closingCancel) {
    const rest = fullRefund(state.charge, state.refunded);
    if (!isZeroMoney(rest)) await refund(run, rest, 'R-CANCEL-FULL', 'support', 'canceled by support with a full refund');
    return;
  }
  const current = currentRun(feed);
  if (current && !isRunFinal(current)) {
    // The order ended while this run was not delivered (support's resolution, R-CANCEL-STALLED).
    current.status = 'canceled';
    current.finishedAt = Date.now();
    current.reason ??= state.rejectReason;
  }
  for (const r of feed.list) if (!r.settled) await settleRun(run, r);
  feed.stopped = true;
  if (feed.unsentRefund === null) await refundUnsent(run, run.cancelCause ?? 'R-CANCEL-FULL');
  // Ended early (support's resolution, R-CANCEL-STALLED): the status is what the runs delivered, as
  // when the feed ends by itself: a feed whose first run delivered is partial, not canceled.
  if (dripPatched(run, DRIP_ENDS_BY_ITS_RUNS_PATCH)) {
    const outcome = feedOutcome(feed, state.quantity);
    state.status = outcome.status;
    state.remains = outcome.remains;
  }
}

async function mirrorRun(run: OrderRun, target: DripRun): Promise<void> {
  try {
    await mirroring.mirrorDripRun(run.orderId, target);
  } catch (error) {
    log.error('run mirror failed: the order_runs row is behind the workflow', { orderId: run.orderId, run: target.index, error: describeFailure(error) });
  }
}

// ---------------------------------------------------------------- the sync's updates

/** providerUpdate for a drip-feed: about the run in flight (an update about an earlier run is stale). */
export function onRunUpdate(run: OrderRun, update: ProviderUpdate): void {
  const { orderId, state } = run;
  const current = currentRun(feedOf(run));
  if (!current || current.providerOrderId === null) return;
  if (update.providerOrderId !== undefined && update.providerOrderId !== current.providerOrderId) return;
  if (!advanceRun(current, update, Date.now())) return;
  state.lastProviderAnswer = update.raw ?? { status: update.status, remains: update.remains, observedAt: update.observedAt };
  if (current.status !== 'pending' && state.timestamps.startedAt === null) {
    state.timestamps.startedAt = Date.now();
    state.startCount = current.startCount;
  }
  if (state.status === 'pending' && current.status !== 'pending') state.status = 'in_progress';
  state.startCount ??= current.startCount;
  state.remains = state.quantity - deliveredTotal(feedOf(run));
  if (isRunFinal(current) && current.status === 'canceled' && !current.reason) {
    current.reason = state.flags.cancelRequested ? 'canceled at the user\'s request' : 'the provider canceled the run';
  }
  log.info('drip-feed run update', { orderId, run: current.index, status: current.status, remains: current.remains });
  run.version++;
}

// ---------------------------------------------------------------- a user's cancel (R-CANCEL-REQUEST)

/**
 * The runs not yet sent are stopped and refunded now (R-CANCEL-FULL); the run in flight is asked to
 * cancel at the provider and its end decides its refund (R-PARTIAL, R-CANCEL-FULL).
 */
export async function processDripCancel(run: OrderRun, entry: CancelEntry, answer: (result: CancelResult) => void): Promise<void> {
  const { orderId, state } = run;
  const feed = feedOf(run);
  const current = currentRun(feed);
  if (current && !isRunFinal(current) && current.providerOrderId === null) {
    const fence = await reconciling.abandonDispatch(orderId);
    if (fence.kind === 'placed') {
      current.sentAt ??= Date.now();
      adopt(run, current, fence.providerOrderId);
    } else if (fence.kind === 'uncertain') {
      state.status = 'dispatch_uncertain';
      becomeUncertain(run, 'a cancel interrupted a run\'s dispatch');
      return answer({ accepted: false, rule: 'R-CANCEL-REQUEST', reason: 'a run is being confirmed with the provider; try again later' });
    } else {
      // Never sent: its row says so, and it is refunded among the runs not sent.
      Object.assign(current, { status: 'canceled', finishedAt: Date.now(), reason: 'stopped by the cancel before it was sent (refunded with the runs not sent)', settled: true });
      await mirrorRun(run, current);
      feed.list.pop();
    }
  }
  feed.stopped = true;
  await refundUnsent(run, 'R-CANCEL-FULL');
  const inFlight = currentRun(feed);
  if (!inFlight || isRunFinal(inFlight)) {
    return answer({ accepted: true, rule: entry.rule, message: 'drip-feed canceled: the runs not sent are refunded' });
  }
  if (entry.rule === 'R-CANCEL-STALLED' && dripPatched(run, DRIP_STALLED_CANCEL_PATCH)) {
    // R-CANCEL-STALLED (a service without cancel, nothing started 10 days after placement): the run in
    // flight is canceled here, as any order would be, not left to a provider that will not cancel it
    // (the feed stayed pending for as long as the provider stalled, its run's charge held). It is
    // refunded when it settles (R-CANCEL-FULL); the provider is asked to drop it after the end.
    Object.assign(inFlight, { status: 'canceled', finishedAt: Date.now(), reason: 'canceled: not started more than 10 days after the order was placed (R-CANCEL-STALLED)' });
    run.askProviderToDrop = true;
    await mirrorRun(run, inFlight);
    return answer({ accepted: true, rule: entry.rule, message: `drip-feed canceled: it had not started for more than 10 days; the runs not sent and run ${inFlight.index} are refunded` });
  }
  let asked: { accepted: boolean; error?: string };
  try {
    asked = await canceling.cancelAtProvider(orderId);
  } catch (error) {
    asked = { accepted: false, error: `the provider could not be reached (${describeFailure(error)})` };
  }
  if (asked.accepted) {
    state.flags.cancelRequested = true;
    return answer({ accepted: true, rule: entry.rule, message: `drip-feed canceled: the runs not sent are refunded; the provider was asked to cancel run ${inFlight.index}, its refund follows its answer` });
  }
  answer({ accepted: true, rule: entry.rule, message: `drip-feed canceled: the runs not sent are refunded; run ${inFlight.index} goes on (the provider refused its cancel: ${asked.error})` });
}
