// /orders/:id/refills: request a refill of an order, list its refills, and (support, admin) retry a
// refill the provider did not take (R-REFILL-SUPPORT). The order workflow decides (api/refills.ts);
// a refusal is 409 `refill_refused` with the rule and the reason, at once.
//
//   POST /orders/:id/refills                      {requestId?}  (or Idempotency-Key) → 202 {orderId, refill} | 409
//   GET  /orders/:id/refills                                     → 200 {orderId, guarantee, voidReason, refills}
//   POST /orders/:id/refills/:refillId/retry      {reason, requestId?} (support, admin) → 202 | 409, one
//                                                 `refill.retry` audit record per requestId
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { createRefillRecords } from '../../activities/refill-records';
import type { OrderRecord } from '../../activities/order-records';
import { guaranteeOf } from '../../worker/order-client';
import type { RefillResult } from '../../workflows/order-contract';
import type { ApiDeps } from '../app';
import { caller, requireRole } from '../auth';
import { ApiError, notFound } from '../errors';
import { refillFromRecord, refillFromRow, requestOrderRefill, retryOrderRefill } from '../refills';
import { runOrderAction } from '../order-actions';
import { idempotencyKeyOf, orderIdParam, parseOr400 } from '../schemas';

const requestId = z
  .string({ error: 'requestId must be text' })
  .trim()
  .min(1, { error: 'requestId must not be empty' })
  .max(200, { error: 'requestId must be at most 200 characters' })
  .regex(/^[\x21-\x7e]+$/, { error: 'requestId must be printable ASCII' });

export const refillBody = z.strictObject({
  /** Client-chosen id: the same request again is the same refill (the Idempotency-Key header works too). */
  requestId: requestId.optional(),
});

/** R-REFILL-SUPPORT: support retries by hand, with a reason (kept in the audit record and the order's history). */
export const retryRefillBody = z.strictObject({
  reason: z
    .string({ error: (i) => (i.input === undefined ? 'reason is required: say why the refill is sent again' : 'reason must be text') })
    .trim()
    .min(1, { error: 'reason must not be empty' })
    .max(1000, { error: 'reason must be at most 1000 characters' }),
  requestId: requestId.optional(),
});

/** Mounted by ordersRouter at /:id/refills; `visibleOrder` gives 404 for a missing or another user's order. */
export function refillsRouter(deps: ApiDeps, visibleOrder: (req: Request) => Promise<OrderRecord>): Router {
  const { logger } = deps;
  const records = createRefillRecords(deps.prisma);
  const router = Router({ mergeParams: true });

  function refusedOr202(order: OrderRecord, result: RefillResult, role: Parameters<typeof refillFromRecord>[2]) {
    if (!result.accepted) {
      throw new ApiError(409, 'refill_refused', result.reason, {
        rule: result.rule,
        reason: result.reason,
        orderId: order.id,
        ...(result.counts ? { counts: result.counts } : {}),
        ...(result.refill ? { refill: refillFromRecord(order.id, result.refill, role) } : {}),
      });
    }
    return { orderId: order.id, refill: refillFromRecord(order.id, result.refill, role) };
  }

  router.post('/', async (req, res) => {
    const who = caller(req);
    const body = parseOr400(refillBody, req.body ?? {});
    const key = idempotencyKeyOf(req);
    if (body.requestId !== undefined && key !== undefined && body.requestId !== key) {
      throw new ApiError(400, 'invalid_request', 'requestId and Idempotency-Key name different requests; send one', { field: 'requestId', rule: 'conflict' });
    }
    const order = await visibleOrder(req);
    const id = body.requestId ?? key ?? `rest-${randomUUID()}`;
    const result = await requestOrderRefill(deps, who, order, id);
    if (!result.accepted) logger.info({ orderId: order.id, userId: who.userId, rule: result.rule, reason: result.reason }, 'refill refused');
    else logger.info({ orderId: order.id, userId: who.userId, refillId: result.refill.refillId }, 'refill accepted');
    res.status(202).json(refusedOr202(order, result, who.role));
  });

  router.get('/', async (req, res) => {
    const who = caller(req);
    const order = await visibleOrder(req);
    const [refills, row] = await Promise.all([
      records.listForOrder(order.id),
      deps.prisma.order.findUnique({ where: { id: order.id }, select: { refillVoidReason: true } }),
    ]);
    res.json({
      orderId: order.id,
      guarantee: guaranteeOf(order.refillKind, order.refillDays),
      voidReason: row?.refillVoidReason ?? null,
      refills: refills.map((r) => refillFromRow(r, who.role)),
    });
  });

  router.post('/:refillId/retry', requireRole('support', 'admin'), async (req, res) => {
    const who = caller(req);
    const body = parseOr400(retryRefillBody, req.body ?? {});
    const order = await visibleOrder(req);
    const refillId = orderIdParam.safeParse(req.params.refillId);
    const refill = refillId.success ? await records.get(refillId.data) : null;
    if (!refill || refill.orderId !== order.id) throw notFound('refill');
    // One audit record per requestId (`refill.retry:<order>:<requestId>`); the same request again
    // answers it (api/order-actions.ts).
    const { result, requestId: retryId, replayed } = await runOrderAction<RefillResult>(deps, who, {
      action: 'refill.retry',
      order,
      reason: body.reason,
      requestId: body.requestId ?? idempotencyKeyOf(req),
      request: { refillId: refill.id },
      before: { orderStatus: order.status, refill: { id: refill.id, status: refill.status, attempts: refill.attempts, reason: refill.reason, providerRefillId: refill.providerRefillId } },
      closedRule: 'R-REFILL-SUPPORT',
      send: ({ workflowRequestId }) => retryOrderRefill(deps, who, order, refill.id, { reason: body.reason, requestId: workflowRequestId }),
    });
    logger.info({ orderId: order.id, userId: who.userId, refillId: refill.id, accepted: result.accepted, replayed }, 'refill retry');
    res.status(202).json({ ...refusedOr202(order, result, who.role), requestId: retryId, replayed });
  });

  return router;
}
