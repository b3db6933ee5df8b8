/**
 * Support's move to another service (R-SUBSTITUTE, see workflows/README.md, "Moves"): the `move`
 * update records the request; the main loop switches at once when nothing is at a provider, else
 * asks the old provider to cancel (startMove) and waits for its final answer (stopStep) before the
 * part still owed is dispatched anew.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import { DAY_MS } from '../domain/time';
import { canceling, reconciling } from './order-activity-options';
import type { MoveRequest, MoveResult } from './order-contract';
import { moveUpdate } from './order-messages';
import { decideMove, newMoveRecord, upstreamQuantity } from './move-state';
import { attachUpstream, becomeUncertain, describeFailure, keepSupportAnswer, pendingCancel, refuseSupport, waitForChange } from './order-run';
import type { MoveEntry, MoveStop, OrderRun } from './order-run';

/** How long a move waits for the old provider to confirm its cancel before it gives up. */
export const MOVE_STOP_TIMEOUT_MS = DAY_MS;

const moveKey = (request: MoveRequest) => `move:${request?.requestId}`;
const moveBusy = (run: OrderRun) => ({ moveInFlight: run.moveStop !== null || run.moves.some((m) => m.result === null), cancelInFlight: pendingCancel(run) });
const knownMove = (run: OrderRun, request: MoveRequest) =>
  (run.supportAnswers.get(moveKey(request)) as MoveResult | undefined) ?? run.moves.find((m) => m.request.requestId === request?.requestId);

/** The `move` update: support's request, answered once the main loop has started (or refused) it. */
export function registerMoveHandler(run: OrderRun): void {
  setHandler(
    moveUpdate,
    async (request) => {
      const known = knownMove(run, request);
      if (known && !('request' in known)) return known;
      let entry = known as MoveEntry | undefined;
      if (!entry) {
        const decision = decideMove(run.state, request, moveBusy(run), run.input);
        if (!decision.allowed) return { accepted: false, rule: decision.rule, reason: decision.reason };
        entry = { request, result: null };
        run.moves.push(entry);
        run.version++;
        run.dispatchScope?.cancel(); // a dispatch to the old service must not go on meanwhile
        log.info('move accepted', { orderId: run.orderId, to: request.target, requestedBy: request.requestedBy, reason: request.reason });
      }
      const waiting = entry;
      await condition(() => waiting.result !== null);
      return waiting.result!;
    },
    {
      validator: (request) => {
        if (request && knownMove(run, request)) return;
        const decision = decideMove(run.state, request, moveBusy(run), run.input);
        if (!decision.allowed) refuseSupport({ accepted: false, rule: decision.rule, reason: decision.reason });
      },
    },
  );
}

// ---------------------------------------------------------------- moves (R-SUBSTITUTE)

export function answerMove(run: OrderRun, entry: MoveEntry, result: MoveResult): void {
  entry.result = result;
  keepSupportAnswer(run, moveKey(entry.request), result);
}

export function failMove(run: OrderRun, why: string): void {
  if (!run.moveStop) return;
  run.moveStop.record.phase = 'failed';
  run.moveStop.record.outcome = why;
  run.moveStop.record.updatedAt = Date.now();
  log.warn('move failed', { orderId: run.orderId, to: run.moveStop.record.to, why });
  run.moveStop = null;
}

/**
 * A move support asked for: with nothing at the provider, switch at once; else ask the old
 * provider to cancel and wait (stopStep) for its final answer. Answered once one of those is done.
 */
export async function startMove(run: OrderRun, entry: MoveEntry): Promise<void> {
  const { orderId, state } = run;
  // Checked again: the order may have moved on while the request waited (this entry itself is not "in flight").
  const decision = decideMove(state, entry.request, { moveInFlight: run.moveStop !== null, cancelInFlight: pendingCancel(run) }, run.input);
  if (!decision.allowed) return answerMove(run, entry, { accepted: false, rule: decision.rule, reason: decision.reason });
  const record = newMoveRecord(state, entry.request, Date.now());
  (state.moves ??= []).push(record);
  run.moveStop = { record, target: entry.request.target, remaining: null, deadline: Date.now() + MOVE_STOP_TIMEOUT_MS };
  if (state.providerOrderId === null) {
    // Nothing placed that we know of: the switch itself holds the dispatch fence.
    const switched = await reconciling.switchService(orderId, { serviceId: record.to.serviceId, providerId: record.to.providerId, quantity: upstreamQuantity(state), fromProviderOrderId: null });
    if (switched.kind === 'switched') {
      run.moveStop.remaining = upstreamQuantity(state);
      switchToTarget(run, true);
      return answerMove(run, entry, { accepted: true, rule: 'R-SUBSTITUTE', message: `moved to service ${record.to.serviceId}; ${record.quantity} sent to its provider`, move: { ...record } });
    }
    if (switched.kind === 'uncertain') {
      failMove(run, 'an add to the old provider may be in flight: resolve the dispatch first');
      becomeUncertain(run, 'a move interrupted a dispatch in flight');
      return answerMove(run, entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: record.outcome!, move: { ...record } });
    }
    attachUpstream(run, switched.providerOrderId, 'dispatch');
    record.from.providerOrderId = switched.providerOrderId;
  }
  let answer: { accepted: boolean; error?: string };
  try {
    answer = await canceling.cancelAtProvider(orderId);
  } catch (error) {
    answer = { accepted: false, error: `the provider could not be reached (${describeFailure(error)}); try again later` };
  }
  const stop = run.moveStop as MoveStop | null; // handlers may have changed it during the call
  if (stop === null) return answerMove(run, entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: record.outcome ?? 'the move was given up', move: { ...record } });
  if (stop.remaining === null && !answer.accepted) {
    failMove(run, `the old provider refused to cancel: ${answer.error}`);
    return answerMove(run, entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: record.outcome!, move: { ...record } });
  }
  log.info('move: the old provider was asked to cancel', { orderId, providerOrderId: record.from.providerOrderId });
  answerMove(run, entry, { accepted: true, rule: 'R-SUBSTITUTE', message: `the old provider was asked to cancel; what it leaves undelivered goes to service ${record.to.serviceId}`, move: { ...record } });
}

/** Waits for the old upstream order's final answer (or the deadline), then switches. */
export async function stopStep(run: OrderRun): Promise<void> {
  const stop = run.moveStop!;
  if (stop.remaining !== null) {
    if (stop.remaining > 0) {
      await reconciling.switchService(run.orderId, { serviceId: stop.record.to.serviceId, providerId: stop.record.to.providerId, quantity: stop.remaining, fromProviderOrderId: stop.record.from.providerOrderId });
    }
    return switchToTarget(run, false);
  }
  if (Date.now() >= stop.deadline) return failMove(run, 'the old provider did not confirm the cancel within 24 hours; the order stays with it');
  await waitForChange(run, stop.deadline - Date.now());
}

/** The workflow's side of a switch the row already made: the rest is dispatched as a new order. */
function switchToTarget(run: OrderRun, atOnce: boolean): void {
  const { orderId, state, dispatch } = run;
  const stop = run.moveStop!;
  const remaining = stop.remaining!;
  const record = stop.record;
  run.moveStop = null;
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
  run.mirrored.providerOrderId = null; // switchService wrote it
  record.quantity = remaining;
  record.phase = 'moved';
  record.outcome = `${remaining} of ${state.quantity} sent on to service ${record.to.serviceId}`;
  log.info('moved to another service', { orderId, to: record.to, quantity: remaining });
}
