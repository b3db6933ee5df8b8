/**
 * Pure parsing of API v2 answers. Providers disagree on spellings and types; everything here is
 * tolerant and never throws: what cannot be read becomes null or an error entry.
 */
import type {
  CancelResult,
  OrderStatusInfo,
  OrderStatusResult,
  ProviderIdError,
  ProviderOrderStatus,
  ProviderOrderSummary,
  ProviderRefillStatus,
  ProviderService,
  RefillResult,
  RefillStatusResult,
} from './types';
import type { SubscriptionUpstream, SubscriptionUpstreamStatus } from '../../domain/subscription';

export type JsonParse = { ok: true; value: unknown } | { ok: false; reason: 'empty' | 'non_json' };

/** JSON.parse that tells an empty body from a non-JSON one, and tolerates a BOM and whitespace. */
export function parseJsonBody(text: string): JsonParse {
  const t = text.replace(/^\uFEFF/, '').trim();
  if (t === '') return { ok: false, reason: 'empty' };
  try {
    return { ok: true, value: JSON.parse(t) as unknown };
  } catch {
    return { ok: false, reason: 'non_json' };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The error text of an answer, if it is an error: {"error":"..."}, {"error":{"message":...}},
 * {"errors":[...]} or {"error": true, "message": "..."}. null when the answer is not an error.
 */
export function errorText(v: unknown): string | null {
  if (!isObject(v)) return null;
  const e = v.error ?? v.errors;
  if (e === undefined || e === null || e === false || e === '') return null;
  if (typeof e === 'string') return e;
  if (typeof e === 'number' || e === true) return typeof v.message === 'string' ? v.message : String(e);
  if (Array.isArray(e)) return e.map((x) => (typeof x === 'string' ? x : errorText({ error: x }) ?? JSON.stringify(x))).join('; ');
  if (isObject(e)) {
    for (const k of ['message', 'error', 'text', 'description']) if (typeof e[k] === 'string') return e[k] as string;
    return JSON.stringify(e);
  }
  return String(e);
}

/** A provider id (order or refill) as a canonical decimal string, or null: 23501, "23501", " 23501 ". */
export function parseId(v: unknown): string | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? String(v) : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (!/^\d{1,20}$/.test(t)) return null;
    const s = t.replace(/^0+(?=\d)/, '');
    return s === '0' ? null : s;
  }
  return null;
}

/**
 * A count (remains, start_count) from a number or a numeric string: "157", 157, "-12", "157.0",
 * "1,234". "Unknown", "", null, NaN and anything else → null. Decimals are rounded.
 */
export function parseCount(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v) : null;
  if (typeof v !== 'string') return null;
  let t = v.trim();
  if (/^-?\d{1,3}(,\d{3})+$/.test(t)) t = t.replace(/,/g, '');
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? Math.round(n) : null;
}

/** A decimal amount as a string ("0.27819"), from a string or number; null when not a number. */
export function parseAmount(v: unknown): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return /^-?\d+(\.\d+)?$/.test(t) ? t : null;
}

function statusKey(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  return v.trim().toLowerCase().replace(/[_\-\s]+/g, ' ');
}

const ORDER_STATUS: Record<string, ProviderOrderStatus> = {
  pending: 'pending',
  awaiting: 'pending',
  queued: 'pending',
  'in queue': 'pending',
  waiting: 'pending',
  'in progress': 'in_progress',
  inprogress: 'in_progress',
  processing: 'in_progress',
  active: 'in_progress',
  completed: 'completed',
  complete: 'completed',
  partial: 'partial',
  partially: 'partial',
  'partially completed': 'partial',
  canceled: 'canceled',
  cancelled: 'canceled',
  refunded: 'canceled',
  'canceled and refunded': 'canceled',
  'cancelled and refunded': 'canceled',
};

const REFILL_STATUS: Record<string, ProviderRefillStatus> = {
  pending: 'pending',
  awaiting: 'pending',
  queued: 'pending',
  waiting: 'pending',
  'in progress': 'in_progress',
  inprogress: 'in_progress',
  processing: 'in_progress',
  completed: 'completed',
  complete: 'completed',
  success: 'completed',
  rejected: 'rejected',
  failed: 'rejected',
  fail: 'rejected',
  error: 'rejected',
  canceled: 'rejected',
  cancelled: 'rejected',
};

/** "In progress", "in_progress", "Processing", "IN PROGRESS" → in_progress; "Cancelled", "Refunded" → canceled. */
export function normalizeOrderStatus(v: unknown): ProviderOrderStatus | null {
  const k = statusKey(v);
  return k === null ? null : ORDER_STATUS[k] ?? null;
}

/** Failed/Error → rejected, Awaiting → pending, Processing → in_progress. */
export function normalizeRefillStatus(v: unknown): ProviderRefillStatus | null {
  const k = statusKey(v);
  return k === null ? null : REFILL_STATUS[k] ?? null;
}

/**
 * The part of `quantity` still owed, for refund arithmetic (R-PARTIAL): negative remains (over-delivery)
 * owe nothing, remains above the quantity owe at most the quantity (a refund never exceeds the charge),
 * unknown remains stay unknown (null): the caller must not guess a refund from them.
 */
export function clampRemains(remains: number | null, quantity: number): number | null {
  if (remains === null) return null;
  return Math.min(Math.max(remains, 0), quantity);
}

const SUBSCRIPTION_STATUS: Record<string, SubscriptionUpstreamStatus> = {
  active: 'active',
  paused: 'paused',
  completed: 'completed',
  complete: 'completed',
  expired: 'expired',
  canceled: 'canceled',
  cancelled: 'canceled',
};

/** A subscription's status as the order statuses say it (the sync's row filters and older readers). */
const SUBSCRIPTION_AS_ORDER: Record<SubscriptionUpstreamStatus, ProviderOrderStatus> = {
  active: 'in_progress',
  paused: 'in_progress',
  completed: 'completed',
  expired: 'completed',
  canceled: 'canceled',
};

/** One post's delivery: in `delivered` a count; in `orders` a child order {order, quantity} (a bare id says nothing). */
function postDelivery(e: unknown, bareIsCount: boolean): number | null {
  if (isObject(e)) return parseCount(e.quantity ?? e.delivered ?? null);
  return bareIsCount ? parseCount(e) : null;
}

/**
 * A subscription's status answer: {"status": "Active", "posts": "2", "orders": [...]} (docs/smm-api-v2.md),
 * any case; `orders` may list child orders ({order, quantity}) or bare ids, `delivered` the count each
 * post got. Null when the entry is not about a subscription (no `posts`: "Active" alone stays an
 * order's In progress, "Paused" alone an unrecognised order status).
 */
export function parseSubscriptionEntry(v: Record<string, unknown>): SubscriptionUpstream | null {
  const k = statusKey(v.status);
  const status = k === null ? undefined : SUBSCRIPTION_STATUS[k];
  if (!status || !('posts' in v)) return null;
  const counts = Array.isArray(v.delivered);
  const list: unknown[] = counts ? (v.delivered as unknown[]) : Array.isArray(v.orders) ? v.orders : [];
  const delivered = list.map((e) => postDelivery(e, counts));
  const posts = Math.max(parseCount(v.posts) ?? 0, delivered.length);
  return { status, posts, delivered };
}

/** One order's entry of a status answer (the single answer, or one value of the multi answer). */
export function parseOrderStatusEntry(v: unknown): OrderStatusResult {
  const err = errorText(v);
  if (err !== null) return { error: err, scope: 'order', raw: v };
  if (!isObject(v)) return { error: 'Unreadable status entry', scope: 'order', raw: v };
  const subscription = parseSubscriptionEntry(v);
  if (subscription) return { status: SUBSCRIPTION_AS_ORDER[subscription.status], startCount: null, remains: null, raw: v, subscription };
  const status = normalizeOrderStatus(v.status);
  if (status === null) return { error: `Unrecognised status ${JSON.stringify(v.status ?? null)}`, scope: 'order', raw: v };
  let startCount = parseCount(v.start_count ?? v.startCount);
  // Providers send start_count 0 before the order starts: that is "not known yet", not a count (R-COUNTERS).
  if (status === 'pending' && startCount === 0) startCount = null;
  const info: OrderStatusInfo = { status, startCount, remains: parseCount(v.remains), raw: v };
  const charge = parseAmount(v.charge);
  if (charge !== null) info.charge = charge;
  if (typeof v.currency === 'string') info.currency = v.currency;
  return info;
}

function requestError(error: string, ids: readonly string[], raw: unknown): Map<string, ProviderIdError> {
  return new Map(ids.map((id) => [id, { error, scope: 'request' as const, raw }]));
}

function keyOf(id: string): string {
  return parseId(id) ?? id.trim();
}

/**
 * A multi status answer ({"1": {...}, "10": {"error": ...}}) for the ids asked, keyed by the ids as the
 * caller gave them. Also reads a single-form answer when one id was asked, and an array form
 * ([{"order":1,"status":...}]) some panels send. Ids missing from the answer get an 'order' error.
 */
export function parseMultiStatus(body: unknown, ids: readonly string[]): Map<string, OrderStatusResult> {
  const err = errorText(body);
  if (err !== null && !(isObject(body) && ids.some((id) => keyOf(id) in body || id in body))) return requestError(err, ids, body);
  const byId = new Map<string, unknown>();
  if (Array.isArray(body)) {
    for (const e of body) if (isObject(e)) {
      const id = parseId(e.order ?? e.id);
      if (id !== null) byId.set(id, e);
    }
  } else if (isObject(body)) {
    for (const [k, v] of Object.entries(body)) byId.set(keyOf(k), v);
    if (ids.length === 1 && !byId.has(keyOf(ids[0]!)) && 'status' in body) byId.set(keyOf(ids[0]!), body);
  } else {
    return requestError('Unreadable status answer', ids, body);
  }
  const out = new Map<string, OrderStatusResult>();
  for (const id of ids) {
    const v = byId.get(keyOf(id));
    out.set(id, v === undefined ? { error: 'Missing from the provider answer', scope: 'order' } : parseOrderStatusEntry(v));
  }
  return out;
}

/** [{"order":2,"cancel":1},{"order":9,"cancel":{"error":"Incorrect order ID"}}] → per id accepted|error. */
export function parseCancelAnswer(body: unknown, ids: readonly string[]): Map<string, CancelResult> {
  const out = new Map<string, CancelResult>();
  const err = errorText(body);
  if (err !== null) {
    for (const id of ids) out.set(id, { accepted: false, error: err });
    return out;
  }
  const byId = new Map<string, unknown>();
  if (Array.isArray(body)) {
    for (const e of body) if (isObject(e)) {
      const id = parseId(e.order ?? e.id);
      if (id !== null) byId.set(id, e.cancel);
    }
  } else if (isObject(body) && ids.length === 1 && 'cancel' in body) {
    byId.set(keyOf(ids[0]!), body.cancel);
  } else if (isObject(body)) {
    for (const [k, v] of Object.entries(body)) byId.set(keyOf(k), isObject(v) && 'cancel' in v ? v.cancel : v);
  }
  for (const id of ids) {
    const v = byId.get(keyOf(id));
    const e = errorText(v) ?? (isObject(v) ? JSON.stringify(v) : null);
    if (v === undefined) out.set(id, { accepted: false, error: 'Missing from the provider answer' });
    else if (e !== null) out.set(id, { accepted: false, error: e });
    else if (v === 1 || v === '1' || v === true || v === 'ok' || v === 'success') out.set(id, { accepted: true });
    else out.set(id, { accepted: false, error: `Unexpected cancel answer ${JSON.stringify(v)}` });
  }
  return out;
}

function refillValue(v: unknown): RefillResult {
  const id = parseId(v);
  if (id !== null) return { refillId: id };
  return { error: errorText(v) ?? `Unexpected refill answer ${JSON.stringify(v ?? null)}` };
}

/** Single refill answer: {"refill":"1"} (string here), {"refill":1}, {"error":...}, {"refill":{"error":...}}. */
export function parseRefillAnswer(body: unknown): RefillResult {
  const err = errorText(body);
  if (err !== null) return { error: err };
  if (!isObject(body)) return { error: 'Unreadable refill answer' };
  return refillValue(body.refill ?? body.id);
}

/** Multi refill answer: [{"order":1,"refill":1},{"order":3,"refill":{"error":"Incorrect order ID"}}]. */
export function parseRefillMultiAnswer(body: unknown, ids: readonly string[]): Map<string, RefillResult> {
  const err = errorText(body);
  if (err !== null) return new Map(ids.map((id) => [id, { error: err }]));
  const byId = new Map<string, unknown>();
  if (Array.isArray(body)) {
    for (const e of body) if (isObject(e)) {
      const id = parseId(e.order);
      if (id !== null) byId.set(id, e.refill);
    }
  } else if (isObject(body) && ids.length === 1 && 'refill' in body) {
    byId.set(keyOf(ids[0]!), body.refill);
  }
  return new Map(
    ids.map((id) => {
      const v = byId.get(keyOf(id));
      return [id, v === undefined ? { error: 'Missing from the provider answer' } : refillValue(v)];
    }),
  );
}

function refillStatusEntry(v: unknown, raw: unknown): RefillStatusResult {
  const err = errorText(isObject(v) ? v : { error: undefined });
  if (err !== null) return { error: err, scope: 'order', raw };
  const status = normalizeRefillStatus(v);
  return status === null
    ? { error: `Unrecognised refill status ${JSON.stringify(v ?? null)}`, scope: 'order', raw }
    : { status, raw };
}

/**
 * Refill status answers: multi [{"refill":1,"status":"Completed"},{"refill":3,"status":{"error":...}}],
 * or single {"status":"Completed"} when one id was asked.
 */
export function parseRefillStatusAnswer(body: unknown, ids: readonly string[]): Map<string, RefillStatusResult> {
  const err = errorText(body);
  if (err !== null) return requestError(err, ids, body);
  const byId = new Map<string, unknown>();
  if (Array.isArray(body)) {
    for (const e of body) if (isObject(e)) {
      const id = parseId(e.refill ?? e.id);
      if (id !== null) byId.set(id, e);
    }
  } else if (isObject(body) && ids.length === 1 && 'status' in body) {
    byId.set(keyOf(ids[0]!), body);
  } else if (isObject(body)) {
    for (const [k, v] of Object.entries(body)) byId.set(keyOf(k), v);
  } else {
    return requestError('Unreadable refill status answer', ids, body);
  }
  return new Map(
    ids.map((id) => {
      const e = byId.get(keyOf(id));
      if (e === undefined) return [id, { error: 'Missing from the provider answer', scope: 'order' as const }];
      const status = isObject(e) && 'status' in e ? e.status : e;
      return [id, refillStatusEntry(status, e)];
    }),
  );
}

/**
 * The `orders_by_link` extension: [{order, status, created}]. null when the answer is an error or not a
 * list: the provider does not support the action (or refused it), and the engine must reconcile otherwise.
 */
export function parseOrdersByLink(body: unknown): ProviderOrderSummary[] | null {
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.orders) ? body.orders : null;
  if (list === null) return null;
  const out: ProviderOrderSummary[] = [];
  for (const e of list) {
    if (!isObject(e)) continue;
    const id = parseId(e.order ?? e.id);
    if (id === null) continue;
    const created = e.created ?? e.created_at ?? e.date;
    out.push({
      providerOrderId: id,
      status: normalizeOrderStatus(e.status),
      rawStatus: e.status,
      created: typeof created === 'string' ? created : typeof created === 'number' ? String(created) : null,
    });
  }
  return out;
}

function flag(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || (typeof v === 'string' && /^(true|yes)$/i.test(v.trim()));
}

/** The services list; null when the answer is not a list. */
export function parseServices(body: unknown): ProviderService[] | null {
  if (!Array.isArray(body)) return null;
  const out: ProviderService[] = [];
  for (const e of body) {
    if (!isObject(e)) continue;
    const service = parseId(e.service ?? e.id);
    const rate = parseAmount(e.rate);
    if (service === null || rate === null) continue;
    out.push({
      service,
      name: typeof e.name === 'string' ? e.name : '',
      type: typeof e.type === 'string' ? e.type : 'Default',
      category: typeof e.category === 'string' ? e.category : '',
      rate,
      min: parseCount(e.min),
      max: parseCount(e.max),
      refill: flag(e.refill),
      cancel: flag(e.cancel),
      raw: e,
    });
  }
  return out;
}
