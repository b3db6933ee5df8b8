// Request schemas (zod), checked at the boundary before anything is read or written.
// Every refusal names its field and rule (see errors.ts fromZod): zod checks give "required",
// "type", "min", "max", "format", "enum", "unknown_field"; domain checks name their rule ID.
// Bodies are strict: an unknown field (say drip-feed `runs`, which the engine does not sell) is
// refused rather than silently ignored.
import { z } from 'zod';
import { ORDER_FLAGS } from '../activities/order-records';
import type { OrderFlag } from '../activities/order-records';
import { ORDER_STATUSES } from '../domain/order-status';
import type { OrderStatus } from '../domain/order-status';
import { normalizeLink, validateLink } from '../domain/link';
import { money } from '../domain/money';
import { ROLES } from './auth';
import { fromZod } from './errors';
import { DRIP_FEED_MODES, ORDER_REQUEST_FIELDS } from '../domain/order-types';
import { SERVICE_TYPES } from '../domain/service-types';

/** Order fields besides service, link and quantity (comments, runs, username, execute_at, ...). */
const ORDER_TYPE_FIELDS = ORDER_REQUEST_FIELDS.filter(
  (f): f is Exclude<(typeof ORDER_REQUEST_FIELDS)[number], 'service' | 'link' | 'quantity'> => f !== 'service' && f !== 'link' && f !== 'quantity',
);

/** A positive whole number, as a JSON number or as digits in a string (panels send "1000"). */
const wholeNumber = (what: string, min = 1) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z
      .int({ error: (i) => (i.input === undefined ? `${what} is required` : `${what} must be a whole number`) })
      .min(min, { error: `${what} must be at least ${min}` }),
  );

/** Money in: a decimal string with at most 5 decimals ("12.5", "0.27819"), never a JSON number. */
const moneyText = (what: string, { allowZero = false } = {}) =>
  z
    .string({
      error: (i) =>
        i.input === undefined ? `${what} is required` : `${what} must be a decimal string such as "12.50" (not a JSON number)`,
    })
    .superRefine((text, ctx) => {
      let ok = false;
      try {
        const d = money(text, what);
        ok = allowZero ? !d.isNegative() : d.gt(0);
      } catch {
        ok = false;
      }
      if (!ok) {
        ctx.addIssue({
          code: 'custom',
          params: { rule: 'money' },
          message: `${what} must be a ${allowZero ? 'non-negative' : 'positive'} decimal with at most 5 decimals, got ${JSON.stringify(text)}`,
        });
      }
    });

const text = (what: string, max: number) =>
  z
    .string({ error: (i) => (i.input === undefined ? `${what} is required` : `${what} must be text`) })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must be at most ${max} characters` });

const httpUrl = (what: string) =>
  text(what, 2048).refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), {
    error: `${what} must be an http(s) URL`,
    params: { rule: 'format' },
  });

// ---------------------------------------------------------------------------------------------
// Orders

/** A link as the user wrote it, checked by domain/link.ts validateLink. */
const link = text('link', 2048).superRefine((value, ctx) => {
  const check = validateLink(value);
  if (!check.ok) ctx.addIssue({ code: 'custom', params: { rule: 'format' }, message: check.message });
});

/** A type field's value: text, or a JSON number where the field is a number (answer_number, runs...). */
const typeFieldValue = (name: string) =>
  z.union([z.string(), z.number()], { error: `${name} must be text or a number` }).transform((v) => (typeof v === 'number' ? String(v) : v));

/**
 * POST /orders (and API v2 `add`, and each line of POST /orders/batch): the fields of every service
 * type by their API v2 names (docs/smm-api-v2.md). Which of them a service takes, and the ranges,
 * depend on its type: domain/order-types readOrder checks them once the service is known.
 */
export const placeOrderBody = z.strictObject({
  service: wholeNumber('service'),
  link: link.optional(),
  quantity: wholeNumber('quantity').optional(),
  ...(Object.fromEntries(ORDER_TYPE_FIELDS.map((name) => [name, typeFieldValue(name).optional()])) as Record<
    (typeof ORDER_TYPE_FIELDS)[number],
    z.ZodOptional<ReturnType<typeof typeFieldValue>>
  >),
});
export type PlaceOrderBody = z.infer<typeof placeOrderBody>;

/** The body's type fields (everything but service, link, quantity), present ones only. */
export function typeFieldsOf(body: PlaceOrderBody): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ORDER_TYPE_FIELDS) {
    const value = body[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

// Mass orders (POST /orders/batch): at most this many lines, each its own order.
export const MAX_BATCH_LINES = 100;

/** Idempotency-Key header (parse `{ 'Idempotency-Key': req.get('idempotency-key') }`): printable ASCII, bounded. */
export const idempotencyKeyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .min(1, { error: 'Idempotency-Key must not be empty' })
    .max(255, { error: 'Idempotency-Key must be at most 255 characters' })
    .regex(/^[\x21-\x7e]+$/, { error: 'Idempotency-Key must be printable ASCII without spaces' })
    .optional(),
});

/** The request's Idempotency-Key, validated (400 naming the header), or undefined. */
export function idempotencyKeyOf(req: { get(name: string): string | undefined }): string | undefined {
  return parseOr400(idempotencyKeyHeader, { 'Idempotency-Key': req.get('idempotency-key') })['Idempotency-Key'];
}

export const orderIdParam = wholeNumber('order id');

const isoDate = (what: string) =>
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: `${what} must be an ISO-8601 date or date-time`, params: { rule: 'format' } })
    .transform((s) => new Date(s));

const statusList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.enum(ORDER_STATUSES as [OrderStatus, ...OrderStatus[]], { error: `status must be one of ${ORDER_STATUSES.join(', ')}` }))
      .min(1, { error: 'status must name at least one status' }),
  );

export const listOrdersQuery = z.strictObject({
  status: statusList.optional(),
  /** Normalised (R-ONE-ACTIVE-PER-LINK): every spelling of one link finds its orders. */
  link: link.transform((value) => normalizeLink(value)).optional(),
  createdBefore: isoDate('createdBefore').optional(),
  createdAfter: isoDate('createdAfter').optional(),
  limit: wholeNumber('limit').pipe(z.int().max(1000, { error: 'limit must be at most 1000' })).optional(),
  cursor: wholeNumber('cursor').optional(),
  /** Staff only: one user's orders. */
  userId: wholeNumber('userId').optional(),
});

/** One value or several (comma list or repeated parameter), each trimmed, empties dropped. */
const listOf = <T extends z.ZodType>(item: T, what: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(
      z
        .array(item)
        .min(1, { error: `${what} must name at least one value` })
        .max(100, { error: `${what} takes at most 100 values` }) as unknown as z.ZodType<Array<z.output<T>>, string[]>,
    );

/** A yes/no query parameter: true/1 or false/0. */
const yesNo = (what: string) =>
  z.enum(['true', 'false', '1', '0'], { error: `${what} must be true or false` }).transform((v) => v === 'true' || v === '1');

/** GET /support/orders (support, admin): every filter optional, all of them ANDed. */
export const supportOrdersQuery = z.strictObject({
  id: listOf(wholeNumber('id'), 'id').optional(),
  userId: wholeNumber('userId').optional(),
  /** Matched as given and as normalised; not checked as a link (support pastes what it was sent). */
  link: text('link', 2048).optional(),
  status: statusList.optional(),
  providerId: wholeNumber('providerId').optional(),
  providerOrderId: text('providerOrderId', 200).optional(),
  /** Orders of one service type (domain/service-types.ts). */
  serviceType: z.enum(SERVICE_TYPES, { error: `serviceType must be one of ${SERVICE_TYPES.join(', ')}` }).optional(),
  /** Scheduled orders (execute_at set) or not. */
  scheduled: yesNo('scheduled').optional(),
  /** Drip-feeds (true: either mode; engine: runs sent by the engine; provider: passed on) or not. */
  dripFeed: z
    .enum(['true', 'false', '1', '0', 'engine', 'provider'], { error: 'dripFeed must be true, false, engine or provider' })
    .transform((v) => (v === 'engine' || v === 'provider' ? v : v === 'true' || v === '1'))
    .optional(),
  /** Drip-feeds with runs begun (order_runs rows) or orders without any. */
  hasRuns: yesNo('hasRuns').optional(),
  flag: listOf(z.enum(ORDER_FLAGS as [OrderFlag, ...OrderFlag[]], { error: `flag must be one of ${ORDER_FLAGS.join(', ')}` }), 'flag').optional(),
  createdBefore: isoDate('createdBefore').optional(),
  createdAfter: isoDate('createdAfter').optional(),
  limit: wholeNumber('limit').pipe(z.int().max(1000, { error: 'limit must be at most 1000' })).optional(),
  cursor: wholeNumber('cursor').optional(),
});

export const liveQuery = z.strictObject({
  live: z.enum(['0', '1', 'true', 'false'], { error: 'live must be 1 or 0' }).optional(),
});

/** Client-chosen id of a request: a retried request is one action (one cancel, one audit record). */
const requestId = text('requestId', 200).regex(/^[\x21-\x7e]+$/, { error: 'requestId must be printable ASCII' });

export const cancelBody = z.strictObject({
  reason: text('reason', 1000).optional(),
  requestId: requestId.optional(),
});

// ---------------------------------------------------------------------------------------------
// Support: accounts

/** POST /support/users/:id/block and /unblock: why (required, it goes to the audit trail) and a request id. */
export const accountActionBody = z.strictObject({
  reason: text('reason', 1000),
  requestId: requestId.optional(),
});

// ---------------------------------------------------------------------------------------------
// Support: powers over one order (api/routes/support-orders.ts)

/** Why support acts on an order: required, kept in the audit record and the order's history. */
const actionReason = text('reason', 500);

/** POST /support/orders/:id/cancel: refund 'full' (R-CANCEL-FULL) or 'none' (R-CANCEL-NO-REFUND). */
export const supportCancelBody = z.strictObject({
  refund: z.enum(['full', 'none'], {
    error: (i) => (i.input === undefined ? 'refund is required ("full" or "none")' : 'refund must be "full" or "none"'),
  }),
  reason: actionReason,
  requestId: requestId.optional(),
});
export type SupportCancelBody = z.infer<typeof supportCancelBody>;

/** POST /support/orders/:id/move (R-SUBSTITUTE): the service to move the order to. */
export const moveOrderBody = z.strictObject({
  serviceId: wholeNumber('serviceId'),
  reason: actionReason,
  requestId: requestId.optional(),
});

/** POST /support/orders/:id/resolve-dispatch: providerOrderId is required for attach, and only for attach. */
export const resolveDispatchBody = z
  .strictObject({
    action: z.enum(['attach', 'redispatch', 'cancel'], {
      error: (i) => (i.input === undefined ? 'action is required (attach, redispatch or cancel)' : 'action must be one of attach, redispatch, cancel'),
    }),
    providerOrderId: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), text('providerOrderId', 200)).optional(),
    reason: actionReason,
    requestId: requestId.optional(),
  })
  .superRefine((b, ctx) => {
    if (b.action === 'attach' && b.providerOrderId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['providerOrderId'], params: { rule: 'required' }, message: "providerOrderId is required for action attach (the provider's order id)" });
    }
    if (b.action !== 'attach' && b.providerOrderId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['providerOrderId'], params: { rule: 'unknown_field' }, message: `providerOrderId is only for action attach, not ${b.action}` });
    }
  });
export type ResolveDispatchBody = z.infer<typeof resolveDispatchBody>;

// ---------------------------------------------------------------------------------------------
// Admin: users and money

export const userIdParam = wholeNumber('user id');

export const createUserBody = z.strictObject({
  name: text('name', 200),
  email: z.email({ error: 'email must be an e-mail address' }).max(320).optional(),
});

export const createApiKeyBody = z.strictObject({
  role: z.enum(ROLES as ['user', 'support', 'admin'], { error: `role must be one of ${ROLES.join(', ')}` }).default('user'),
  label: z.string().trim().max(200, { error: 'label must be at most 200 characters' }).default(''),
});

export const topUpBody = z.strictObject({
  amount: moneyText('amount'),
  paymentReference: text('paymentReference', 200),
});

export const withdrawalBody = z.strictObject({
  amount: moneyText('amount'),
  panelAtFault: z.boolean({ error: 'panelAtFault must be true or false' }),
  reason: text('reason', 1000),
});

/** A signed decimal string ("-12.5", "3"), not zero, at most 5 decimals. */
const signedMoneyText = (what: string) =>
  z
    .string({
      error: (i) =>
        i.input === undefined ? `${what} is required` : `${what} must be a decimal string such as "-12.50" (not a JSON number)`,
    })
    .superRefine((value, ctx) => {
      let ok = false;
      try {
        const d = money(value, what);
        // Decimal(20,5) holds 15 integer digits.
        ok = !d.isZero() && d.abs().lt('1e15');
      } catch {
        ok = false;
      }
      if (!ok) {
        ctx.addIssue({
          code: 'custom',
          params: { rule: 'money' },
          message: `${what} must be a non-zero signed decimal with at most 5 decimals, got ${JSON.stringify(value)}`,
        });
      }
    });

/** A manual balance correction: + credits, - debits; the reason is required. */
export const correctionBody = z.strictObject({
  amount: signedMoneyText('amount'),
  reason: text('reason', 1000),
});

export const chargebackBody = z.strictObject({
  amount: moneyText('amount').optional(),
  reason: text('reason', 1000),
});

// ---------------------------------------------------------------------------------------------
// Admin: catalogue

export const providerIdParam = wholeNumber('provider id');
export const serviceIdParam = wholeNumber('service id');

const providerFields = {
  name: text('name', 200),
  apiUrl: httpUrl('apiUrl'),
  apiKey: text('apiKey', 500),
  supportsLinkLookup: z.boolean({ error: 'supportsLinkLookup must be true or false' }),
  countSourceUrl: httpUrl('countSourceUrl').nullable(),
  active: z.boolean({ error: 'active must be true or false' }),
};

export const createProviderBody = z.strictObject({
  ...providerFields,
  supportsLinkLookup: providerFields.supportsLinkLookup.default(false),
  countSourceUrl: providerFields.countSourceUrl.optional(),
  active: providerFields.active.default(true),
});

export const patchProviderBody = z
  .strictObject(providerFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { error: 'nothing to change', params: { rule: 'required' } });

/** R-REFILL-SERVICE: none, a number of days, or lifetime (the order contract's Guarantee). */
export const refillSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('none') }),
    z.strictObject({ kind: z.literal('days'), days: wholeNumber('refill.days').pipe(z.int().max(3650)) }),
    z.strictObject({ kind: z.literal('lifetime') }),
  ],
  { error: 'refill.kind must be one of none, days, lifetime' },
);

const serviceFields = {
  name: text('name', 200),
  category: text('category', 200),
  /** domain/service-types.ts SERVICE_TYPES; for Package types `rate` is the price of one order. */
  /** The API v2 name ("Custom Comments") is taken too, as its key. */
  type: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase().replace(/[\s-]+/g, '_') : v),
    z.enum(SERVICE_TYPES, { error: `type must be one of ${SERVICE_TYPES.join(', ')}` }),
  ),
  /** Drip-feed (Default services only): none, engine (the engine runs the feed), provider (forwarded). */
  dripfeed: z.enum(DRIP_FEED_MODES, { error: `dripfeed must be one of ${DRIP_FEED_MODES.join(', ')}` }),
  providerId: wholeNumber('providerId'),
  providerServiceId: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), text('providerServiceId', 100)),
  /** Price per 1000 units; at most 5 decimals (the database stores Decimal(20,5)). */
  rate: moneyText('rate', { allowZero: true }),
  min: wholeNumber('min'),
  max: wholeNumber('max'),
  refill: refillSchema,
  cancelable: z.boolean({ error: 'cancelable must be true or false' }),
  active: z.boolean({ error: 'active must be true or false' }),
};

/** R-MINMAX needs a sane range: min <= max (the database CHECKs it too). */
function checkMinMax(min: number, max: number, ctx: z.RefinementCtx): void {
  if (min > max) ctx.addIssue({ code: 'custom', path: ['max'], params: { rule: 'R-MINMAX' }, message: `max (${max}) must not be below min (${min})` });
}

/** Drip-feed is a Default service's option (the reference: `runs`/`interval` on Default orders). */
export function checkDripFeed(type: string, dripfeed: string, ctx: z.RefinementCtx): void {
  if (dripfeed !== 'none' && type !== 'default') {
    ctx.addIssue({ code: 'custom', path: ['dripfeed'], params: { rule: 'drip_feed' }, message: `dripfeed is offered on Default services only, not on ${type}` });
  }
}

export const createServiceBody = z
  .strictObject({
    ...serviceFields,
    type: serviceFields.type.default('default'),
    dripfeed: serviceFields.dripfeed.default('none'),
    refill: serviceFields.refill.default({ kind: 'none' }),
    cancelable: serviceFields.cancelable.default(false),
    active: serviceFields.active.default(true),
  })
  .superRefine((b, ctx) => {
    checkMinMax(b.min, b.max, ctx);
    checkDripFeed(b.type, b.dripfeed, ctx);
  });

export const patchServiceBody = z
  .strictObject(serviceFields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { error: 'nothing to change', params: { rule: 'required' } });

export const catalogueListQuery = z.strictObject({
  active: z.enum(['0', '1', 'true', 'false'], { error: 'active must be 1 or 0' }).optional(),
  providerId: wholeNumber('providerId').optional(),
});

// ---------------------------------------------------------------------------------------------
// Admin: audit trail

/** GET /admin/audit: filters ANDed; `from` inclusive, `to` exclusive; newest first, keyset on id. */
export const auditQuery = z.strictObject({
  actorUserId: wholeNumber('actorUserId').optional(),
  apiKeyId: wholeNumber('apiKeyId').optional(),
  action: listOf(text('action', 100), 'action').optional(),
  orderId: wholeNumber('orderId').optional(),
  targetUserId: wholeNumber('targetUserId').optional(),
  from: isoDate('from').optional(),
  to: isoDate('to').optional(),
  limit: wholeNumber('limit').pipe(z.int().max(1000, { error: 'limit must be at most 1000' })).optional(),
  cursor: wholeNumber('cursor').optional(),
});

/** '1' / 'true' → true, '0' / 'false' → false, absent → undefined. */
export function flag(value: '0' | '1' | 'true' | 'false' | undefined): boolean | undefined {
  return value === undefined ? undefined : value === '1' || value === 'true';
}

/** Parse with a zod schema or throw the 400 that names field and rule. */
export function parseOr400<T extends z.ZodType>(schema: T, input: unknown, where?: 'query'): z.output<T> {
  // reportInput: the rule of a type error depends on whether there was a value at all.
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success) throw fromZod(result.error, where);
  return result.data;
}
