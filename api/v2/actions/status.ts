// action=status, one order or up to 100:
//   order=23501      → {"charge":"0.27819","start_count":"3572","status":"Partial","remains":"157","currency":"USD"}
//   orders=1,10,100  → {"1": {...}, "10": {"error": "Incorrect order ID"}, "100": {...}}
// Read from the order rows (the workflows' mirror), one query for the whole list: resellers poll
// often and for many orders. Only the caller's own orders exist here; any other id, whoever owns
// it, is "Incorrect order ID".
// A drip-feed the engine runs answers `runs` (runs begun) and `orders` (its runs' ids), as panels
// answer a drip-feed parent (docs/smm-api-v2.md, Statuses). Each of those ids is an order the
// reseller can query here too: a run's id comes from the orders' id sequence (never an order's id),
// and `status` of it answers the run as an order of its own: its share of the feed's charge less its
// refund, its start count, status and remains. (A run is refilled and canceled through its feed.)
import { toApiV2Status } from '../../../domain/api-v2-status';
import type { ApiV2Status } from '../../../domain/api-v2-status';
import { ZERO_MONEY, formatMoney, subMoney } from '../../../domain/money';
import { partialRefund } from '../../../domain/refund';
import type { OrderStatus } from '../../../domain/order-status';
import type { PrismaClient } from '../../../generated/prisma/client';
import type { Action } from '../context';
import { V2_TEXT, V2Error, errorBody } from '../errors';
import { field, parseId, parseIdList } from '../parse';

export interface V2OrderStatus {
  charge: string;
  start_count: string;
  status: ApiV2Status;
  remains: string;
  currency: string;
  /** A drip-feed the engine runs (issue 12): runs begun so far and their ids, as panels answer. */
  runs?: string;
  orders?: number[];
  /** A subscription (issue 12): posts served so far, as panels answer. */
  posts?: string;
}

/** What status needs of an order row. */
export interface StatusRow {
  id: number;
  status: string;
  cancelRequested: boolean;
  quantity: number;
  /** 5-decimal strings. */
  charge: string;
  refunded: string;
  startCount: number | null;
  remains: number | null;
  /** A drip-feed's runs (order_runs ids, in run order); empty for any other order. */
  runs?: Array<{ id: number }>;
  /** A subscription: posts served so far (the provider's last word, kept by the sync). */
  posts?: number;
}

/**
 * An order as API v2 shows it. `status` comes from the documented table (domain/api-v2-status.ts).
 * `charge` is what the order costs the client now: its charge less its refunds (a Partial order
 * shows the delivered part, a Canceled one 0), and 0 for a placement whose debit was refused.
 * `start_count` is "0" until the provider starts; `remains` is the quantity until the provider
 * reports one (0 for a Completed order that never reported it).
 */
export function statusView(row: StatusRow, currency: string): V2OrderStatus {
  const status = row.status as OrderStatus;
  const remains = row.remains ?? (status === 'completed' ? 0 : row.quantity);
  return {
    charge: status === 'rejected' ? ZERO_MONEY : subMoney(row.charge, row.refunded),
    start_count: String(row.startCount ?? 0),
    status: toApiV2Status(status, { cancelRequested: row.cancelRequested }),
    remains: String(remains),
    currency,
    ...(row.runs && row.runs.length > 0 ? { runs: String(row.runs.length), orders: row.runs.map((r) => r.id) } : {}),
    ...(row.posts !== undefined ? { posts: String(row.posts) } : {}),
  };
}

/** The caller's own orders among `ids`, by id (one query). */
export async function ownStatusRows(prisma: PrismaClient, userId: number, ids: number[]): Promise<Map<number, StatusRow>> {
  if (ids.length === 0) return new Map();
  const rows = await prisma.order.findMany({
    where: { id: { in: ids }, userId },
    select: {
      id: true, status: true, cancelRequested: true, quantity: true, charge: true, refunded: true, startCount: true, remains: true,
      runs: { select: { id: true }, orderBy: { runIndex: 'asc' } },
      subscription: true, upstreamRemains: true,
    },
  });
  return new Map(
    rows.map(({ subscription, upstreamRemains, ...r }) => [
      r.id,
      {
        ...r,
        charge: formatMoney(r.charge.toFixed(5)),
        refunded: formatMoney(r.refunded.toFixed(5)),
        // The sync keeps a subscription's posts served in upstream_remains (provider-sync-activities).
        ...(subscription !== null ? { posts: upstreamRemains ?? 0 } : {}),
      },
    ]),
  );
}

/** The caller's own drip-feed runs among `ids` (ids no own order has), each as an order of its own. */
async function ownRunStatusRows(prisma: PrismaClient, userId: number, ids: number[]): Promise<Map<number, StatusRow>> {
  if (ids.length === 0) return new Map();
  const runs = await prisma.orderRun.findMany({
    where: { id: { in: ids }, order: { userId } },
    select: {
      id: true, status: true, quantity: true, startCount: true, remains: true, refunded: true,
      order: { select: { charge: true, quantity: true } },
    },
  });
  return new Map(
    runs.map((r) => [
      r.id,
      {
        id: r.id,
        status: r.status,
        cancelRequested: false,
        quantity: r.quantity,
        // Its share of the feed's charge, rounded down as its refund is (domain/drip-feed.ts runRefund).
        charge: partialRefund(r.order.charge.toFixed(5), r.order.quantity, r.quantity),
        refunded: formatMoney(r.refunded.toFixed(5)),
        startCount: r.startCount,
        remains: r.remains,
      },
    ]),
  );
}

/** Own orders, then own drip-feed runs among the ids left (one query each). */
async function statusRows(prisma: PrismaClient, userId: number, ids: number[]): Promise<Map<number, StatusRow>> {
  const rows = await ownStatusRows(prisma, userId, ids);
  for (const [id, row] of await ownRunStatusRows(prisma, userId, ids.filter((i) => !rows.has(i)))) rows.set(id, row);
  return rows;
}

export const status: Action = async ({ deps, who, params, res, currency }) => {
  const list = field(params, 'orders');
  if (list === undefined) {
    const id = parseId(field(params, 'order'));
    if (id === null) throw new V2Error(V2_TEXT.incorrectOrder);
    const row = (await statusRows(deps.prisma, who.userId, [id])).get(id);
    if (!row) throw new V2Error(V2_TEXT.incorrectOrder);
    res.locals.orderId = id;
    return statusView(row, currency);
  }
  const items = parseIdList(list, 'orders');
  if (items.length === 0) throw new V2Error(V2_TEXT.incorrectOrder);
  const rows = await statusRows(deps.prisma, who.userId, items.flatMap((i) => (i.id === null ? [] : [i.id])));
  // Keyed by the id as the client wrote it; a null prototype so no token is special.
  const answer: Record<string, V2OrderStatus | { error: string }> = Object.create(null);
  for (const item of items) {
    const row = item.id === null ? undefined : rows.get(item.id);
    answer[item.token] = row ? statusView(row, currency) : errorBody(V2_TEXT.incorrectOrder);
  }
  return answer;
};
