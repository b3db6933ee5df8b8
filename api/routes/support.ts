// /support (roles support and admin): find orders, look up an account, block and unblock it.
//
// Every action writes its audit record (api/audit.ts) with who (user and key), what, when, why (the
// required reason), before and after. A request may carry a `requestId`: the same request again is
// the same action (one status change, one audit record, one cancel per order, the first answer);
// without one, every call is a new action.
//
// Blocking (R-CHARGEBACK, R-BLOCKED):
//   1. one transaction: lock the user, set status 'blocked', list the active orders, write the
//      `user.block` record (before/after, and the orders it found);
//   2. each of those orders gets the order workflow's `cancel` update, as a cancel by support
//      (requestedBy: the caller's role, user and key; update id from the request id), through
//      api/cancel.ts requestOrderCancel; the terms decide (domain/cancel-policy.ts), so a refusal
//      (an order already started on a service without cancel, a placement still in flight, ...) is
//      reported for that order, never a failure of the call; each outcome is one `order.cancel`
//      audit record, and a retry answers from it.
// A blocked user can place no orders (api/placement.ts, and the workflow's reserveAndDebit) and
// request no refills (activities/refill-activities.ts).
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Request } from 'express';
import type { OrderRecord } from '../../activities/order-records';
import { ACTIVE_STATUSES } from '../../domain/order-status';
import type { CancelResult } from '../../workflows/order-contract';
import type { ApiDeps } from '../app';
import { audit, auditInTransaction, findAudit, isAuditReplay } from '../audit';
import type { AuthContext } from '../auth';
import { caller } from '../auth';
import { requestOrderCancel } from '../cancel';
import { ApiError, notFound } from '../errors';
import { accountActionBody, parseOr400, supportOrdersQuery, userIdParam } from '../schemas';
import { mapLimit } from '../v2/actions/cancel';
import { orderFromRecord, userView } from '../views';

/** Cancels of a blocked user's orders run this many at a time. */
const CANCEL_CONCURRENCY = 10;
/** How long one order's cancel update may take before it is reported as not answered. */
const CANCEL_TIMEOUT_MS = 15_000;

type AccountAction = 'user.block' | 'user.unblock';

/** What a block did to one order. */
export type BlockCancel =
  | ({ orderId: number; replayed: boolean } & CancelResult)
  | { orderId: number; accepted: false; code: 'cancel_unavailable'; reason: string; replayed: false };

export function supportRouter(deps: ApiDeps): Router {
  const { prisma, temporal, orders, logger } = deps;
  const router = Router();

  // ---------------------------------------------------------------- order search

  router.get('/orders', async (req, res) => {
    const who = caller(req);
    const q = parseOr400(supportOrdersQuery, req.query, 'query');
    const page = await orders.listOrders({
      ids: q.id,
      userId: q.userId,
      link: q.link,
      // Support sees every status by default, rejected placements included.
      status: q.status,
      providerId: q.providerId,
      providerOrderId: q.providerOrderId,
      serviceType: q.serviceType,
      scheduled: q.scheduled,
      dripFeed: q.dripFeed,
      hasRuns: q.hasRuns,
      flags: q.flag,
      createdBefore: q.createdBefore,
      createdAfter: q.createdAfter,
      limit: q.limit ?? 50,
      cursor: q.cursor ?? null,
    });
    res.json({ orders: page.orders.map((o) => orderFromRecord(o, who.role)), nextCursor: page.nextCursor });
  });

  // ---------------------------------------------------------------- accounts

  async function targetUser(req: Request) {
    const parsed = userIdParam.safeParse(req.params.id);
    if (!parsed.success) throw notFound('user');
    const user = await prisma.user.findUnique({ where: { id: parsed.data } });
    if (!user) throw notFound('user');
    return user;
  }

  /** Support acts on customers; only an admin may block or unblock a staff account (one with a support or admin key). */
  async function checkMayActOn(who: AuthContext, userId: number): Promise<void> {
    if (who.role === 'admin') return;
    const staffKey = await prisma.apiKey.findFirst({ where: { userId, revokedAt: null, role: { in: ['support', 'admin'] } }, select: { id: true } });
    if (staffKey) throw new ApiError(403, 'forbidden', 'only an admin can block or unblock a staff account');
  }

  /**
   * Sets the user's status and writes the audit record in one transaction, once per key: the same
   * key again (a retry, or a concurrent twin) answers the first record instead.
   */
  async function setStatusOnce(
    who: AuthContext,
    userId: number,
    action: AccountAction,
    reason: string,
    key: string,
  ): Promise<{ record: NonNullable<Awaited<ReturnType<typeof findAudit>>>; replayed: boolean }> {
    const status = action === 'user.block' ? 'blocked' : 'active';
    let outcome;
    try {
      outcome = await prisma.$transaction(async (tx) => {
        // The lock orders twins: the second one sees the first one's record.
        const locked = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM users WHERE id = ${userId} FOR UPDATE`;
        if (locked.length === 0) throw notFound('user');
        const earlier = await findAudit(tx, key);
        if (earlier) return { record: earlier, replayed: true };
        const after: Record<string, unknown> = { status };
        if (action === 'user.block') {
          const active = await tx.order.findMany({
            where: { userId, status: { in: [...ACTIVE_STATUSES] } },
            select: { id: true },
            orderBy: { id: 'asc' },
          });
          after.activeOrders = active.map((o) => o.id);
        }
        if (locked[0].status !== status) await tx.user.update({ where: { id: userId }, data: { status } });
        const record = await auditInTransaction(tx, who, {
          action,
          targetUserId: userId,
          reason,
          before: { status: locked[0].status },
          after,
          requestId: key,
        });
        return { record, replayed: false };
      });
    } catch (error) {
      if (!isAuditReplay(error)) throw error;
      const winner = await findAudit(prisma, key);
      if (!winner) throw error;
      outcome = { record: winner, replayed: true };
    }
    if (outcome.replayed && outcome.record.reason !== reason) {
      throw new ApiError(409, 'idempotency_key_reused', 'this requestId was already used with a different reason', {
        field: 'requestId',
        rule: 'idempotency',
      });
    }
    return outcome;
  }

  /** One order's cancel as part of a block: the workflow's `cancel` update, audited once per key. */
  async function cancelForBlock(who: AuthContext, orderId: number, blockKey: string, cancelRequestId: string, reason: string): Promise<BlockCancel> {
    const auditKey = `order.cancel:${orderId}:${blockKey}`;
    const earlier = await findAudit(prisma, auditKey);
    if (earlier) return { orderId, ...(earlier.after as CancelResult), replayed: true };
    const order: OrderRecord | null = await orders.getOrder(orderId);
    if (!order) throw new Error(`order ${orderId} listed by a block does not exist`);
    let result: CancelResult;
    try {
      result = await temporal.withDeadline(Date.now() + CANCEL_TIMEOUT_MS, () =>
        requestOrderCancel(temporal, who, order, { reason: `account blocked: ${reason}`, requestId: cancelRequestId }),
      );
    } catch (error) {
      // Temporal did not answer (or the order has no running workflow): this order, not the call.
      logger.error({ err: error, orderId, userId: order.userId }, 'block: cancel could not be requested');
      return {
        orderId,
        accepted: false,
        code: 'cancel_unavailable',
        reason: 'the cancel could not be requested now; send the block again with the same requestId',
        replayed: false,
      };
    }
    await audit(prisma, who, {
      action: 'order.cancel',
      orderId,
      targetUserId: order.userId,
      reason,
      before: { status: order.status, cancelRequested: order.cancelRequested },
      after: result,
      requestId: auditKey,
    });
    logger.info({ orderId, userId: order.userId, accepted: result.accepted, rule: result.rule }, 'block: cancel answered');
    return { orderId, ...result, replayed: false };
  }

  router.get('/users/:id', async (req, res) => {
    res.json({ user: userView(await targetUser(req)) });
  });

  router.post('/users/:id/block', async (req, res) => {
    const who = caller(req);
    const user = await targetUser(req);
    const body = parseOr400(accountActionBody, req.body ?? {});
    await checkMayActOn(who, user.id);
    const requestId = body.requestId ?? randomUUID();
    const key = `user.block:${user.id}:${requestId}`;
    const { record, replayed } = await setStatusOnce(who, user.id, 'user.block', body.reason, key);
    const orderIds = ((record.after as { activeOrders?: number[] } | null)?.activeOrders ?? []).filter(Number.isInteger);
    // The workflow's request id: one per block request, namespaced so no user's own cancel id can match it.
    const cancelRequestId = `support-block:${user.id}:${requestId}`;
    const cancels = await mapLimit(orderIds, CANCEL_CONCURRENCY, (orderId) => cancelForBlock(who, orderId, key, cancelRequestId, body.reason));
    logger.info({ userId: user.id, by: who.userId, replayed, orders: orderIds.length }, 'user blocked');
    const fresh = await prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    res.json({ user: userView(fresh), rule: 'R-BLOCKED', requestId, replayed, cancels });
  });

  router.post('/users/:id/unblock', async (req, res) => {
    const who = caller(req);
    const user = await targetUser(req);
    const body = parseOr400(accountActionBody, req.body ?? {});
    await checkMayActOn(who, user.id);
    const requestId = body.requestId ?? randomUUID();
    const { record, replayed } = await setStatusOnce(who, user.id, 'user.unblock', body.reason, `user.unblock:${user.id}:${requestId}`);
    logger.info({ userId: user.id, by: who.userId, replayed }, 'user unblocked');
    const fresh = await prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    const before = (record.before as { status?: string } | null)?.status;
    res.json({ user: userView(fresh), requestId, replayed, changed: before !== 'active' });
  });

  return router;
}
