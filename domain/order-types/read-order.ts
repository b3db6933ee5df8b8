/**
 * An order request, read against its service's type: which fields it must and must not have, what
 * quantity it is charged for and what it costs (fixed now: R-PRICE-SNAPSHOT), and the fields the
 * provider gets unchanged. Pure (the caller passes `now`), used by REST POST /orders, API v2 `add`
 * and the mass-order route alike, so all three refuse the same request with the same text.
 */
import { z } from 'zod';
import { computeCharge, computePackageCharge, computeSubscriptionCharge } from '../charge';
import type { ServiceType } from '../service-types';
import { SERVICE_TYPE_NAMES } from '../service-types';
import {
  delayField,
  executeAtField,
  expiryField,
  linesField,
  nonEmptyLines,
  tokenField,
  wholeField,
} from './field-schemas';
import type { DripFeedMode, TypeField } from './spec';
import { DRIP_FEED_FIELDS, DRIP_FEED_LIMITS, SUBSCRIPTION_FIELDS, TYPE_SPECS } from './spec';

/** The part of a service that decides an order's fields and charge. */
export interface ServiceTerms {
  type: ServiceType;
  /** Per 1000 units; for per-order types (Package) the price of one order. 5-decimal string. */
  rate: string;
  min: number;
  max: number;
  dripfeed: DripFeedMode;
}

export interface TypedOrder {
  /** The link as the client wrote it; null for subscriptions (they name a username). */
  link: string | null;
  /** What the order is charged for and followed by (Custom Comments: its non-empty lines). */
  quantity: number;
  charge: string;
  /** The type's own fields, exactly as received (API v2 names), for the provider's `add`. */
  providerFields: Record<string, string>;
  dripFeed?: { runs: number; intervalMinutes: number; quantityPerRun: number; mode: 'engine' | 'provider' };
  subscription?: { username: string; min: number; max: number; posts: number; oldPosts: number; delayMinutes: number; expiry?: string };
  executeAt?: number;
}

/**
 * Why a request is refused: 400 for a missing or malformed field, 422 for one that is well formed
 * but not acceptable for this service (R-MINMAX, a field the type does not take, drip-feed not
 * offered, a date in the past). `min`/`max`/`value` come with R-MINMAX refusals.
 */
export interface OrderRefusal {
  ok: false;
  status: 400 | 422;
  field: string;
  rule: string;
  message: string;
  min?: number;
  max?: number;
  value?: number;
}

export type ReadOrderResult = { ok: true; order: TypedOrder } | OrderRefusal;

type Raw = Readonly<Record<string, unknown>>;

const present = (raw: Raw, name: string) => raw[name] !== undefined && raw[name] !== null && raw[name] !== '';
const text = (value: unknown) => (typeof value === 'string' ? value : String(value));

const FIELD_SCHEMAS: Record<TypeField, z.ZodType> = {
  comments: linesField('comments', 'the comments'),
  usernames: linesField('usernames', 'the usernames'),
  hashtags: linesField('hashtags', 'the hashtags'),
  hashtag: tokenField('hashtag', 'one hashtag'),
  username: tokenField('username', 'one username'),
  media: tokenField('media', 'a media link'),
  answer_number: wholeField('answer_number', 1),
  keywords: linesField('keywords', 'the keywords'),
};

function refuse(status: 400 | 422, field: string, rule: string, message: string, extra: Partial<OrderRefusal> = {}): OrderRefusal {
  return { ok: false, status, field, rule, message, ...extra };
}

/** The first zod issue as a refusal: a missing or malformed field is 400, a custom rule 422. */
function fromIssue(error: z.ZodError, field: string): OrderRefusal {
  const issue = error.issues[0];
  const rule = issue.code === 'custom' ? (issue.params as { rule?: string } | undefined)?.rule : undefined;
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  if (rule && rule !== 'format') return refuse(422, field, rule, issue.message);
  return refuse(400, field, missing ? 'required' : 'format', issue.message);
}

function parse<T>(schema: z.ZodType<T>, raw: Raw, field: string): { ok: true; value: T } | OrderRefusal {
  const result = schema.safeParse(raw[field] ?? undefined);
  return result.success ? { ok: true, value: result.data } : fromIssue(result.error, field);
}

/** R-MINMAX on a derived or given quantity, with the service's bounds in the refusal. */
function checkRange(service: ServiceTerms, field: string, value: number, what = 'quantity'): OrderRefusal | null {
  if (value < service.min) return refuse(422, field, 'R-MINMAX', `${what} below minimum ${service.min}`, { min: service.min, max: service.max, value });
  if (value > service.max) return refuse(422, field, 'R-MINMAX', `${what} above maximum ${service.max}`, { min: service.min, max: service.max, value });
  return null;
}

/** Fields the request has that this type does not take: refused, never ignored (it would be a different order). */
function foreignField(service: ServiceTerms, raw: Raw): OrderRefusal | null {
  const spec = TYPE_SPECS[service.type];
  const allowed = new Set<string>(['service', 'execute_at', ...spec.fields]);
  if (spec.link) allowed.add('link');
  if (spec.quantity.kind !== 'subscription') allowed.add('quantity');
  if (spec.quantity.kind === 'subscription') for (const f of SUBSCRIPTION_FIELDS) allowed.add(f);
  if (service.type === 'default') for (const f of DRIP_FEED_FIELDS) allowed.add(f);
  const name = SERVICE_TYPE_NAMES[service.type];
  for (const field of Object.keys(raw)) {
    if (!present(raw, field) || allowed.has(field)) continue;
    if ((DRIP_FEED_FIELDS as readonly string[]).includes(field)) {
      return refuse(422, field, 'drip_feed', `drip-feed (runs, interval) is offered for Default services only, not for ${name} services`);
    }
    return refuse(422, field, 'service_type', `${field} is not a field of ${name} services (they take: ${[...allowed].filter((f) => f !== 'service').join(', ')})`);
  }
  return null;
}

function readQuantity(service: ServiceTerms, raw: Raw, fields: Record<string, string>): { ok: true; value: number } | OrderRefusal {
  const source = TYPE_SPECS[service.type].quantity;
  if (source.kind === 'given') {
    const q = parse(wholeField('quantity', 1), raw, 'quantity');
    return q;
  }
  // Derived: a client may still send quantity (some panel forms do); it must agree.
  const derived = source.kind === 'one' ? 1 : nonEmptyLines(fields[source.kind === 'lines' ? source.field : 'comments']).length;
  if (present(raw, 'quantity')) {
    const q = parse(wholeField('quantity', 1), raw, 'quantity');
    if (!q.ok) return q;
    if (q.value !== derived) {
      const why = source.kind === 'one' ? 'a package is one order' : `the number of non-empty lines of ${source.kind === 'lines' ? source.field : ''}`;
      return refuse(422, 'quantity', 'quantity_derived', `quantity must be ${derived} (${why}); leave it out`);
    }
  }
  return { ok: true, value: derived };
}

function readDripFeed(service: ServiceTerms, raw: Raw, quantityPerRun: number): { ok: true; value: TypedOrder['dripFeed'] } | OrderRefusal {
  if (!present(raw, 'runs') && !present(raw, 'interval')) return { ok: true, value: undefined };
  if (service.dripfeed === 'none') return refuse(422, present(raw, 'runs') ? 'runs' : 'interval', 'drip_feed', 'drip-feed is not offered for this service');
  const L = DRIP_FEED_LIMITS;
  const runs = parse(wholeField('runs', L.minRuns).pipe(z.int().max(L.maxRuns, { error: `runs must be at most ${L.maxRuns}` })), raw, 'runs');
  if (!runs.ok) return runs;
  const interval = parse(
    wholeField('interval', L.minInterval).pipe(z.int().max(L.maxInterval, { error: `interval must be at most ${L.maxInterval} minutes` })),
    raw,
    'interval',
  );
  if (!interval.ok) return interval;
  return { ok: true, value: { runs: runs.value, intervalMinutes: interval.value, quantityPerRun, mode: service.dripfeed } };
}

function readSubscription(service: ServiceTerms, raw: Raw, now: number): { ok: true; value: NonNullable<TypedOrder['subscription']>; fields: Record<string, string> } | OrderRefusal {
  const username = parse(tokenField('username', 'the account whose new posts are served'), raw, 'username');
  if (!username.ok) return username;
  const min = parse(wholeField('min', 1), raw, 'min');
  if (!min.ok) return min;
  const max = parse(wholeField('max', 1), raw, 'max');
  if (!max.ok) return max;
  if (min.value > max.value) return refuse(400, 'max', 'format', `max (${max.value}) must not be below min (${min.value})`);
  const minRange = checkRange(service, 'min', min.value, 'min');
  if (minRange) return minRange;
  const maxRange = checkRange(service, 'max', max.value, 'max');
  if (maxRange) return maxRange;
  if (!present(raw, 'posts')) {
    return refuse(422, 'posts', 'R-CHARGE-MAX', 'posts is required: a subscription is charged at max × posts up front (R-CHARGE-MAX), so unlimited subscriptions (no posts) are not taken');
  }
  const posts = parse(wholeField('posts', 1).pipe(z.int().max(1000, { error: 'posts must be at most 1000' })), raw, 'posts');
  if (!posts.ok) return posts;
  const oldPosts = present(raw, 'old_posts') ? parse(wholeField('old_posts', 0), raw, 'old_posts') : ({ ok: true, value: 0 } as const);
  if (!oldPosts.ok) return oldPosts;
  if (oldPosts.value > posts.value) return refuse(422, 'old_posts', 'R-CHARGE-MAX', `old_posts (${oldPosts.value}) must not exceed posts (${posts.value}): they are served from the posts paid for`);
  const delay = parse(delayField, raw, 'delay');
  if (!delay.ok) return delay;
  let expiry: string | undefined;
  if (present(raw, 'expiry')) {
    const parsed = parse(expiryField(now), raw, 'expiry');
    if (!parsed.ok) return parsed;
    expiry = text(raw.expiry).trim();
  }
  const fields: Record<string, string> = {};
  for (const name of SUBSCRIPTION_FIELDS) if (present(raw, name)) fields[name] = text(raw[name]).trim();
  return {
    ok: true,
    value: { username: username.value, min: min.value, max: max.value, posts: posts.value, oldPosts: oldPosts.value, delayMinutes: delay.value, ...(expiry ? { expiry } : {}) },
    fields,
  };
}

function chargeOf(service: ServiceTerms, quantity: number, subscription: TypedOrder['subscription']): string {
  switch (TYPE_SPECS[service.type].charge) {
    case 'per1000':
      return computeCharge(service.rate, quantity);
    case 'perOrder':
      return computePackageCharge(service.rate);
    case 'subscription':
      return computeSubscriptionCharge(service.rate, subscription!.max, subscription!.posts);
  }
}

/** Reads an order request for `service`; `raw` holds the request's fields by their API v2 names. */
export function readOrder(service: ServiceTerms, raw: Raw, now: number): ReadOrderResult {
  const spec = TYPE_SPECS[service.type];
  const foreign = foreignField(service, raw);
  if (foreign) return foreign;

  let link: string | null = null;
  if (spec.link) {
    if (!present(raw, 'link')) return refuse(400, 'link', 'required', 'link is required');
    link = text(raw.link).trim();
  }

  let executeAt: number | undefined;
  if (present(raw, 'execute_at')) {
    const at = parse(executeAtField(now), raw, 'execute_at');
    if (!at.ok) return at;
    executeAt = at.value;
  }

  if (spec.quantity.kind === 'subscription') {
    const sub = readSubscription(service, raw, now);
    if (!sub.ok) return sub;
    const quantity = sub.value.max * sub.value.posts;
    return {
      ok: true,
      order: { link: null, quantity, charge: chargeOf(service, quantity, sub.value), providerFields: sub.fields, subscription: sub.value, ...(executeAt !== undefined ? { executeAt } : {}) },
    };
  }

  const providerFields: Record<string, string> = {};
  for (const field of spec.fields) {
    const parsed = parse(FIELD_SCHEMAS[field], raw, field);
    if (!parsed.ok) return parsed;
    // Unchanged, as the client wrote it (a comment's spaces are the comment's).
    providerFields[field] = text(raw[field]);
  }

  const quantity = readQuantity(service, raw, providerFields);
  if (!quantity.ok) return quantity;
  const drip = readDripFeed(service, raw, quantity.value);
  if (!drip.ok) return drip;

  if (spec.quantity.kind !== 'one') {
    const field = spec.quantity.kind === 'lines' ? spec.quantity.field : 'quantity';
    const what = spec.quantity.kind === 'lines' ? `${field} (${quantity.value} non-empty lines)` : 'quantity';
    const range = checkRange(service, field, quantity.value, what);
    if (range) return range;
  }
  let total = quantity.value;
  if (drip.value) {
    // total = quantity × runs, checked against max (the per-run quantity was checked against min).
    total = quantity.value * drip.value.runs;
    if (total > service.max) {
      return refuse(422, 'runs', 'R-MINMAX', `quantity × runs (${total}) above maximum ${service.max}`, { min: service.min, max: service.max, value: total });
    }
  }
  return {
    ok: true,
    order: {
      link,
      quantity: total,
      charge: chargeOf(service, total, undefined),
      providerFields,
      ...(drip.value ? { dripFeed: drip.value } : {}),
      ...(executeAt !== undefined ? { executeAt } : {}),
    },
  };
}
