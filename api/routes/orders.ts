// /orders: place, read, list and cancel orders.
// A user sees and acts on their own orders only: another user's order answers 404 (not 403), so
// order ids do not leak. Staff (support, admin) see every order.
import { Router } from 'express';
import type { Request } from 'express';
import type { OrderRecord } from '../../activities/order-records';
import { ORDER_STATUSES } from '../../domain/order-status';
import { orderState } from '../../worker/order-client';
import type { ApiDeps } from '../app';
import { caller, isStaff } from '../auth';
import { requestOrderCancel } from '../cancel';
import { ApiError, notFound } from '../errors';
import type { Placement } from '../placement';
import { createBatchPlacement } from '../batch';
import { cancelBody, flag, idempotencyKeyOf, listOrdersQuery, liveQuery, orderIdParam, parseOr400, placeOrderBody } from '../schemas';
import { orderFromRecord, orderFromState, runsFromRows } from '../views';
import { refillsRouter } from './refills';

/** A live `state` query waits at most this long before the row answers instead. */
const LIVE_QUERY_TIMEOUT_MS = 5_000;
/** Listing without a status filter hides rejected placements: they never became orders. */
const LISTED_BY_DEFAULT = ORDER_STATUSES.filter((s) => s !== 'rejected');

export function ordersRouter(deps: ApiDeps, placement: Placement): Router {
  const { temporal, orders, logger } = deps;
  const router = Router();

  /** The order if the caller may see it; 404 for a missing id and for someone else's order alike. */
  async function visibleOrder(req: Request): Promise<OrderRecord> {
    const who = caller(req);
    const parsed = orderIdParam.safeParse(req.params.id);
    if (!parsed.success) throw notFound('order');
    const order = await orders.getOrder(parsed.data);
    if (!order || (!isStaff(who.role) && order.userId !== who.userId)) throw notFound('order');
    req.res!.locals.orderId = order.id;
    return order;
  }

  router.post('/', async (req, res) => {
    const who = caller(req);
    const body = parseOr400(placeOrderBody, req.body ?? {});
    const key = idempotencyKeyOf(req);
    const answer = await placement.place(who, body, key);
    if (answer.orderId !== undefined) res.locals.orderId = answer.orderId;
    if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
    if (answer.status === 201 && answer.orderId !== undefined) res.setHeader('Location', `/orders/${answer.orderId}`);
    res.status(answer.status).json(answer.body);
  });

  // Mass orders: each line its own order and its own answer (api/batch.ts); 200 with every line's result.
  const placeBatch = createBatchPlacement(deps.prisma, placement);
  router.post('/batch', async (req, res) => {
    const who = caller(req);
    const { answer, replayed } = await placeBatch(who, req.body, idempotencyKeyOf(req));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(200).json(answer);
  });

  router.get('/', async (req, res) => {
    const who = caller(req);
    const q = parseOr400(listOrdersQuery, req.query, 'query');
    if (q.userId !== undefined && !isStaff(who.role) && q.userId !== who.userId) {
      throw new ApiError(403, 'forbidden', "only support can list another user's orders", { field: 'query.userId' });
    }
    const page = await orders.listOrders({
      userId: isStaff(who.role) ? q.userId : who.userId,
      status: q.status ?? [...LISTED_BY_DEFAULT],
      linkKey: q.link,
      createdBefore: q.createdBefore,
      createdAfter: q.createdAfter,
      limit: q.limit ?? 50,
      cursor: q.cursor ?? null,
    });
    res.json({ orders: page.orders.map((o) => orderFromRecord(o, who.role)), nextCursor: page.nextCursor });
  });

  router.get('/:id', async (req, res) => {
    const who = caller(req);
    const { live } = parseOr400(liveQuery, req.query, 'query');
    const order = await visibleOrder(req);
    if (!flag(live)) {
      // A drip-feed's runs (issue 12) are rows of their own.
      const runs = await deps.prisma.orderRun.findMany({ where: { orderId: order.id }, orderBy: { runIndex: 'asc' } });
      const view = orderFromRecord(order, who.role);
      res.json({ order: runs.length > 0 ? { ...view, runs: runsFromRows(runs, who.role) } : view, source: 'database' });
      return;
    }
    try {
      const state = await temporal.withDeadline(Date.now() + LIVE_QUERY_TIMEOUT_MS, () => orderState(temporal, order.id));
      res.json({ order: orderFromState(state, who.role, order), source: 'workflow' });
    } catch (error) {
      // The row is the mirror of the same state: a slightly older answer beats no answer.
      logger.warn({ err: error, orderId: order.id }, 'live state query failed; answering from the order row');
      res.json({ order: orderFromRecord(order, who.role), source: 'database' });
    }
  });

  router.post('/:id/cancel', async (req, res) => {
    const who = caller(req);
    const body = parseOr400(cancelBody, req.body ?? {});
    const order = await visibleOrder(req);
    // The `cancel` update (validator refuses at once); a closed workflow answers from its final row.
    const result = await requestOrderCancel(temporal, who, order, { reason: body.reason, requestId: body.requestId });
    if (!result.accepted) {
      logger.info({ orderId: order.id, userId: who.userId, rule: result.rule, reason: result.reason }, 'cancel refused');
      throw new ApiError(409, 'cancel_refused', result.reason, { rule: result.rule, orderId: order.id });
    }
    logger.info({ orderId: order.id, userId: who.userId, rule: result.rule }, 'cancel accepted');
    res.status(202).json({ orderId: order.id, cancel: result });
  });

  // Refills (R-REFILL-*): request, list, support's retry (api/routes/refills.ts).
  router.use('/:id/refills', refillsRouter(deps, visibleOrder));

  return router;
}
