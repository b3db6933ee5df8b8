/**
 * What the world sells and how its orders look: one entry per kind of order a panel takes, every
 * service type of domain/service-types.ts, a Default service's drip-feed run by the engine and one
 * passed to the provider. The catalogue (services on the panel and at the simulated providers) and
 * the order generator both read this table only: a new order type is one more entry here (its
 * services, its share of orders, the request body of one order). What an order is charged and
 * refunded follows its type's rules (domain/order-types TYPE_SPECS), which books.ts checks per type.
 * Any shape may also be placed for later (execute_at): the scenario schedules a share of all orders.
 */
import type { DripFeedMode } from '../domain/order-types';
import type { ServiceType } from '../domain/service-types';
import type { Rng } from './prng';

export interface CatalogueEntry {
  /** Stable name within the world (scenario, report). */
  key: string;
  name: string;
  /** Services of one category and type are "similar": support may move orders between them (R-SUBSTITUTE). */
  category: string;
  /** Price per 1000, a 5-decimal string (for a Package: the price of one order). */
  rate: string;
  min: number;
  max: number;
  refill: { kind: 'none' } | { kind: 'days'; days: number } | { kind: 'lifetime' };
  cancelable: boolean;
  /** Drip-feed offered on this Default service: run by the engine or passed to the provider. Default none. */
  dripfeed?: DripFeedMode;
}

export interface OrderShape {
  /** The shape's name (report, tests): the service type, or `default+drip-engine` etc. */
  name: string;
  type: ServiceType;
  /** Relative share of the orders (Default is 60). */
  weight: number;
  services: readonly CatalogueEntry[];
  /**
   * The order's target with a fresh account or post: its `link`, or for a subscription the
   * `username` (the fate token is appended by the scenario; scenarios at the simulator match either).
   */
  target(rng: Rng, n: number): string;
  /** The POST /orders body besides `service` and the target: quantity, and the fields this type needs. */
  body(rng: Rng, service: CatalogueEntry): Record<string, unknown>;
}

/** A quantity within the service's bounds, mostly round numbers as resellers send them. */
function roundQuantity(rng: Rng, service: { min: number; max: number }): number {
  const steps = [1, 2, 5, 10, 20, 50].map((f) => f * service.min).filter((q) => q <= service.max);
  return rng.chance(0.8) ? rng.pick(steps) : rng.int(service.min, Math.min(service.max, service.min * 40));
}

const suffix = (rng: Rng, n: number) => `${n}-${rng.int(0, 1e6).toString(36)}`;
const post = (rng: Rng, n: number) => `https://instagram.com/p/sim-${suffix(rng, n)}`;
const account = (rng: Rng, n: number) => `https://instagram.com/sim-${suffix(rng, n)}`;

const WORDS = ['great', 'love this', 'amazing shot', 'wow', 'so good', 'nice colours', 'where is this?', 'best post', 'fire', 'goals'];

/**
 * One-per-line text with `count` non-empty lines, as clients paste it: now and then a blank line,
 * trailing spaces or Windows line ends, which do not count (the charge is by non-empty lines).
 */
function lines(rng: Rng, count: number, make: (i: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(make(i) + (rng.chance(0.1) ? '  ' : ''));
    if (rng.chance(0.08)) out.push(rng.chance(0.5) ? '' : '   ');
  }
  return out.join(rng.chance(0.2) ? '\r\n' : '\n');
}

const comment = (rng: Rng) => (i: number) => `${rng.pick(WORDS)} ${i + 1}`;
const username = (rng: Rng) => (i: number) => `@sim_user_${i}_${rng.int(0, 1e5).toString(36)}`;

/** A count of lines within the service's bounds (small: comments are written one by one). */
const lineCount = (rng: Rng, service: CatalogueEntry) => rng.int(service.min, Math.min(service.max, service.min + 24));

/** An expiry (d/m/Y) far enough that the subscription ends by its posts; the scenario sets near ones (expiresAfterDays). */
const FAR_EXPIRY = '31/12/2099';

const none = { kind: 'none' } as const;

export const ORDER_SHAPES: readonly OrderShape[] = [
  {
    name: 'default',
    type: 'default',
    weight: 60,
    services: [
      { key: 'ig-followers-r30', name: 'Instagram Followers [Refill 30D]', category: 'Instagram Followers', rate: '0.90000', min: 50, max: 10000, refill: { kind: 'days', days: 30 }, cancelable: true },
      { key: 'ig-followers-nr', name: 'Instagram Followers [No refill]', category: 'Instagram Followers', rate: '0.45000', min: 50, max: 20000, refill: none, cancelable: false },
      { key: 'ig-likes', name: 'Instagram Likes', category: 'Instagram Likes', rate: '0.12000', min: 10, max: 50000, refill: none, cancelable: true },
      { key: 'tt-views', name: 'TikTok Views', category: 'TikTok Views', rate: '0.02000', min: 100, max: 1000000, refill: none, cancelable: false },
      { key: 'yt-views-life', name: 'YouTube Views [Lifetime refill]', category: 'YouTube Views', rate: '1.50000', min: 100, max: 100000, refill: { kind: 'lifetime' }, cancelable: false },
    ],
    target: account,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service) }),
  },
  {
    // The engine runs the feed: one provider order per run, `interval` minutes apart (order_runs).
    // One service has a guarantee: a refill of the feed sends one provider refill per run.
    name: 'default+drip-engine',
    type: 'default',
    weight: 6,
    services: [
      { key: 'ig-likes-drip-r30', name: 'Instagram Likes [Drip-feed, Refill 30D]', category: 'Instagram Likes Drip', rate: '0.15000', min: 50, max: 20000, refill: { kind: 'days', days: 30 }, cancelable: true, dripfeed: 'engine' },
      { key: 'tt-views-drip', name: 'TikTok Views [Drip-feed]', category: 'TikTok Views Drip', rate: '0.03000', min: 100, max: 200000, refill: none, cancelable: false, dripfeed: 'engine' },
    ],
    target: post,
    body: (rng, service) => dripBody(rng, service),
  },
  {
    // The provider runs the feed: `runs`/`interval` forwarded, one upstream order.
    name: 'default+drip-provider',
    type: 'default',
    weight: 4,
    services: [
      { key: 'ig-followers-drip-r30', name: 'Instagram Followers [Drip-feed, Refill 30D]', category: 'Instagram Followers Drip', rate: '1.00000', min: 50, max: 20000, refill: { kind: 'days', days: 30 }, cancelable: true, dripfeed: 'provider' },
    ],
    target: account,
    body: (rng, service) => dripBody(rng, service),
  },
  {
    name: 'package',
    type: 'package',
    weight: 4,
    services: [
      { key: 'ig-likes-pkg', name: 'Instagram Likes Package [1000]', category: 'Instagram Packages', rate: '1.50000', min: 1, max: 1, refill: none, cancelable: false },
      { key: 'ig-growth-pkg', name: 'Instagram Growth Package [Starter]', category: 'Instagram Packages', rate: '9.99000', min: 1, max: 1, refill: none, cancelable: true },
    ],
    target: account,
    body: () => ({}),
  },
  {
    name: 'custom_comments',
    type: 'custom_comments',
    weight: 5,
    services: [{ key: 'ig-comments', name: 'Instagram Custom Comments', category: 'Instagram Comments', rate: '20.00000', min: 1, max: 1000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ comments: lines(rng, lineCount(rng, service), comment(rng)) }),
  },
  {
    name: 'custom_comments_package',
    type: 'custom_comments_package',
    weight: 2,
    services: [{ key: 'ig-comments-pkg', name: 'Instagram Custom Comments Package [10]', category: 'Instagram Comments Package', rate: '2.50000', min: 1, max: 10, refill: none, cancelable: false }],
    target: post,
    body: (rng, service) => ({ comments: lines(rng, lineCount(rng, service), comment(rng)) }),
  },
  {
    name: 'mentions',
    type: 'mentions',
    weight: 1.5,
    services: [{ key: 'ig-mentions', name: 'Instagram Mentions', category: 'Instagram Mentions', rate: '4.00000', min: 100, max: 10000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), usernames: lines(rng, rng.int(1, 6), username(rng)) }),
  },
  {
    name: 'mentions_with_hashtags',
    type: 'mentions_with_hashtags',
    weight: 1,
    services: [{ key: 'ig-mentions-tags', name: 'Instagram Mentions with Hashtags', category: 'Instagram Mentions Hashtags', rate: '5.00000', min: 100, max: 10000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({
      quantity: roundQuantity(rng, service),
      usernames: lines(rng, rng.int(1, 4), username(rng)),
      hashtags: lines(rng, rng.int(1, 4), (i) => `#simtag${i}`),
    }),
  },
  {
    name: 'mentions_custom_list',
    type: 'mentions_custom_list',
    weight: 1,
    services: [{ key: 'ig-mentions-list', name: 'Instagram Mentions Custom List', category: 'Instagram Mentions List', rate: '6.00000', min: 1, max: 1000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ usernames: lines(rng, lineCount(rng, service), username(rng)) }),
  },
  {
    name: 'mentions_hashtag',
    type: 'mentions_hashtag',
    weight: 1,
    services: [{ key: 'ig-mentions-hashtag', name: 'Instagram Mentions Hashtag', category: 'Instagram Mentions Hashtag', rate: '4.50000', min: 100, max: 10000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), hashtag: `#sim${rng.int(0, 1e6).toString(36)}` }),
  },
  {
    name: 'mentions_user_followers',
    type: 'mentions_user_followers',
    weight: 1,
    services: [{ key: 'ig-mentions-followers', name: 'Instagram Mentions User Followers', category: 'Instagram Mentions Followers', rate: '4.50000', min: 100, max: 10000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), username: `sim_celebrity_${rng.int(0, 999)}` }),
  },
  {
    name: 'mentions_media_likers',
    type: 'mentions_media_likers',
    weight: 1,
    services: [{ key: 'ig-mentions-likers', name: 'Instagram Mentions Media Likers', category: 'Instagram Mentions Likers', rate: '4.50000', min: 100, max: 10000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), media: `https://instagram.com/p/sim-media-${rng.int(0, 1e6).toString(36)}` }),
  },
  {
    name: 'comment_likes',
    type: 'comment_likes',
    weight: 3,
    services: [{ key: 'ig-comment-likes', name: 'Instagram Comment Likes', category: 'Instagram Comment Likes', rate: '3.00000', min: 10, max: 5000, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), username: `sim_commenter_${rng.int(0, 9999)}` }),
  },
  {
    name: 'comment_replies',
    type: 'comment_replies',
    weight: 2,
    services: [{ key: 'ig-comment-replies', name: 'Instagram Comment Replies', category: 'Instagram Comment Replies', rate: '25.00000', min: 1, max: 500, refill: none, cancelable: true }],
    target: post,
    body: (rng, service) => ({ username: `sim_commenter_${rng.int(0, 9999)}`, comments: lines(rng, lineCount(rng, service), comment(rng)) }),
  },
  {
    name: 'poll',
    type: 'poll',
    weight: 2,
    services: [{ key: 'tw-poll', name: 'Twitter Poll Votes', category: 'Twitter Polls', rate: '2.00000', min: 50, max: 10000, refill: none, cancelable: true }],
    target: (rng, n) => `https://twitter.com/sim/status/${suffix(rng, n)}`,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), answer_number: rng.int(1, 4) }),
  },
  {
    name: 'seo',
    type: 'seo',
    weight: 2,
    services: [{ key: 'web-seo', name: 'Website SEO Traffic [Keywords]', category: 'Website Traffic', rate: '1.00000', min: 100, max: 100000, refill: none, cancelable: true }],
    target: (rng, n) => `https://sim-${suffix(rng, n)}.example.com/landing`,
    body: (rng, service) => ({ quantity: roundQuantity(rng, service), keywords: lines(rng, rng.int(1, 5), (i) => `buy sim widget ${i}`) }),
  },
  {
    // Charged max × posts (R-CHARGE-MAX); refunded by R-SUBSCRIPTION-UNSERVED when the provider ends it.
    name: 'subscriptions',
    type: 'subscriptions',
    weight: 5,
    services: [
      { key: 'ig-auto-likes', name: 'Instagram Auto Likes [Subscription]', category: 'Instagram Auto Likes', rate: '0.20000', min: 50, max: 5000, refill: none, cancelable: true },
      { key: 'ig-auto-views', name: 'Instagram Auto Views [Subscription]', category: 'Instagram Auto Views', rate: '0.05000', min: 100, max: 20000, refill: none, cancelable: false },
    ],
    target: (rng, n) => `sim_account_${suffix(rng, n)}`,
    body: (rng, service) => {
      const min = rng.pick([service.min, service.min * 2, service.min * 4]);
      const max = Math.min(service.max, min * rng.pick([1, 2, 3]));
      const posts = rng.int(2, 6);
      return {
        min,
        max,
        posts,
        ...(rng.chance(0.3) ? { old_posts: rng.int(1, posts) } : {}),
        delay: rng.pick([0, 0, 5, 30, 60]),
        ...(rng.chance(0.3) ? { expiry: FAR_EXPIRY } : {}),
      };
    },
  },
];

/** A drip-feed: `quantity` per run (≥ min), `runs` of them (quantity × runs ≤ max), `interval` minutes apart. */
function dripBody(rng: Rng, service: CatalogueEntry): Record<string, unknown> {
  const runs = rng.int(2, 5);
  const quantity = Math.min(roundQuantity(rng, { min: service.min, max: Math.floor(service.max / runs) }), Math.floor(service.max / runs));
  return { quantity, runs, interval: rng.pick([30, 60, 120, 240, 360]) };
}
