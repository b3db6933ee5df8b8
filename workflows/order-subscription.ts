/**
 * A subscription to future posts after its dispatch (issue 12, OrderInput.subscription). The
 * provider serves the user's new posts for weeks; the batched provider sync signals each post served
 * and each status change (Active, Paused, Completed, Expired, Canceled), and onSubscriptionUpdate
 * records them. When the provider ends it, the main loop's subscriptionStep refunds what was not
 * served, once (R-SUBSCRIPTION-UNSERVED on the R-CHARGE-MAX charge; ledger key order-<id>:refund),
 * and ends the order: completed (all served), partial (part refunded), canceled (no post, all back).
 *
 * A user's cancel asks the provider to cancel (order-cancel.ts, R-CANCEL-REQUEST); its Canceled
 * answer with the posts served ends the subscription the same way. Support's cancel ends it at once
 * with a full refund (finish()).
 *
 * History: one signal per post and a handful of events per signal; the run continues as new every
 * POSTS_PER_RUN posts or SUBSCRIPTION_RUN_MAX_AGE_MS, so a 6-week subscription never has a long history.
 */
import { allHandlersFinished, condition, continueAsNew, log } from '@temporalio/workflow';
import { addMoney, isZeroMoney } from '../domain/money';
import {
  applySubscriptionUpstream,
  isSubscriptionEnded,
  newSubscriptionProgress,
  subscriptionOutcome,
  subscriptionRemains,
} from '../domain/subscription';
import type { SubscriptionProgress } from '../domain/subscription';
import { paying } from './order-activity-options';
import type { OrderInput, ProviderUpdate } from './order-contract';
import { carry, describeFailure, interruptPending, waitForChange } from './order-run';
import type { OrderRun } from './order-run';

/** A new run after this many posts served in one run. */
export const POSTS_PER_RUN = 10;
/** ... or after 7 days, whichever comes first. */
export const SUBSCRIPTION_RUN_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export const isSubscription = (input: OrderInput) => input.subscription !== undefined;

/** The order's subscription view, made at its first use (a run carries it on). */
export function progressOf(run: OrderRun): SubscriptionProgress {
  run.state.subscription ??= newSubscriptionProgress();
  return run.state.subscription;
}

const terms = (run: OrderRun) => run.input.subscription!;

/**
 * The main loop's step for a subscription once it is at the provider: settle its end, start a new
 * run when this one has served enough, or wait for the sync. False before the dispatch (the usual
 * dispatch and reconcile steps run) and once the order is final.
 */
export async function subscriptionStep(run: OrderRun): Promise<boolean> {
  const { state } = run;
  if (state.providerOrderId === null || state.status === 'dispatch_uncertain') return false;
  const sub = progressOf(run);
  if (isSubscriptionEnded(sub)) {
    if (!sub.settled) await settleSubscription(run);
    return true;
  }
  const age = Date.now() - run.runStartedAt;
  if (sub.posts - sub.postsAtRunStart >= POSTS_PER_RUN || age >= SUBSCRIPTION_RUN_MAX_AGE_MS) {
    await condition(allHandlersFinished);
    if (!interruptPending(run) && !run.moveStop && !run.resolution && !isSubscriptionEnded(sub)) {
      sub.postsAtRunStart = sub.posts;
      log.info('subscription: continuing as new', { orderId: run.orderId, posts: sub.posts });
      // The main loop mirrored the row before this step: the next run starts from the same snapshot.
      return continueAsNew<(input: OrderInput, carried: ReturnType<typeof carry>) => Promise<unknown>>(run.input, carry(run, false));
    }
    return false;
  }
  await waitForChange(run, SUBSCRIPTION_RUN_MAX_AGE_MS - age);
  return true;
}

/** The provider ended it: the one refund (R-SUBSCRIPTION-UNSERVED), then the order's final status. */
async function settleSubscription(run: OrderRun): Promise<void> {
  const { orderId, state } = run;
  const sub = progressOf(run);
  const outcome = subscriptionOutcome(state.charge, terms(run), sub);
  // No post served: the whole charge back, under the rule any order's cancel uses (R-CANCEL-FULL when
  // asked, R-AUTO-CANCEL when the provider dropped it); otherwise R-SUBSCRIPTION-UNSERVED.
  if (outcome.status === 'canceled') run.cancelCause = state.flags.cancelRequested ? 'R-CANCEL-FULL' : 'R-AUTO-CANCEL';
  const rule = outcome.status === 'canceled' ? run.cancelCause! : outcome.rule;
  if (!isZeroMoney(outcome.refund)) {
    const reason = `subscription ${sub.status}: ${sub.posts} of ${terms(run).posts} posts served, ${outcome.remains} units not served`;
    let posted;
    try {
      posted = await paying.refundOrder({ orderId, amount: outcome.refund, rule, reason });
    } catch (error) {
      // A refund the ledger refuses is a bug: fail the workflow task (retried after a fix), never skip it.
      throw new Error(`refund of order ${orderId} failed: ${describeFailure(error)}`);
    }
    state.refunds.push({ amount: posted.amount, rule, idempotencyKey: posted.idempotencyKey, at: posted.at });
    state.refunded = addMoney(state.refunded, posted.amount);
  }
  sub.settled = true;
  state.status = outcome.status;
  state.remains = outcome.remains;
  state.timestamps.finishedAt = Date.now();
  if (outcome.status === 'canceled') {
    state.rejectReason ??= sub.status === 'canceled' ? 'the subscription was canceled before any post was served' : `the subscription ${sub.status} before any post was served`;
  } else if (outcome.status === 'partial') {
    state.rejectReason ??= `the subscription ${sub.status} with ${sub.posts} of ${terms(run).posts} posts served`;
  }
  log.info('subscription ended', { orderId, upstream: sub.status, status: state.status, posts: sub.posts, refund: outcome.refund, rule });
}

/** providerUpdate for a subscription: its status and posts served move forward (a repeat changes nothing). */
export function onSubscriptionUpdate(run: OrderRun, update: ProviderUpdate): void {
  const { orderId, state } = run;
  if (update.providerOrderId !== undefined && state.providerOrderId !== null && update.providerOrderId !== state.providerOrderId) return;
  if (!update.subscription || state.providerOrderId === null) return;
  const sub = progressOf(run);
  if (!applySubscriptionUpstream(sub, update.subscription, terms(run).posts)) return;
  state.lastProviderAnswer = update.raw ?? { subscription: update.subscription, observedAt: update.observedAt };
  if (state.status === 'pending' && sub.status !== 'canceled') {
    state.status = 'in_progress';
    state.timestamps.startedAt ??= Date.now();
  }
  state.remains = subscriptionRemains(terms(run), sub);
  log.info('subscription update', { orderId, status: sub.status, posts: sub.posts });
  run.version++;
}
