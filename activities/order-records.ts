// Order rows: the read model of orders. Each order's workflow is the source of truth for its state;
// this table mirrors it for listing and lookups, and holds what the database must enforce:
// - R-ONE-ACTIVE-PER-LINK: a partial unique index (orders_active_link_key) admits one active order
//   per normalised link, whatever the concurrency; a second placement gets the holder's id.
// - R-PRICE-SNAPSHOT: rate, charge, refill terms and the cancel flag are copied into the row when
//   the order is placed and never rewritten by the mirror.
// - orders.refunded moves only with ledger refunds (activities/ledger.ts refundOrder), never here.
//
// Every method is safe to call from a Temporal activity that may be retried.
import type { PrismaClient } from '../generated/prisma/client';
import { Prisma } from '../generated/prisma/client';
import type { Order as OrderRow } from '../generated/prisma/client';
import { PG_UNIQUE_VIOLATION, dbErrorInfo } from '../db/errors';
import { validateLink } from '../domain/link';
import { formatMoney, money } from '../domain/money';
import type { MoneyInput } from '../domain/money';
import { ACTIVE_STATUSES, ORDER_STATUSES, canTransition } from '../domain/order-status';
import type { OrderStatus } from '../domain/order-status';
import type { ServiceType } from '../domain/service-types';
import type { OrderInput } from '../workflows/order-contract';

/** An order's type and the type's fields (issue 12), as placed (R-PRICE-SNAPSHOT). */
export interface OrderTypeFields {
  serviceType: ServiceType;
  /** The type's own `add` fields, as the provider gets them; null for a plain link + quantity order. */
  providerFields: Record<string, string> | null;
  dripFeed: NonNullable<OrderInput['dripFeed']> | null;
  subscription: NonNullable<OrderInput['subscription']> | null;
  /** Scheduled start (ISO-8601 UTC), or null. */
  executeAt: string | null;
}

export type RefillKind = 'none' | 'days' | 'lifetime';

/** An order row, JSON-safe (money as 5-decimal strings, times as ISO-8601 UTC). */
export interface OrderRecord {
  id: number;
  workflowId: string;
  userId: number;
  serviceId: number;
  providerId: number;
  link: string;
  linkKey: string;
  quantity: number;
  rate: string;
  charge: string;
  refillKind: RefillKind;
  refillDays: number | null;
  cancelable: boolean;
  status: OrderStatus;
  overdue: boolean;
  stalled: boolean;
  cancelRequested: boolean;
  providerOrderId: string | null;
  startCount: number | null;
  remains: number | null;
  refunded: string;
  lastProviderAnswer: unknown;
  rejectReason: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  serviceType: ServiceType;
  providerFields: Record<string, string> | null;
  dripFeed: OrderTypeFields['dripFeed'];
  subscription: OrderTypeFields['subscription'];
  executeAt: string | null;
}

export interface CreateOrderInput {
  /**
   * The order's id when the caller reserved it beforehand (nextval of the orders id sequence, see
   * worker/placement.ts); omitted, the database assigns the next one.
   */
  id?: number;
  workflowId: string;
  userId: number;
  serviceId: number;
  providerId: number;
  link: string;
  /** The normalised link (domain/link.ts normalizeLink). */
  linkKey: string;
  quantity: number;
  /** R-PRICE-SNAPSHOT: copied from the service at placement. */
  rate: MoneyInput;
  charge: MoneyInput;
  refillKind: RefillKind;
  refillDays?: number | null;
  cancelable: boolean;
  /** HTTP Idempotency-Key and request hash of the placement, when the API had them. */
  idempotencyKey?: string | null;
  requestHash?: string | null;
  /** Order types (issue 12); absent: a Default order. */
  type?: Partial<OrderTypeFields>;
}

export type CreateOrderResult =
  | { ok: true; order: OrderRecord; /** the row already existed for this workflowId */ replayed: boolean }
  | { ok: false; reason: 'link_busy'; holderOrderId: number };

/** The workflow's state mirrored into the row. No money: charge/rate are snapshots, refunded is the ledger's. */
export interface OrderMirrorPatch {
  status?: OrderStatus;
  overdue?: boolean;
  stalled?: boolean;
  cancelRequested?: boolean;
  providerOrderId?: string | null;
  startCount?: number | null;
  remains?: number | null;
  lastProviderAnswer?: unknown;
  rejectReason?: string | null;
  startedAt?: Date | string | null;
  finishedAt?: Date | string | null;
  /** R-SUBSTITUTE: support moved the order to another service/provider (the charge stays). */
  serviceId?: number;
  providerId?: number;
}

export type UpdateOrderMirrorResult =
  /** statusChanged: this write moved the status (false: the patch had none, or the row had it already). */
  | { applied: true; order: OrderRecord; statusChanged: boolean }
  /** The patch would move the status backwards (e.g. a late retry of an old activity): ignored. */
  | { applied: false; reason: 'stale_status'; order: OrderRecord };

/**
 * Flags support searches by. overdue, stalled and cancel_requested are the row's columns;
 * dispatch_uncertain is a status; refill_failed means a refill of the order is `failed` or
 * `rejected` in the refills table (the provider did not take it, or rejected it later: the workflow's
 * flags.refillFailed; support can retry it, R-REFILL-SUPPORT).
 */
export type OrderFlag = 'overdue' | 'stalled' | 'dispatch_uncertain' | 'cancel_requested' | 'refill_failed';
export const ORDER_FLAGS: readonly OrderFlag[] = ['overdue', 'stalled', 'dispatch_uncertain', 'cancel_requested', 'refill_failed'];

export interface ListOrdersInput {
  /** One or several order ids. */
  ids?: number[];
  userId?: number;
  status?: OrderStatus | OrderStatus[];
  /**
   * Matches the link as given (link or linkKey column) or as normalised (domain/link.ts
   * normalizeLink, when it is a link at all): every spelling of one link finds its orders.
   */
  link?: string;
  linkKey?: string;
  providerId?: number;
  /** The provider's order id, exactly. */
  providerOrderId?: string;
  /** Orders of one service type. */
  serviceType?: ServiceType;
  /** Scheduled orders (execute_at set: true), or orders sent at once (false). */
  scheduled?: boolean;
  /** Drip-feeds (any: true; one mode: 'engine' | 'provider') or orders that are not (false). */
  dripFeed?: boolean | 'engine' | 'provider';
  /** Orders with drip-feed runs begun (true: at least one order_runs row), or without (false). */
  hasRuns?: boolean;
  /** Orders with every one of these flags. */
  flags?: OrderFlag[];
  createdBefore?: Date | string;
  createdAfter?: Date | string;
  /** 1..1000 */
  limit: number;
  /** nextCursor of the previous page (orders with a smaller id, newest first). */
  cursor?: number | null;
}

export interface OrderPage {
  orders: OrderRecord[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: number | null;
}

export interface OrderRecords {
  createOrder(input: CreateOrderInput): Promise<CreateOrderResult>;
  updateOrderMirror(orderId: number, patch: OrderMirrorPatch): Promise<UpdateOrderMirrorResult>;
  /** new → pending once the debit is booked, in one statement; a repeat (already pending or beyond) changes nothing. */
  markPaid(orderId: number): Promise<void>;
  getOrder(id: number): Promise<OrderRecord | null>;
  getOrderByWorkflowId(workflowId: string): Promise<OrderRecord | null>;
  /** R-ONE-ACTIVE-PER-LINK: the order holding this normalised link, if any. */
  findActiveOrderForLink(linkKey: string): Promise<OrderRecord | null>;
  listOrders(input: ListOrdersInput): Promise<OrderPage>;
}

/** Orders whose workflowId already has a row with different content: a caller bug. */
export class OrderConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrderConflictError';
  }
}

const LINK_INDEX = 'orders_active_link_key';
const WORKFLOW_ID_INDEX = 'orders_workflow_id_key';
const MIRROR_FIELDS = new Set<keyof OrderMirrorPatch>([
  'status', 'overdue', 'stalled', 'cancelRequested', 'providerOrderId', 'startCount', 'remains',
  'lastProviderAnswer', 'rejectReason', 'startedAt', 'finishedAt', 'serviceId', 'providerId',
]);
const FINAL = new Set<OrderStatus>(['completed', 'partial', 'canceled', 'rejected']);
const MAX_PAGE = 1000;

export function createOrderRecords(prisma: PrismaClient): OrderRecords {
  async function getOrderByWorkflowId(workflowId: string): Promise<OrderRecord | null> {
    const row = await prisma.order.findUnique({ where: { workflowId } });
    return row ? toRecord(row) : null;
  }

  async function findActiveOrderForLink(linkKey: string): Promise<OrderRecord | null> {
    // Not findUnique({ linkKey }): linkKey is unique only among active orders.
    const row = await prisma.order.findFirst({
      where: { linkKey, status: { in: [...ACTIVE_STATUSES] } },
      orderBy: { id: 'asc' },
    });
    return row ? toRecord(row) : null;
  }

  return {
    async createOrder(input) {
      assertCreateInput(input);
      const data: Prisma.OrderUncheckedCreateInput = {
        ...(input.id !== undefined ? { id: input.id } : {}),
        workflowId: input.workflowId,
        userId: input.userId,
        serviceId: input.serviceId,
        providerId: input.providerId,
        link: input.link,
        linkKey: input.linkKey,
        quantity: input.quantity,
        rate: formatMoney(money(input.rate, 'rate')),
        charge: formatMoney(money(input.charge, 'charge')),
        refillKind: input.refillKind,
        refillDays: input.refillDays ?? null,
        cancelable: input.cancelable,
        status: 'new',
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash: input.requestHash ?? null,
        ...typeColumns(input.type),
      };
      // A holder can finish between our failed insert and the lookup of who holds the link;
      // then the link is free and we try again.
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          const row = await prisma.order.create({ data });
          return { ok: true, order: toRecord(row), replayed: false };
        } catch (error) {
          const info = dbErrorInfo(error);
          if (!info || info.code !== PG_UNIQUE_VIOLATION) throw error;
          // A retried activity: the row for this workflow already exists (whichever index fired).
          const mine = await getOrderByWorkflowId(input.workflowId);
          if (mine) return { ok: true, order: sameOrderOrThrow(mine, input), replayed: true };
          if (info.constraint === WORKFLOW_ID_INDEX) continue; // vanished? cannot happen; retry
          if (info.constraint !== LINK_INDEX) throw error;
          const holder = await findActiveOrderForLink(input.linkKey);
          if (holder) return { ok: false, reason: 'link_busy', holderOrderId: holder.id };
        }
      }
      throw new Error(`createOrder: link ${input.linkKey} kept changing hands; giving up after 5 attempts`);
    },

    async updateOrderMirror(orderId, patch) {
      for (const key of Object.keys(patch)) {
        if (!MIRROR_FIELDS.has(key as keyof OrderMirrorPatch)) {
          throw new TypeError(`updateOrderMirror: field ${JSON.stringify(key)} is not mirrored (refunded moves only with ledger refunds)`);
        }
      }
      if (patch.status !== undefined && !ORDER_STATUSES.includes(patch.status)) {
        throw new TypeError(`updateOrderMirror: unknown status ${JSON.stringify(patch.status)}`);
      }
      const data = mirrorData(patch);
      // Each try is one UPDATE ... RETURNING whose WHERE says which rows it may change: the row's lock
      // is held for that statement only, and concurrent mirrors of one order apply one after the other.
      const write = async (where: Prisma.OrderWhereInput, extra: Prisma.OrderUncheckedUpdateManyInput = {}) =>
        (await prisma.order.updateManyAndReturn({ where: { id: orderId, ...where }, data: { ...data, ...extra } }))[0];
      const target = patch.status;
      if (target === undefined) {
        const row = await write({});
        if (!row) throw new Error(`updateOrderMirror: order ${orderId} does not exist`);
        return { applied: true as const, order: toRecord(row), statusChanged: false };
      }
      // Reaching a final status stamps finishedAt unless the workflow gave one (or the row has one).
      const stamp = FINAL.has(target) && patch.finishedAt === undefined;
      const tries: Array<{ from: OrderStatus[]; statusChanged: boolean }> = [
        // The common case: a status that may move to the target (never backwards).
        { from: ORDER_STATUSES.filter((s) => s !== target && canTransition(s, target)), statusChanged: true },
        // The row already has it (a retried mirror): the other fields still apply.
        { from: [target], statusChanged: false },
      ];
      for (const { from, statusChanged } of tries) {
        if (from.length === 0) continue;
        const row =
          (stamp ? await write({ status: { in: from }, finishedAt: null }, { finishedAt: new Date() }) : undefined) ??
          (await write({ status: { in: from } }));
        if (row) return { applied: true as const, order: toRecord(row), statusChanged };
      }
      const row = await prisma.order.findUnique({ where: { id: orderId } });
      if (!row) throw new Error(`updateOrderMirror: order ${orderId} does not exist`);
      return { applied: false as const, reason: 'stale_status' as const, order: toRecord(row) };
    },

    async markPaid(orderId) {
      // The only move out of 'new' besides 'rejected', and only reserveAndDebit makes it: no row lock
      // or transition check needed beyond the status the UPDATE itself matches.
      await prisma.order.updateMany({ where: { id: orderId, status: 'new' }, data: { status: 'pending' } });
    },

    async getOrder(id) {
      const row = await prisma.order.findUnique({ where: { id } });
      return row ? toRecord(row) : null;
    },

    getOrderByWorkflowId,
    findActiveOrderForLink,

    async listOrders(input) {
      const limit = Math.trunc(input.limit);
      if (!(limit >= 1 && limit <= MAX_PAGE)) throw new RangeError(`listOrders: limit must be 1..${MAX_PAGE}, got ${input.limit}`);
      const where: Prisma.OrderWhereInput = {};
      // Conditions that need their own OR or override a column already set are ANDed here.
      const and: Prisma.OrderWhereInput[] = [];
      if (input.ids !== undefined) where.id = { in: input.ids };
      if (input.userId !== undefined) where.userId = input.userId;
      if (input.providerId !== undefined) where.providerId = input.providerId;
      // A drip-feed's earlier runs had their own upstream orders: the provider's id of any run finds its feed.
      if (input.providerOrderId !== undefined) and.push({ OR: [{ providerOrderId: input.providerOrderId }, { runs: { some: { providerOrderId: input.providerOrderId } } }] });
      if (input.status !== undefined) {
        where.status = Array.isArray(input.status) ? { in: input.status } : input.status;
      }
      if (input.linkKey !== undefined) where.linkKey = input.linkKey;
      if (input.serviceType !== undefined) where.serviceType = input.serviceType;
      if (input.scheduled !== undefined) where.executeAt = input.scheduled ? { not: null } : null;
      if (input.dripFeed !== undefined) {
        if (typeof input.dripFeed === 'string') where.dripFeed = { path: ['mode'], equals: input.dripFeed };
        else where.dripFeed = input.dripFeed ? { not: Prisma.DbNull } : { equals: Prisma.DbNull };
      }
      if (input.hasRuns !== undefined) where.runs = input.hasRuns ? { some: {} } : { none: {} };
      if (input.link !== undefined) {
        const keys = new Set([input.link]);
        const normalized = validateLink(input.link);
        if (normalized.ok) keys.add(normalized.normalized);
        and.push({ OR: [{ link: input.link }, { linkKey: { in: [...keys] } }] });
      }
      for (const flag of new Set(input.flags ?? [])) and.push(flagCondition(flag));
      if (input.createdBefore !== undefined || input.createdAfter !== undefined) {
        where.createdAt = {
          ...(input.createdBefore !== undefined ? { lt: toDate(input.createdBefore)! } : {}),
          ...(input.createdAfter !== undefined ? { gt: toDate(input.createdAfter)! } : {}),
        };
      }
      if (input.cursor !== undefined && input.cursor !== null) and.push({ id: { lt: input.cursor } });
      if (and.length > 0) where.AND = and;
      // Keyset paging on id (creation order), newest first: stable under concurrent inserts.
      const rows = await prisma.order.findMany({ where, orderBy: { id: 'desc' }, take: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        orders: page.map(toRecord),
        nextCursor: rows.length > limit ? page[page.length - 1].id : null,
      };
    },
  };
}

export function flagCondition(flag: OrderFlag): Prisma.OrderWhereInput {
  switch (flag) {
    case 'overdue':
      return { overdue: true };
    case 'stalled':
      return { stalled: true };
    case 'cancel_requested':
      return { cancelRequested: true };
    case 'dispatch_uncertain':
      return { status: 'dispatch_uncertain' };
    case 'refill_failed':
      return { refills: { some: { status: { in: ['failed', 'rejected'] } } } };
    default:
      throw new TypeError(`listOrders: unknown flag ${JSON.stringify(flag)}`);
  }
}

/** The row's columns a mirror patch sets (validated by updateOrderMirror). */
function mirrorData(patch: OrderMirrorPatch): Prisma.OrderUncheckedUpdateManyInput {
  const data: Prisma.OrderUncheckedUpdateManyInput = {};
  if (patch.status !== undefined) data.status = patch.status;
  if (patch.overdue !== undefined) data.overdue = patch.overdue;
  if (patch.stalled !== undefined) data.stalled = patch.stalled;
  if (patch.cancelRequested !== undefined) data.cancelRequested = patch.cancelRequested;
  if (patch.providerOrderId !== undefined) data.providerOrderId = patch.providerOrderId;
  if (patch.startCount !== undefined) data.startCount = patch.startCount;
  if (patch.remains !== undefined) data.remains = patch.remains;
  if (patch.lastProviderAnswer !== undefined) {
    data.lastProviderAnswer = patch.lastProviderAnswer === null ? Prisma.DbNull : (patch.lastProviderAnswer as Prisma.InputJsonValue);
  }
  if (patch.rejectReason !== undefined) data.rejectReason = patch.rejectReason;
  if (patch.startedAt !== undefined) data.startedAt = toDate(patch.startedAt);
  if (patch.finishedAt !== undefined) data.finishedAt = toDate(patch.finishedAt);
  if (patch.serviceId !== undefined) data.serviceId = patch.serviceId;
  if (patch.providerId !== undefined) data.providerId = patch.providerId;
  return data;
}

/** A row of `orders` as the engine reads it (money as 5-decimal strings, times as ISO text). */
export function toRecord(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    workflowId: row.workflowId,
    userId: row.userId,
    serviceId: row.serviceId,
    providerId: row.providerId,
    link: row.link,
    linkKey: row.linkKey,
    quantity: row.quantity,
    rate: formatMoney(row.rate.toFixed(5)),
    charge: formatMoney(row.charge.toFixed(5)),
    refillKind: row.refillKind as RefillKind,
    refillDays: row.refillDays,
    cancelable: row.cancelable,
    status: row.status as OrderStatus,
    overdue: row.overdue,
    stalled: row.stalled,
    cancelRequested: row.cancelRequested,
    providerOrderId: row.providerOrderId,
    startCount: row.startCount,
    remains: row.remains,
    refunded: formatMoney(row.refunded.toFixed(5)),
    lastProviderAnswer: row.lastProviderAnswer ?? null,
    rejectReason: row.rejectReason,
    idempotencyKey: row.idempotencyKey,
    requestHash: row.requestHash,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    startedAt: row.startedAt ? row.startedAt.toISOString() : null,
    finishedAt: row.finishedAt ? row.finishedAt.toISOString() : null,
    serviceType: row.serviceType as ServiceType,
    providerFields: (row.providerFields as Record<string, string> | null) ?? null,
    dripFeed: (row.dripFeed as OrderTypeFields['dripFeed']) ?? null,
    subscription: (row.subscription as OrderTypeFields['subscription']) ?? null,
    executeAt: row.executeAt ? row.executeAt.toISOString() : null,
  };
}

/** The type columns of a new row; JSON columns stay NULL when empty. */
function typeColumns(type: Partial<OrderTypeFields> | undefined): Partial<Prisma.OrderUncheckedCreateInput> {
  if (!type) return {};
  const json = (v: object | null | undefined) => (v && Object.keys(v).length > 0 ? (v as Prisma.InputJsonValue) : Prisma.DbNull);
  return {
    serviceType: type.serviceType ?? 'default',
    providerFields: json(type.providerFields),
    dripFeed: json(type.dripFeed),
    subscription: json(type.subscription),
    executeAt: type.executeAt ? new Date(type.executeAt) : null,
  };
}

function sameOrderOrThrow(existing: OrderRecord, input: CreateOrderInput): OrderRecord {
  const same =
    (input.id === undefined || existing.id === input.id) &&
    existing.userId === input.userId &&
    existing.serviceId === input.serviceId &&
    existing.linkKey === input.linkKey &&
    existing.quantity === input.quantity &&
    money(existing.charge).eq(money(input.charge, 'charge'));
  if (!same) {
    throw new OrderConflictError(
      `workflow ${existing.workflowId} already has order ${existing.id} with different content ` +
        `(user ${existing.userId}, service ${existing.serviceId}, link ${existing.linkKey}, quantity ${existing.quantity}, charge ${existing.charge})`,
    );
  }
  return existing;
}

function assertCreateInput(input: CreateOrderInput): void {
  if (!input.workflowId) throw new TypeError('createOrder: workflowId is required');
  if (input.id !== undefined && (!Number.isSafeInteger(input.id) || input.id <= 0)) {
    throw new RangeError(`createOrder: id must be a positive integer, got ${input.id}`);
  }
  if (!input.linkKey) throw new TypeError('createOrder: linkKey is required');
  if (!Number.isSafeInteger(input.quantity) || input.quantity <= 0) {
    throw new RangeError(`createOrder: quantity must be a positive integer, got ${input.quantity}`);
  }
}

function toDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date: ${String(value)}`);
  return date;
}
