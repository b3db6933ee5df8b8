/**
 * A subscription to future posts after dispatch (issue 12): what the provider says about it, how the
 * engine's view of it moves, and how it ends (R-SUBSCRIPTION-UNSERVED, R-CHARGE-MAX). Plain
 * functions, no I/O: the order workflow (workflows/order-subscription.ts) and the provider sync use
 * them.
 */
import { isZeroMoney } from './money';
import { subscriptionRefund, unservedUnits } from './subscription-refund';

/** The provider's subscription statuses (API v2: Active, Paused, Completed, Expired, Canceled). */
export type SubscriptionUpstreamStatus = 'active' | 'paused' | 'completed' | 'expired' | 'canceled';
export const SUBSCRIPTION_UPSTREAM_STATUSES: readonly SubscriptionUpstreamStatus[] = ['active', 'paused', 'completed', 'expired', 'canceled'];
export const FINAL_SUBSCRIPTION_STATUSES: readonly SubscriptionUpstreamStatus[] = ['completed', 'expired', 'canceled'];

/** One status answer about a subscription, as the sync parsed it. */
export interface SubscriptionUpstream {
  status: SubscriptionUpstreamStatus;
  /** Posts served so far (the answer's `posts`). */
  posts: number;
  /** What each served post got, in post order, where the provider says it (null: not said). */
  delivered: Array<number | null>;
}

/** The order's view of its subscription (OrderState.subscription). */
export interface SubscriptionProgress {
  /** 'pending' until the provider first answers. */
  status: SubscriptionUpstreamStatus | 'pending';
  posts: number;
  delivered: Array<number | null>;
  /** Posts served when this workflow run began (continue-as-new every few posts). */
  postsAtRunStart: number;
  /** The refund by R-SUBSCRIPTION-UNSERVED is posted (or was nothing). */
  settled: boolean;
}

export const newSubscriptionProgress = (): SubscriptionProgress => ({ status: 'pending', posts: 0, delivered: [], postsAtRunStart: 0, settled: false });

export const isSubscriptionEnded = (p: Pick<SubscriptionProgress, 'status'>): boolean =>
  (FINAL_SUBSCRIPTION_STATUSES as readonly string[]).includes(p.status);

/**
 * Applies a provider answer: false when it changes nothing. An ended subscription stays ended;
 * served posts never go back (a late or repeated answer); a per-post list replaces the known one
 * only when it says at least as much.
 */
export function applySubscriptionUpstream(p: SubscriptionProgress, u: SubscriptionUpstream, termsPosts: number): boolean {
  if (isSubscriptionEnded(p)) return false;
  const posts = Math.min(Math.max(p.posts, u.posts, u.delivered.length), termsPosts);
  const delivered = u.delivered.length >= p.delivered.length ? u.delivered.slice(0, termsPosts) : p.delivered;
  const changed = u.status !== p.status || posts !== p.posts || JSON.stringify(delivered) !== JSON.stringify(p.delivered);
  p.status = u.status;
  p.posts = posts;
  p.delivered = delivered;
  return changed;
}

/** What each served post got, for the refund: the known list, padded with "not said" to the posts served. */
export function servedList(p: Pick<SubscriptionProgress, 'posts' | 'delivered'>): Array<number | null> {
  const list = p.delivered.slice(0, p.posts);
  while (list.length < p.posts) list.push(null);
  return list;
}

/** Units charged for and not (yet) served: the order's `remains` while it runs and after it ends. */
export function subscriptionRemains(terms: { max: number; posts: number }, p: Pick<SubscriptionProgress, 'posts' | 'delivered'>): number {
  return unservedUnits({ max: terms.max, posts: terms.posts, delivered: servedList(p) });
}

export interface SubscriptionOutcome {
  /** completed: everything served; partial: part refunded; canceled: no post served, all refunded. */
  status: 'completed' | 'partial' | 'canceled';
  remains: number;
  refund: string;
  rule: 'R-SUBSCRIPTION-UNSERVED';
}

/** The end of a subscription: its final status and refund (R-SUBSCRIPTION-UNSERVED on the R-CHARGE-MAX charge). */
export function subscriptionOutcome(charge: string, terms: { max: number; posts: number }, p: Pick<SubscriptionProgress, 'posts' | 'delivered'>): SubscriptionOutcome {
  const due = subscriptionRefund(charge, { max: terms.max, posts: terms.posts, delivered: servedList(p) });
  const status = due.unserved === 0 || isZeroMoney(due.amount) ? 'completed' : p.posts === 0 ? 'canceled' : 'partial';
  return { status, remains: due.unserved, refund: due.amount, rule: due.rule };
}
