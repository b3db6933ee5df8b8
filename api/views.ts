// What the API answers: JSON views of orders, users, providers and services.
// Money is always a 5-decimal string; times are ISO-8601 UTC.
import type { OrderRecord, OrderTypeFields } from '../activities/order-records';
import type { Provider, Service, User } from '../generated/prisma/client';
import { toApiV2Status } from '../domain/api-v2-status';
import { formatMoney } from '../domain/money';
import type { OrderStatus } from '../domain/order-status';
import { guaranteeOf } from '../worker/order-client';
import type { Guarantee, MoveRecord, OrderInput, OrderState } from '../workflows/order-contract';
import type { ServiceType } from '../domain/service-types';
import type { Role } from './auth';
import { isStaff } from './auth';

export interface OrderView {
  id: number;
  userId: number;
  serviceId: number;
  link: string;
  quantity: number;
  rate: string;
  charge: string;
  refunded: string;
  /** The engine's status. */
  status: OrderStatus;
  /** The same status as an SMM API v2 client knows it (Pending, In progress, ..., Canceled). */
  apiStatus: string;
  flags: { overdue: boolean; stalled: boolean; cancelRequested: boolean };
  startCount: number | null;
  remains: number | null;
  refill: Guarantee;
  cancelable: boolean;
  rejectReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Staff only: who delivers it. */
  providerId?: number;
  providerOrderId?: string | null;
  /** Order types (issue 12): the service's type and, where set, the type's own fields. */
  serviceType?: ServiceType;
  /** The type's fields as the provider gets them (comments, usernames, answer_number, ...). */
  typeFields?: Record<string, string>;
  dripFeed?: NonNullable<OrderTypeFields['dripFeed']>;
  subscription?: NonNullable<OrderTypeFields['subscription']>;
  /** A scheduled order: when it is sent to the provider, ISO-8601 UTC. */
  executeAt?: string;
  /** Staff only, live view (?live=1): support's moves (R-SUBSTITUTE), oldest first, with their phase. */
  moves?: MoveRecord[];
  /** A drip-feed the engine runs (issue 12): every run begun, oldest first. */
  runs?: RunView[];
  /** A subscription (issue 12), live view: the provider's status, posts served of those paid, what each got. */
  posts?: { status: string; served: number; ordered: number; delivered: Array<number | null> };
}

/** One run of a drip-feed (order_runs row, or the workflow's record of it). */
export interface RunView {
  run: number;
  quantity: number;
  status: string;
  startCount: number | null;
  remains: number | null;
  refunded: string;
  reason: string | null;
  sentAt: string | null;
  finishedAt: string | null;
  /** Staff only. */
  providerOrderId?: string | null;
}

/** The runs as the order_runs rows hold them. */
export function runsFromRows(
  rows: Array<{ runIndex: number; quantity: number; status: string; startCount: number | null; remains: number | null; refunded: { toFixed(n: number): string }; reason: string | null; sentAt: Date | null; finishedAt: Date | null; providerOrderId: string | null }>,
  role: Role,
): RunView[] {
  return rows.map((r) => ({
    run: r.runIndex,
    quantity: r.quantity,
    status: r.status,
    startCount: r.startCount,
    remains: r.remains,
    refunded: formatMoney(r.refunded.toFixed(5)),
    reason: r.reason,
    sentAt: r.sentAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
    ...(isStaff(role) ? { providerOrderId: r.providerOrderId } : {}),
  }));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function withStaffFields(view: OrderView, role: Role, providerId: number, providerOrderId: string | null): OrderView {
  return isStaff(role) ? { ...view, providerId, providerOrderId } : view;
}

/**
 * The order's type and its fields, for every view: `serviceType` always, the rest where set (a
 * Default order shows only `serviceType: "default"`).
 */
export function typeView(t: Partial<OrderTypeFields> | undefined): Pick<OrderView, 'serviceType' | 'typeFields' | 'dripFeed' | 'subscription' | 'executeAt'> {
  return {
    serviceType: t?.serviceType ?? 'default',
    ...(t?.providerFields && Object.keys(t.providerFields).length > 0 ? { typeFields: t.providerFields } : {}),
    ...(t?.dripFeed ? { dripFeed: t.dripFeed } : {}),
    ...(t?.subscription ? { subscription: t.subscription } : {}),
    ...(t?.executeAt ? { executeAt: t.executeAt } : {}),
  };
}

/** The type fields of a placement's input, as typeView takes them. */
export function typeFieldsOfInput(input: OrderInput): Partial<OrderTypeFields> {
  return {
    serviceType: input.serviceType ?? 'default',
    providerFields: input.providerFields ?? null,
    dripFeed: input.dripFeed ?? null,
    subscription: input.subscription ?? null,
    executeAt: input.executeAt !== undefined ? new Date(input.executeAt).toISOString() : null,
  };
}

/** An order from its database row (the mirror of the workflow's state). */
export function orderFromRecord(o: OrderRecord, role: Role): OrderView {
  return withStaffFields(
    {
      id: o.id,
      userId: o.userId,
      serviceId: o.serviceId,
      link: o.link,
      quantity: o.quantity,
      rate: o.rate,
      charge: o.charge,
      refunded: o.refunded,
      status: o.status,
      apiStatus: toApiV2Status(o.status, o),
      flags: { overdue: o.overdue, stalled: o.stalled, cancelRequested: o.cancelRequested },
      startCount: o.startCount,
      remains: o.remains,
      refill: guaranteeOf(o.refillKind, o.refillDays),
      cancelable: o.cancelable,
      rejectReason: o.rejectReason,
      createdAt: o.createdAt,
      startedAt: o.startedAt,
      finishedAt: o.finishedAt,
      ...typeView(o),
    },
    role,
    o.providerId,
    o.providerOrderId,
  );
}

/** An order from the workflow's live state (placement answer, or GET ?live=1). */
export function orderFromState(s: OrderState, role: Role, type?: Partial<OrderTypeFields>): OrderView {
  const view = withStaffFields(
    {
      id: s.orderId,
      userId: s.userId,
      serviceId: s.serviceId,
      link: s.link,
      quantity: s.quantity,
      rate: formatMoney(s.rate),
      charge: formatMoney(s.charge),
      refunded: formatMoney(s.refunded),
      status: s.status,
      apiStatus: toApiV2Status(s.status, s.flags),
      flags: { overdue: s.flags.overdue, stalled: s.flags.stalled, cancelRequested: s.flags.cancelRequested },
      startCount: s.startCount,
      remains: s.remains,
      refill: s.guarantee,
      cancelable: s.cancelable,
      rejectReason: s.rejectReason,
      createdAt: new Date(s.timestamps.placedAt).toISOString(),
      startedAt: iso(s.timestamps.startedAt),
      finishedAt: iso(s.timestamps.finishedAt),
      // The workflow's state has no type fields: the caller passes them (row or placement input).
      ...typeView(type),
    },
    role,
    s.providerId,
    s.providerOrderId,
  );
  const typed: OrderView = {
    ...view,
    ...(s.executeAt !== undefined ? { executeAt: new Date(s.executeAt).toISOString() } : {}),
    ...(s.dripFeed
      ? {
          runs: s.dripFeed.list.map((r) => ({
            run: r.index,
            quantity: r.quantity,
            status: r.status,
            startCount: r.startCount,
            remains: r.remains,
            refunded: r.refund?.amount ?? '0.00000',
            reason: r.reason,
            sentAt: iso(r.sentAt),
            finishedAt: iso(r.finishedAt),
            ...(isStaff(role) ? { providerOrderId: r.providerOrderId } : {}),
          })),
        }
      : {}),
    ...(s.subscription
      ? { posts: { status: s.subscription.status, served: s.subscription.posts, ordered: type?.subscription?.posts ?? s.subscription.posts, delivered: s.subscription.delivered } }
      : {}),
  };
  return isStaff(role) && s.moves ? { ...typed, moves: s.moves } : typed;
}

export function userView(u: User) {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    status: u.status,
    balance: formatMoney(u.balance.toFixed(5)),
    createdAt: u.createdAt.toISOString(),
  };
}

/** A provider without its secret: the upstream API key is write-only. */
export function providerView(p: Provider) {
  return {
    id: p.id,
    name: p.name,
    apiUrl: p.apiUrl,
    apiKeySet: p.apiKey !== '',
    supportsLinkLookup: p.supportsLinkLookup,
    countSourceUrl: p.countSourceUrl,
    active: p.active,
    createdAt: p.createdAt.toISOString(),
  };
}

export function serviceView(s: Service) {
  return {
    id: s.id,
    name: s.name,
    category: s.category,
    type: s.type,
    dripfeed: s.dripfeed,
    providerId: s.providerId,
    providerServiceId: s.providerServiceId,
    rate: formatMoney(s.rate.toFixed(5)),
    min: s.min,
    max: s.max,
    refill: guaranteeOf(s.refillKind, s.refillDays),
    cancelable: s.cancelable,
    active: s.active,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}
