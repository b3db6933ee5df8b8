/**
 * R-SUBSCRIPTION-UNSERVED: what a subscription to future posts gives back when it ends (Completed,
 * Expired, Canceled). It was charged for `max` on each of `posts` posts (R-CHARGE-MAX), so the
 * refund is the charge of every unit not served: the posts never served (max each), and on each
 * served post the difference between max and what it got, where the provider reports it (a post
 * whose delivery is not reported counts as served at max: nothing is refunded for it that the
 * provider did not say). charge × unserved / (max × posts), rounded down like every refund.
 * Plain function, no I/O.
 */
import { partialRefund } from './refund';

export interface SubscriptionServed {
  max: number;
  posts: number;
  /** What each served post got, in post order; null where the provider does not say. */
  delivered: Array<number | null>;
}

/** Units charged for and not served: max × posts less what the served posts got. */
export function unservedUnits(s: SubscriptionServed): number {
  const served = s.delivered.slice(0, s.posts);
  const onServed = served.reduce<number>((sum, got) => sum + (got === null ? 0 : s.max - Math.min(Math.max(got, 0), s.max)), 0);
  return (s.posts - served.length) * s.max + onServed;
}

export function subscriptionRefund(charge: string, s: SubscriptionServed): { amount: string; unserved: number; rule: 'R-SUBSCRIPTION-UNSERVED' } {
  const unserved = unservedUnits(s);
  return { amount: partialRefund(charge, s.max * s.posts, unserved), unserved, rule: 'R-SUBSCRIPTION-UNSERVED' };
}
