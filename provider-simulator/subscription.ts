/**
 * How the simulated provider serves a subscription to future posts, from elapsed time alone (no
 * timers: a virtual clock drives it, like every order here). The account posts every `postEveryMs`
 * after the subscription starts; `old_posts` of its existing posts are served first (they count
 * among `posts`, which is what the panel charged for); each post is served `delay` minutes after it
 * appears, with between min and max units (a fixed pseudo-random amount per post). It ends
 * Completed once `posts` are served, Expired at `expiry` (end of that day, UTC), Canceled at the
 * provider's own cancel or a cancel request. A scenario may pause it for a while (Paused; the posts
 * due meanwhile are served when the pause ends).
 */

export interface SimSubscription {
  min: number;
  max: number;
  posts: number;
  oldPosts: number;
  delayMs: number;
  /** Epoch ms; null: no expiry. */
  expiresAt: number | null;
}

export type SubscriptionCanon = 'Active' | 'Paused' | 'Completed' | 'Expired' | 'Canceled';

/** A pause of the provider's service (epoch ms, [from, until)): posts due meanwhile are served when it ends. */
export interface SimPause {
  from: number;
  until: number;
}

export interface SubscriptionAt {
  canon: SubscriptionCanon;
  /** What each served post got, in post order. */
  delivered: number[];
  /** When it ended (null while Active). */
  endedAt: number | null;
}

/** d/m/Y → the end of that day (UTC); null when absent or unreadable. */
export function expiryInstant(expiry: string | undefined): number | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(expiry?.trim() ?? '');
  if (!m) return null;
  return Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]) + 1);
}

/** The units post k gets: fixed per (order, post), between min and max. */
export function postAmount(seed: number, k: number, min: number, max: number): number {
  let h = (seed * 2654435761 + k * 40503) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
  return min + (h % (max - min + 1));
}

/** When post k (0-based) is served: old posts at the start, the new ones one period apart. */
export function postServedAt(sub: SimSubscription, startAt: number, postEveryMs: number, k: number): number {
  const appears = k < sub.oldPosts ? startAt : startAt + (k - sub.oldPosts + 1) * postEveryMs;
  return appears + sub.delayMs;
}

/** Where the subscription is at `now`; cancelAt is the provider's or the requested cancel (Infinity: none). */
export function subscriptionAt(sub: SimSubscription, seed: number, startAt: number, postEveryMs: number, now: number, cancelAt: number, pause?: SimPause): SubscriptionAt {
  const served = (k: number) => {
    const at = postServedAt(sub, startAt, postEveryMs, k);
    return pause && at >= pause.from && at < pause.until ? pause.until : at;
  };
  const completeAt = sub.posts > 0 ? served(sub.posts - 1) : startAt;
  const expireAt = sub.expiresAt ?? Infinity;
  const endAt = Math.min(completeAt, expireAt, cancelAt);
  const until = Math.min(now, endAt);
  const delivered: number[] = [];
  for (let k = 0; k < sub.posts && served(k) <= until; k++) delivered.push(postAmount(seed, k, sub.min, sub.max));
  if (now < endAt) return { canon: pause && now >= pause.from && now < pause.until ? 'Paused' : 'Active', delivered, endedAt: null };
  const canon: SubscriptionCanon = endAt === completeAt ? 'Completed' : endAt === cancelAt ? 'Canceled' : 'Expired';
  return { canon, delivered, endedAt: endAt };
}
