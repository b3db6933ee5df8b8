/**
 * What the provider sync says about the order's upstream order: `providerUpdate` signals move the
 * status forward (duplicates and updates about an upstream order a move left behind change nothing).
 * A continued run first applies what the sync last told the order the same way (orderWorkflow).
 */
import { log, setHandler } from '@temporalio/workflow';
import { isFinal } from '../domain/order-status';
import type { ProviderUpdate } from './order-contract';
import { providerUpdateSignal } from './order-messages';
import { deliveredBeforeMove, isCurrentUpstream, remainingAfterStop, upstreamQuantity } from './move-state';
import { onRunUpdate } from './order-drip-feed';
import { failMove } from './order-move';
import { onSubscriptionUpdate } from './order-subscription';
import type { OrderRun } from './order-run';
import { applyProviderUpdate } from './order-state';

export function onProviderUpdate(run: OrderRun, update: ProviderUpdate): void {
  const { orderId, state, moveStop } = run;
  if (state.dripFeed) return onRunUpdate(run, update); // a drip-feed's update is about its run in flight
  if (run.input.subscription) return onSubscriptionUpdate(run, update); // posts served, Active/Paused/ended
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
        run.version++;
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
    if (state.status === 'canceled') run.cancelCause = state.flags.cancelRequested ? 'R-CANCEL-FULL' : 'R-AUTO-CANCEL';
    if (moveStop && isFinal(state.status)) failMove(run, `the old provider ended the order ${state.status} before the cancel took effect`);
  }
  run.version++;
}

/** The `providerUpdate` signal from the provider sync. */
export function registerProviderUpdateHandler(run: OrderRun): void {
  setHandler(providerUpdateSignal, (update) => onProviderUpdate(run, update));
}
