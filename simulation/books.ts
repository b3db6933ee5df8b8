/**
 * The books at the end of a run, each check on its own (issue 14, "The books at the end"):
 *   balances        per user, balance = sum of its ledger entries, never negative
 *   debits          per order one debit, equal to its charge = rate × quantity / 1000 of its snapshot
 *   refunds         ≤ charge, = the row's `refunded`, and exactly what the final status and rule give
 *   orphan-money    no order debit or refund without its order (or on another user's balance)
 *   active-per-link at most one active order per link
 *   workflows       every order's workflow exists and agrees with its row
 *   upstream        one upstream order per dispatch, unless a move or support made another
 * (the replay of every history is in histories.ts). Each returns its failures with the order or user.
 */
import { computeCharge } from '../domain/charge';
import { decimal, formatMoney } from '../domain/money';
import { ACTIVE_STATUSES, FINAL_STATUSES } from '../domain/order-status';
import { partialRefund } from '../domain/refund';
import type { OrderStatus } from '../domain/order-status';
import type { PrismaClient } from '../generated/prisma/client';
import type { OrderWorkflowFacts } from './histories';
import { ORDER_SHAPES } from './order-shapes';

export interface BookFailure {
  orderId?: number;
  userId?: number;
  message: string;
}

export interface BookCheck {
  name: string;
  /** What the check proves, in one line (printed with the result). */
  claim: string;
  checked: number;
  failures: BookFailure[];
}

export interface UpstreamOrder {
  /** The provider's API key the order was placed with. */
  apiKey: string;
  id: number;
  link: string;
}

export interface BooksInput {
  prisma: PrismaClient;
  /** Per order: what its workflow says (histories.ts). Absent: the workflow check is skipped. */
  workflows?: Map<number, OrderWorkflowFacts>;
  /** Every order the providers hold, and each provider id's API key. Absent: the upstream check is skipped. */
  upstream?: { orders: UpstreamOrder[]; apiKeyOf: Map<number, string> };
}

interface OrderRow {
  id: number;
  userId: number;
  status: OrderStatus;
  type: string;
  rate: string;
  quantity: number;
  charge: string;
  refunded: string;
  remains: number | null;
  link: string;
  providerId: number;
  providerOrderId: string | null;
  debits: number;
  debitSum: string;
  refunds: number;
  refundSum: string;
  noRefundCancel: boolean;
  /** Support redispatched or canceled an uncertain dispatch: an upstream order may be left without its order. */
  supportRedispatched: boolean;
}

async function orderRows(prisma: PrismaClient): Promise<OrderRow[]> {
  return prisma.$queryRaw<OrderRow[]>`
    SELECT o.id, o.user_id AS "userId", o.status, s.type, o.rate::text, o.quantity, o.charge::text, o.refunded::text,
           o.remains, o.link, o.provider_id AS "providerId", o.provider_order_id AS "providerOrderId",
           (SELECT COUNT(*)::int FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'order_debit') AS debits,
           (SELECT COALESCE(SUM(e.amount), 0)::text FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'order_debit') AS "debitSum",
           (SELECT COUNT(*)::int FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'refund') AS refunds,
           (SELECT COALESCE(SUM(e.amount), 0)::text FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'refund') AS "refundSum",
           EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.cancel'
                     AND a.after->'request'->>'refund' = 'none' AND a.after->'result'->>'accepted' = 'true') AS "noRefundCancel",
           EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.resolve_dispatch'
                     AND a.after->'request'->>'action' IN ('redispatch', 'cancel'))
             OR (o.provider_order_id IS NULL AND EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.cancel'
                     AND a.after->'result'->>'accepted' = 'true')) AS "supportRedispatched"
      FROM orders o JOIN services s ON s.id = o.service_id
     ORDER BY o.id`;
}

export async function checkBooks(input: BooksInput): Promise<BookCheck[]> {
  const rows = await orderRows(input.prisma);
  const checks = [await checkBalances(input.prisma), checkDebits(rows), checkRefunds(rows), await checkOrphanMoney(input.prisma), await checkActivePerLink(input.prisma)];
  if (input.workflows) checks.push(checkWorkflows(rows, input.workflows));
  if (input.upstream) checks.push(checkUpstream(rows, input.upstream, input.workflows));
  return checks;
}

export async function checkBalances(prisma: PrismaClient): Promise<BookCheck> {
  const users = await prisma.$queryRaw<Array<{ id: number; balance: string; sum: string }>>`
    SELECT u.id, u.balance::text, COALESCE((SELECT SUM(e.amount) FROM ledger_entries e WHERE e.user_id = u.id), 0)::text AS sum
      FROM users u ORDER BY u.id`;
  const failures: BookFailure[] = [];
  for (const u of users) {
    if (!decimal(u.balance).eq(decimal(u.sum))) failures.push({ userId: u.id, message: `balance ${u.balance} ≠ sum of ledger entries ${u.sum}` });
    if (decimal(u.balance).isNegative()) failures.push({ userId: u.id, message: `balance ${u.balance} is negative` });
  }
  // Every balance_after must be the running sum too (no entry rewrote history).
  const drift = await prisma.$queryRaw<Array<{ userId: number; id: string }>>`
    SELECT user_id AS "userId", id::text FROM (
      SELECT user_id, id, balance_after, SUM(amount) OVER (PARTITION BY user_id ORDER BY id) AS running FROM ledger_entries) x
     WHERE balance_after <> running OR balance_after < 0`;
  for (const d of drift) failures.push({ userId: d.userId, message: `ledger entry ${d.id}: balance_after is not the running sum (or negative)` });
  return { name: 'balances', claim: 'per user, balance = sum of ledger entries, never negative', checked: users.length, failures };
}

/** The charge an order of this type must have: the type's own rule, else rate × quantity / 1000. */
export function expectedCharge(type: string, rate: string, quantity: number): string {
  const shape = ORDER_SHAPES.find((s) => s.type === type);
  return shape?.charge ? shape.charge(rate, quantity) : computeCharge(rate, quantity);
}

export function checkDebits(rows: OrderRow[]): BookCheck {
  const failures: BookFailure[] = [];
  for (const o of rows) {
    if (o.status === 'rejected' || o.status === 'new') {
      if (o.debits !== 0) failures.push({ orderId: o.id, message: `${o.status} order has ${o.debits} debit(s)` });
      continue;
    }
    const charge = expectedCharge(o.type, o.rate, o.quantity);
    if (o.debits !== 1) failures.push({ orderId: o.id, message: `${o.debits} debits (one expected)` });
    if (!decimal(o.charge).eq(charge)) failures.push({ orderId: o.id, message: `charge ${o.charge} ≠ rate ${o.rate} × ${o.quantity} / 1000 = ${charge}` });
    if (!decimal(o.debitSum).neg().eq(charge)) failures.push({ orderId: o.id, message: `debited ${formatMoney(decimal(o.debitSum).neg())}, charge is ${charge}` });
  }
  return { name: 'debits', claim: 'one debit per order, equal to rate × quantity / 1000 of its snapshot', checked: rows.length, failures };
}

/** What the order's final status and rule give back (R-NO-REFUND-DONE, R-PARTIAL, R-CANCEL-FULL, R-CANCEL-NO-REFUND). */
export function expectedRefund(o: Pick<OrderRow, 'status' | 'charge' | 'quantity' | 'remains' | 'noRefundCancel'>): string | null {
  switch (o.status) {
    case 'completed':
    case 'rejected':
      return '0.00000';
    case 'partial':
      return partialRefund(o.charge, o.quantity, o.remains ?? 0);
    case 'canceled':
      return o.noRefundCancel ? '0.00000' : formatMoney(o.charge);
    default:
      return null; // not final: nothing may have been refunded yet
  }
}

export function checkRefunds(rows: OrderRow[]): BookCheck {
  const failures: BookFailure[] = [];
  for (const o of rows) {
    const sum = decimal(o.refundSum);
    if (sum.gt(decimal(o.charge))) failures.push({ orderId: o.id, message: `refunds ${o.refundSum} exceed the charge ${o.charge}` });
    if (!sum.eq(decimal(o.refunded))) failures.push({ orderId: o.id, message: `refund entries add up to ${o.refundSum}, the row says refunded ${o.refunded}` });
    if (o.refunds > 1) failures.push({ orderId: o.id, message: `${o.refunds} refund entries (at most one)` });
    const expected = expectedRefund(o) ?? '0.00000';
    if (!sum.eq(decimal(expected))) {
      failures.push({ orderId: o.id, message: `${o.status}${o.noRefundCancel ? ' (support: no refund)' : ''}: refunded ${o.refundSum}, the rule gives ${expected} (charge ${o.charge}, quantity ${o.quantity}, remains ${o.remains})` });
    }
  }
  return { name: 'refunds', claim: 'refunds ≤ charge and exactly what the final status and rule give', checked: rows.length, failures };
}

const ORDER_KINDS = ['order_debit', 'refund'];

export async function checkOrphanMoney(prisma: PrismaClient): Promise<BookCheck> {
  const rows = await prisma.$queryRaw<Array<{ id: string; userId: number; orderId: number | null; kind: string; owner: number | null }>>`
    SELECT e.id::text, e.user_id AS "userId", e.order_id AS "orderId", e.kind, o.user_id AS owner
      FROM ledger_entries e LEFT JOIN orders o ON o.id = e.order_id
     WHERE (e.kind = ANY(${ORDER_KINDS}) AND (e.order_id IS NULL OR o.id IS NULL OR o.user_id <> e.user_id))
        OR (e.kind <> ALL(${ORDER_KINDS}) AND e.order_id IS NOT NULL)`;
  const [{ n }] = await prisma.$queryRaw<Array<{ n: number }>>`SELECT COUNT(*)::int AS n FROM ledger_entries`;
  const failures = rows.map((r) => ({
    userId: r.userId,
    ...(r.orderId !== null ? { orderId: r.orderId } : {}),
    message: `ledger entry ${r.id} (${r.kind}) ${r.orderId === null ? 'has no order' : r.owner === null ? `names order ${r.orderId}, which does not exist` : `is on user ${r.userId}'s balance, order ${r.orderId} is user ${r.owner}'s`}`,
  }));
  return { name: 'orphan-money', claim: 'no money entry without its order', checked: n, failures };
}

export async function checkActivePerLink(prisma: PrismaClient): Promise<BookCheck> {
  const rows = await prisma.$queryRaw<Array<{ linkKey: string; ids: number[] }>>`
    SELECT link_key AS "linkKey", array_agg(id ORDER BY id) AS ids FROM orders
     WHERE status = ANY(${[...ACTIVE_STATUSES]}) GROUP BY link_key HAVING COUNT(*) > 1`;
  const [{ n }] = await prisma.$queryRaw<Array<{ n: number }>>`SELECT COUNT(DISTINCT link_key)::int AS n FROM orders`;
  return {
    name: 'active-per-link',
    claim: 'one active order per link',
    checked: n,
    failures: rows.map((r) => ({ orderId: r.ids[1], message: `link ${r.linkKey} has active orders ${r.ids.join(', ')}` })),
  };
}

export function checkWorkflows(rows: OrderRow[], workflows: Map<number, OrderWorkflowFacts>): BookCheck {
  const failures: BookFailure[] = [];
  for (const o of rows) {
    const f = workflows.get(o.id);
    if (!f || f.runs === null) {
      failures.push({ orderId: o.id, message: 'no workflow for this order' });
      continue;
    }
    const s = f.state;
    if (!s) {
      failures.push({ orderId: o.id, message: f.open ? 'open workflow does not answer its state query' : 'workflow closed without a result (failed or terminated)' });
      continue;
    }
    const differ = (what: string, row: unknown, wf: unknown) => failures.push({ orderId: o.id, message: `${what}: row ${String(row)}, workflow ${String(wf)}` });
    if (s.status !== o.status) differ('status', o.status, s.status);
    if (!decimal(s.refunded).eq(decimal(o.refunded))) differ('refunded', o.refunded, s.refunded);
    if (!decimal(s.charge).eq(decimal(o.charge))) differ('charge', o.charge, s.charge);
    if ((s.providerOrderId ?? null) !== (o.providerOrderId ?? null)) differ('providerOrderId', o.providerOrderId, s.providerOrderId);
    if (f.open && (FINAL_STATUSES as readonly string[]).includes(o.status) && !(o.status === 'completed' && s.guarantee && s.guarantee.kind !== 'none')) {
      failures.push({ orderId: o.id, message: `${o.status} but its workflow is still open (no refill guarantee keeps it)` });
    }
  }
  return { name: 'workflows', claim: "every order's workflow exists and agrees with its row", checked: rows.length, failures };
}

export function checkUpstream(rows: OrderRow[], upstream: NonNullable<BooksInput['upstream']>, workflows?: Map<number, OrderWorkflowFacts>): BookCheck {
  const failures: BookFailure[] = [];
  const key = (apiKey: string, id: string | number) => `${apiKey}#${id}`;
  const owner = new Map<string, number>();
  const claim = (k: string, orderId: number) => {
    const other = owner.get(k);
    if (other !== undefined && other !== orderId) failures.push({ orderId, message: `upstream order ${k} is also order ${other}'s` });
    owner.set(k, orderId);
  };
  const explained = new Set<string>(); // "<apiKey> <link>": a move or support made more upstream orders here
  for (const o of rows) {
    const apiKey = upstream.apiKeyOf.get(o.providerId) ?? '?';
    if (o.providerOrderId) claim(key(apiKey, o.providerOrderId), o.id);
    const moves = workflows?.get(o.id)?.state?.moves ?? [];
    for (const m of moves) {
      if (m.from.providerOrderId) claim(key(upstream.apiKeyOf.get(m.from.providerId) ?? '?', m.from.providerOrderId), o.id);
      explained.add(`${upstream.apiKeyOf.get(m.from.providerId)} ${o.link}`);
      explained.add(`${upstream.apiKeyOf.get(m.to.providerId)} ${o.link}`);
    }
    if (o.supportRedispatched) explained.add(`${apiKey} ${o.link}`);
  }
  for (const u of upstream.orders) {
    if (owner.has(key(u.apiKey, u.id)) || explained.has(`${u.apiKey} ${u.link}`)) continue;
    const candidates = rows.filter((o) => o.link === u.link && upstream.apiKeyOf.get(o.providerId) === u.apiKey).map((o) => o.id);
    failures.push({ orderId: candidates.at(-1), message: `upstream order ${u.id} (${u.apiKey}, ${u.link}) belongs to no order: a second dispatch (orders on this link: ${candidates.join(', ') || 'none'})` });
  }
  return { name: 'upstream', claim: 'one upstream order per dispatch unless a move or support made another', checked: upstream.orders.length, failures };
}
