/**
 * The order's end: whatever is still waiting gets its answer, then the one refund by the final status
 * (R-PARTIAL, R-CANCEL-FULL, R-AUTO-CANCEL, R-NO-REFUND-DONE; ledger key `order-<id>:refund`), then
 * the final mirror (a final row has its money back).
 */
import { log } from '@temporalio/workflow';
import { addMoney, isZeroMoney } from '../domain/money';
import { refundForFinalStatus } from '../domain/refund';
import { canceling, paying } from './order-activity-options';
import { answerCancel, decide } from './order-cancel';
import { answerResolution } from './order-dispatch';
import { settleDripFeed } from './order-drip-feed';
import { answerMove, failMove } from './order-move';
import { describeFailure, mirror, refreshStartWindow } from './order-run';
import type { OrderRun } from './order-run';

/** The one refund of this order, by its final status; then the final mirror. */
export async function finish(run: OrderRun): Promise<void> {
  const { orderId, state, cancelCause } = run;
  answerWhatIsWaiting(run);
  if (state.dripFeed) {
    await settleDripFeed(run); // its runs were refunded as they ended; what is left is settled there
  } else if (state.refunds.length === 0 && state.status !== 'rejected') {
    if (state.status === 'partial' && state.remains === null) {
      log.error('partial without remains: no automatic refund, support must decide', { orderId });
    }
    const due = refundForFinalStatus({
      status: state.status,
      charge: state.charge,
      quantity: state.quantity,
      remains: state.status === 'partial' ? (state.remains ?? 0) : undefined,
      alreadyRefunded: state.refunded,
      ...(state.status === 'canceled' && cancelCause === 'R-CANCEL-NO-REFUND' ? { noRefundReason: run.noRefundReason ?? '' } : {}),
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
  refreshStartWindow(run);
  await mirror(run);
  // Support's cancel is answered once its refund is posted and mirrored: the answer tells the truth.
  if (run.closingCancel) answerCancel(run, run.closingCancel.entry, run.closingCancel.result);
  if (run.askProviderToDrop) {
    // Best effort: the order is already canceled and refunded here (R-CANCEL-STALLED).
    try {
      const answer = await canceling.cancelAtProvider(orderId);
      log.info('asked the provider to drop a canceled order', { orderId, answer });
    } catch (error) {
      log.warn('best-effort cancel at the provider failed', { orderId, error: describeFailure(error) });
    }
  }
}

/** Cancels, moves and a resolution still waiting: the order ended before they were carried out. */
function answerWhatIsWaiting(run: OrderRun): void {
  const { state } = run;
  for (const entry of run.cancels) {
    if (entry.result !== null || entry === run.closingCancel?.entry) continue;
    const d = decide(run, entry.request);
    answerCancel(run, entry, d.allowed ? { accepted: false, rule: 'R-CANCEL-REQUEST', reason: `the order ended ${state.status}` } : { accepted: false, rule: d.rule, reason: d.reason });
  }
  failMove(run, `the order ended ${state.status}`);
  for (const entry of run.moves) {
    if (entry.result === null) answerMove(run, entry, { accepted: false, rule: 'R-SUBSTITUTE', reason: `the order ended ${state.status}` });
  }
  if (run.resolution && run.resolution.result === null) {
    answerResolution(run, run.resolution, { accepted: false, rule: 'dispatch_uncertain', reason: `the order ended ${state.status}` });
  }
}
