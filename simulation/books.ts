/**
 * The books at the end of a run, each check on its own (issue 14, "The books at the end"):
 *   balances        per user, balance = sum of its ledger entries, never negative
 *   debits          per order one debit, equal to its charge by its type's rule (typed-books.ts):
 *                   rate × quantity / 1000, a Package's fixed price, Custom Comments by non-empty
 *                   lines, a drip-feed's quantity × runs, a subscription's max × posts (R-CHARGE-MAX)
 *   refunds         ≤ charge, = the row's `refunded`, and exactly what the final status and the
 *                   type's rule give (a drip-feed per run and its runs not sent; a subscription by
 *                   R-SUBSCRIPTION-UNSERVED from what the provider served)
 *   orphan-money    no order debit or refund without its order (or on another user's balance)
 *   active-per-link at most one active order per link
 *   workflows       every order's workflow exists and agrees with its row
 *   upstream        one upstream order per dispatch (per drip-feed run), unless a move or support made another
 *   scheduled       nothing of a scheduled order reached its provider before its execute_at
 *   fields          the type's fields reached the provider unchanged (comments, usernames, ..., a subscription's terms)
 * (the replay of every history is in histories.ts). Each returns its failures with the order or user.
 */
import { decimal, formatMoney } from '../domain/money';
import { ACTIVE_STATUSES, FINAL_STATUSES } from '../domain/order-status';
import { partialRefund } from '../domain/refund';
import type { OrderStatus } from '../domain/order-status';
import type { PrismaClient } from '../generated/prisma/client';
import type { OrderWorkflowFacts } from './histories';
import { checkDripFeedRefunds, checkSubscriptionRefund, expectedCharge } from './typed-books';
import type { TypedFields } from './typed-books';

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
  /** Its link, or a subscription's username. */
  link: string;
  /** When the provider took it (the simulator's clock, Temporal's). */
  createdAt?: number;
  /** The `add` fields the provider received (besides action, key, service), as received. */
  fields?: Record<string, string>;
  /** A subscription: the provider's status and what each served post got (R-SUBSCRIPTION-UNSERVED's facts). */
  subscription?: { status: string; delivered: number[] };
}

export interface BooksInput {
  prisma: PrismaClient;
  /** Per order: what its workflow says (histories.ts). Absent: the workflow check is skipped. */
  workflows?: Map<number, OrderWorkflowFacts>;
  /** Every order the providers hold, and each provider id's API key. Absent: the upstream check is skipped. */
  upstream?: { orders: UpstreamOrder[]; apiKeyOf: Map<number, string> };
}

export interface OrderRow extends TypedFields {
  id: number;
  userId: number;
  status: OrderStatus;
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
  /** The order's refund entries: ledger key and amount (a drip-feed has one per part). */
  refundEntries: Array<{ key: string; amount: string }>;
  noRefundCancel: boolean;
  /** Support canceled it with its whole charge back (R-CANCEL-FULL), whatever it had delivered. */
  supportFullCancel: boolean;
  /** Support redispatched or canceled an uncertain dispatch: an upstream order may be left without its order. */
  supportRedispatched: boolean;
  executeAt: Date | null;
}

async function orderRows(prisma: PrismaClient): Promise<OrderRow[]> {
  return prisma.$queryRaw<OrderRow[]>`
    SELECT o.id, o.user_id AS "userId", o.status, o.service_type AS type, o.rate::text, o.quantity, o.charge::text, o.refunded::text,
           o.remains, o.link, o.provider_id AS "providerId", o.provider_order_id AS "providerOrderId",
           o.provider_fields AS "providerFields", o.drip_feed AS "dripFeed", o.subscription, o.execute_at AS "executeAt",
           COALESCE((SELECT json_agg(json_build_object('index', r.run_index, 'quantity', r.quantity, 'providerOrderId', r.provider_order_id,
                                                       'status', r.status, 'remains', r.remains, 'refunded', r.refunded::text) ORDER BY r.run_index)
                       FROM order_runs r WHERE r.order_id = o.id), '[]'::json) AS runs,
           (SELECT COUNT(*)::int FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'order_debit') AS debits,
           (SELECT COALESCE(SUM(e.amount), 0)::text FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'order_debit') AS "debitSum",
           (SELECT COUNT(*)::int FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'refund') AS refunds,
           (SELECT COALESCE(SUM(e.amount), 0)::text FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'refund') AS "refundSum",
           COALESCE((SELECT json_agg(json_build_object('key', e.idempotency_key, 'amount', e.amount::text) ORDER BY e.id)
                       FROM ledger_entries e WHERE e.order_id = o.id AND e.kind = 'refund'), '[]'::json) AS "refundEntries",
           EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.cancel'
                     AND a.after->'request'->>'refund' = 'none' AND a.after->'result'->>'accepted' = 'true') AS "noRefundCancel",
           EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.cancel'
                     AND a.after->'request'->>'refund' = 'full' AND a.after->'result'->>'accepted' = 'true') AS "supportFullCancel",
           EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.resolve_dispatch'
                     AND a.after->'request'->>'action' IN ('redispatch', 'cancel'))
             OR (o.provider_order_id IS NULL AND EXISTS (SELECT 1 FROM audit_records a WHERE a.order_id = o.id AND a.action = 'order.cancel'
                     AND a.after->'result'->>'accepted' = 'true')) AS "supportRedispatched"
      FROM orders o
     ORDER BY o.id`;
}

export async function checkBooks(input: BooksInput): Promise<BookCheck[]> {
  const rows = await orderRows(input.prisma);
  const checks = [await checkBalances(input.prisma), checkDebits(rows), checkRefunds(rows, input.upstream), await checkOrphanMoney(input.prisma), await checkActivePerLink(input.prisma)];
  if (input.workflows) checks.push(checkWorkflows(rows, input.workflows));
  if (input.upstream) checks.push(checkUpstream(rows, input.upstream, input.workflows), checkScheduled(rows, input.upstream, input.workflows), checkFieldsSent(rows, input.upstream));
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

export function checkDebits(rows: OrderRow[]): BookCheck {
  const failures: BookFailure[] = [];
  for (const o of rows) {
    if (o.status === 'rejected' || o.status === 'new') {
      if (o.debits !== 0) failures.push({ orderId: o.id, message: `${o.status} order has ${o.debits} debit(s)` });
      continue;
    }
    const due = expectedCharge(o);
    if (o.debits !== 1) failures.push({ orderId: o.id, message: `${o.debits} debits (one expected)` });
    if ('error' in due) {
      failures.push({ orderId: o.id, message: due.error });
      continue;
    }
    if (o.quantity !== due.quantity) failures.push({ orderId: o.id, message: `quantity ${o.quantity} ≠ ${due.quantity} (${due.rule})` });
    if (!decimal(o.charge).eq(due.charge)) failures.push({ orderId: o.id, message: `charge ${o.charge} ≠ ${due.charge} (${due.rule})` });
    if (!decimal(o.debitSum).neg().eq(due.charge)) failures.push({ orderId: o.id, message: `debited ${formatMoney(decimal(o.debitSum).neg())}, charge is ${due.charge} (${due.rule})` });
  }
  return { name: 'debits', claim: "one debit per order, equal to its charge by its type's rule (rate × quantity / 1000, package price, lines, quantity × runs, max × posts)", checked: rows.length, failures };
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

export function checkRefunds(rows: OrderRow[], upstream?: BooksInput['upstream']): BookCheck {
  const failures: BookFailure[] = [];
  const fail = (o: OrderRow) => (message: string) => failures.push({ orderId: o.id, message });
  const byUpstream = new Map((upstream?.orders ?? []).map((u) => [`${u.apiKey}#${u.id}`, u]));
  for (const o of rows) {
    const sum = decimal(o.refundSum);
    if (sum.gt(decimal(o.charge))) failures.push({ orderId: o.id, message: `refunds ${o.refundSum} exceed the charge ${o.charge}` });
    if (!sum.eq(decimal(o.refunded))) failures.push({ orderId: o.id, message: `refund entries add up to ${o.refundSum}, the row says refunded ${o.refunded}` });
    if (o.dripFeed?.mode === 'engine') {
      checkDripFeedRefunds(o, fail(o));
      continue;
    }
    if (o.refunds > 1) failures.push({ orderId: o.id, message: `${o.refunds} refund entries (at most one)` });
    if (o.subscription && upstream) {
      const apiKey = upstream.apiKeyOf.get(o.providerId) ?? '?';
      checkSubscriptionRefund(o, o.providerOrderId ? (byUpstream.get(`${apiKey}#${o.providerOrderId}`) ?? null) : null, fail(o));
      continue;
    }
    const expected = expectedRefund(o) ?? '0.00000';
    if (!sum.eq(decimal(expected))) {
      failures.push({ orderId: o.id, message: `${o.status}${o.noRefundCancel ? ' (support: no refund)' : ''}: refunded ${o.refundSum}, the rule gives ${expected} (charge ${o.charge}, quantity ${o.quantity}, remains ${o.remains})` });
    }
  }
  return { name: 'refunds', claim: "refunds ≤ charge and exactly what the final status and the type's rule give", checked: rows.length, failures };
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
    // A drip-feed the engine runs: one upstream order per run (order_runs), the row points at the last.
    for (const r of o.runs ?? []) if (r.providerOrderId && r.providerOrderId !== o.providerOrderId) claim(key(apiKey, r.providerOrderId), o.id);
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
  return { name: 'upstream', claim: 'one upstream order per dispatch (per drip-feed run) unless a move or support made another', checked: upstream.orders.length, failures };
}

/**
 * Scheduled orders (execute_at): every upstream order of theirs (the current one, each drip-feed run,
 * one a move left) was taken by the provider at or after execute_at.
 */
export function checkScheduled(rows: OrderRow[], upstream: NonNullable<BooksInput['upstream']>, workflows?: Map<number, OrderWorkflowFacts>): BookCheck {
  const failures: BookFailure[] = [];
  const byKey = new Map(upstream.orders.map((u) => [`${u.apiKey}#${u.id}`, u]));
  const scheduled = rows.filter((o) => o.executeAt !== null);
  for (const o of scheduled) {
    const executeAt = new Date(o.executeAt!).getTime();
    const own = new Set<string>();
    const apiKey = upstream.apiKeyOf.get(o.providerId) ?? '?';
    if (o.providerOrderId) own.add(`${apiKey}#${o.providerOrderId}`);
    for (const r of o.runs ?? []) if (r.providerOrderId) own.add(`${apiKey}#${r.providerOrderId}`);
    for (const m of workflows?.get(o.id)?.state?.moves ?? []) if (m.from.providerOrderId) own.add(`${upstream.apiKeyOf.get(m.from.providerId)}#${m.from.providerOrderId}`);
    for (const k of own) {
      const u = byKey.get(k);
      if (u?.createdAt !== undefined && u.createdAt < executeAt) {
        failures.push({ orderId: o.id, message: `upstream order ${k} was placed ${((executeAt - u.createdAt) / 60_000).toFixed(1)} min before execute_at ${new Date(executeAt).toISOString()}` });
      }
    }
  }
  return { name: 'scheduled', claim: 'nothing of a scheduled order reaches its provider before its execute_at', checked: scheduled.length, failures };
}

/**
 * The type's own fields (comments, usernames, hashtags, answer_number, keywords, ...; a drip-feed's
 * runs and interval when the provider runs it; a subscription's username, min, max, posts, delay)
 * reached the provider unchanged, in every upstream order of the order (each drip-feed run too).
 */
export function checkFieldsSent(rows: OrderRow[], upstream: NonNullable<BooksInput['upstream']>): BookCheck {
  const failures: BookFailure[] = [];
  const byKey = new Map(upstream.orders.map((u) => [`${u.apiKey}#${u.id}`, u]));
  let checked = 0;
  for (const o of rows) {
    const expected: Record<string, string> = { ...(o.providerFields ?? {}) };
    if (o.dripFeed?.mode === 'provider') Object.assign(expected, { runs: String(o.dripFeed.runs), interval: String(o.dripFeed.intervalMinutes) });
    if (o.subscription) Object.assign(expected, { username: o.subscription.username, min: String(o.subscription.min), max: String(o.subscription.max), posts: String(o.subscription.posts) });
    if (Object.keys(expected).length === 0) continue;
    const apiKey = upstream.apiKeyOf.get(o.providerId) ?? '?';
    const ids = new Set([o.providerOrderId, ...(o.runs ?? []).map((r) => r.providerOrderId)].filter((id): id is string => id !== null));
    for (const id of ids) {
      const u = byKey.get(`${apiKey}#${id}`);
      if (!u?.fields) continue;
      checked++;
      for (const [name, value] of Object.entries(expected)) {
        if (u.fields[name] !== value) failures.push({ orderId: o.id, message: `upstream order ${id}: ${name} ${JSON.stringify(u.fields[name] ?? null).slice(0, 80)}, the order has ${JSON.stringify(value).slice(0, 80)}` });
      }
    }
  }
  return { name: 'fields', claim: "the type's fields reach the provider unchanged", checked, failures };
}
