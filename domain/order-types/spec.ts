/**
 * What each service type's order carries, as docs/smm-api-v2.md lists the `add` fields by type,
 * and how its charge is counted. Plain data: the API validates with it, the simulator checks the
 * fields it gets with it, the README's table is written from it.
 */
import type { ServiceType } from '../service-types';

/** The type-specific `add` fields (API v2 names) that reach the provider unchanged. */
export type TypeField = 'comments' | 'usernames' | 'hashtags' | 'hashtag' | 'username' | 'media' | 'answer_number' | 'keywords';

/**
 * Where the order's quantity comes from:
 * - given: the client's `quantity` (R-MINMAX on it);
 * - lines: the number of non-empty lines of one field (Custom Comments: `comments`), R-MINMAX on it;
 * - one: a package is one order (no quantity in the request);
 * - subscription: max × posts (R-CHARGE-MAX), R-MINMAX on min and max.
 */
export type QuantitySource = { kind: 'given' } | { kind: 'lines'; field: 'comments' | 'usernames' } | { kind: 'one' } | { kind: 'subscription' };

/**
 * How the charge is counted, fixed at placement (R-PRICE-SNAPSHOT):
 * - per1000: R-CHARGE, rate × quantity / 1000;
 * - perOrder: the service's rate is the price of one order (Package), whatever the quantity;
 * - subscription: R-CHARGE-MAX, rate × max × posts / 1000.
 */
export type ChargeRule = 'per1000' | 'perOrder' | 'subscription';

export interface TypeSpec {
  /** Whether the order has a `link` (subscriptions name a `username` instead). */
  link: boolean;
  quantity: QuantitySource;
  fields: readonly TypeField[];
  charge: ChargeRule;
}

export const TYPE_SPECS: Record<ServiceType, TypeSpec> = {
  default: { link: true, quantity: { kind: 'given' }, fields: [], charge: 'per1000' },
  package: { link: true, quantity: { kind: 'one' }, fields: [], charge: 'perOrder' },
  custom_comments: { link: true, quantity: { kind: 'lines', field: 'comments' }, fields: ['comments'], charge: 'per1000' },
  custom_comments_package: { link: true, quantity: { kind: 'lines', field: 'comments' }, fields: ['comments'], charge: 'perOrder' },
  mentions: { link: true, quantity: { kind: 'given' }, fields: ['usernames'], charge: 'per1000' },
  mentions_with_hashtags: { link: true, quantity: { kind: 'given' }, fields: ['usernames', 'hashtags'], charge: 'per1000' },
  mentions_custom_list: { link: true, quantity: { kind: 'lines', field: 'usernames' }, fields: ['usernames'], charge: 'per1000' },
  mentions_hashtag: { link: true, quantity: { kind: 'given' }, fields: ['hashtag'], charge: 'per1000' },
  mentions_user_followers: { link: true, quantity: { kind: 'given' }, fields: ['username'], charge: 'per1000' },
  mentions_media_likers: { link: true, quantity: { kind: 'given' }, fields: ['media'], charge: 'per1000' },
  comment_likes: { link: true, quantity: { kind: 'given' }, fields: ['username'], charge: 'per1000' },
  comment_replies: { link: true, quantity: { kind: 'lines', field: 'comments' }, fields: ['username', 'comments'], charge: 'per1000' },
  poll: { link: true, quantity: { kind: 'given' }, fields: ['answer_number'], charge: 'per1000' },
  seo: { link: true, quantity: { kind: 'given' }, fields: ['keywords'], charge: 'per1000' },
  subscriptions: { link: false, quantity: { kind: 'subscription' }, fields: [], charge: 'subscription' },
};

/** Subscription fields (API v2 names); `posts` is required here (see README: unlimited subscriptions). */
export const SUBSCRIPTION_FIELDS = ['username', 'min', 'max', 'posts', 'old_posts', 'delay', 'expiry'] as const;
export const DRIP_FEED_FIELDS = ['runs', 'interval'] as const;

/** Every field an order request may carry, whatever its type. */
export const ORDER_REQUEST_FIELDS = [
  'service', 'link', 'quantity',
  'comments', 'usernames', 'hashtags', 'hashtag', 'username', 'media', 'answer_number', 'keywords',
  'min', 'max', 'posts', 'old_posts', 'delay', 'expiry',
  'runs', 'interval', 'execute_at',
] as const;
export type OrderRequestField = (typeof ORDER_REQUEST_FIELDS)[number];

/** `delay` values panels offer for subscriptions (minutes), as their order forms list them. */
export const SUBSCRIPTION_DELAYS: readonly number[] = [0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600];

/** Drip-feed bounds (the reference sets none; these keep a feed finite and its timers sane). */
export const DRIP_FEED_LIMITS = { minRuns: 2, maxRuns: 1000, minInterval: 1, maxInterval: 10_080 } as const;

/** Scheduled orders: at most this far ahead (a timer waiting longer is a forgotten order). */
export const EXECUTE_AT_HORIZON_DAYS = 90;

/** Drip-feed setting of a service: not offered, run by the engine, or passed to the provider. */
export const DRIP_FEED_MODES = ['none', 'engine', 'provider'] as const;
export type DripFeedMode = (typeof DRIP_FEED_MODES)[number];
