// /support/orders/:id/... (roles support and admin): support's powers over one order (issue 6).
//
//   POST /support/orders/:id/cancel            {refund: 'full'|'none', reason, requestId?}  → 202 | 409 cancel_refused
//   POST /support/orders/:id/move              {serviceId, reason, requestId?}             → 202 | 409 move_refused, 422 unknown service
//   POST /support/orders/:id/resolve-dispatch  {action, providerOrderId?, reason, requestId?} → 200 | 409 resolve_refused
//
// Each is the order workflow's update (worker/order-client.ts: cancelOrder with mode full_refund or
// no_refund, moveOrder, resolveDispatch), so it stands in the order's history, and one audit record
// per requestId (api/order-actions.ts runOrderAction: the same request again answers that record).
// The workflow decides; the API only refuses what the catalogue settles before asking: a move to a
// service that is not similar (domain/substitute.ts decideSubstitute, R-SUBSTITUTE).
import { Router } from 'express';
import type { Request } from 'express';
import type { OrderRecord } from '../../activities/order-records';
import { unmovableKind } from '../../domain/order-types/movable';
import { decideSubstitute } from '../../domain/substitute';
import type { SubstituteService } from '../../domain/substitute';
import type { Service } from '../../generated/prisma/client';
import { cancelOrder, guaranteeOf, moveOrder, resolveDispatch } from '../../worker/order-client';
import type { CancelResult, DispatchResolution, MoveResult, ResolveDispatchResult } from '../../workflows/order-contract';
import type { ApiDeps } from '../app';
import { caller } from '../auth';
import { ApiError, notFound } from '../errors';
import { answerOrderAction, runOrderAction, staffRef } from '../order-actions';
import { moveOrderBody, orderIdParam, parseOr400, resolveDispatchBody, supportCancelBody } from '../schemas';

function substituteService(s: Service): SubstituteService {
  return { id: s.id, category: s.category, type: s.type, active: s.active, min: s.min, max: s.max, guarantee: guaranteeOf(s.refillKind, s.refillDays) };
}

/**
 * R-SUBSTITUTE sends the undelivered quantity to the new service. An order whose type has no
 * quantity to split (its lines, a package, a subscription) or that is a drip-feed (engine- or
 * provider-run) cannot be sent on in part: refused with the reason (domain/order-types/movable.ts
 * unmovableKind; the workflow's move validator refuses the same).
 */
function unmovableType(order: OrderRecord): string | null {
  return unmovableKind({ serviceType: order.serviceType, dripFeed: order.dripFeed, subscription: order.subscription });
}

/** The order and what every body carries: the reason (required) and the optional requestId. */
const asked = (order: OrderRecord, body: { reason: string; requestId?: string }) => ({ order, reason: body.reason, requestId: body.requestId });

export function supportOrdersRouter(deps: ApiDeps): Router {
  const { prisma, temporal, orders } = deps;
  const router = Router();

  /** Any order (staff see every one); 404 for an unknown id or one that is not an id. */
  async function anyOrder(req: Request): Promise<OrderRecord> {
    const parsed = orderIdParam.safeParse(req.params.id);
    if (!parsed.success) throw notFound('order');
    const order = await orders.getOrder(parsed.data);
    if (!order) throw notFound('order');
    req.res!.locals.orderId = order.id;
    return order;
  }

  // R-CANCEL-FULL (refund 'full'): canceled now whatever the service's cancel flag, the whole charge
  // back. R-CANCEL-NO-REFUND (refund 'none'): canceled now, nothing back, the reason kept.
  router.post('/orders/:id/cancel', async (req, res) => {
    const who = caller(req);
    const body = parseOr400(supportCancelBody, req.body ?? {});
    const order = await anyOrder(req);
    const mode = body.refund === 'full' ? 'full_refund' : 'no_refund';
    const outcome = await runOrderAction<CancelResult>(deps, who, {
      action: 'order.cancel',
      ...asked(order, body),
      request: { refund: body.refund },
      closedRule: mode === 'full_refund' ? 'R-CANCEL-FULL' : 'R-CANCEL-NO-REFUND',
      send: ({ workflowRequestId }) =>
        cancelOrder(temporal, order.id, { requestedBy: staffRef(who), reason: body.reason, requestId: workflowRequestId, mode }),
    });
    answerOrderAction(res, order.id, outcome, { status: 202, refusedCode: 'cancel_refused' });
  });

  // R-SUBSTITUTE: the catalogue says whether the target is similar (decideSubstitute, before any
  // update); the workflow checks the order's status and the undelivered quantity again itself.
  router.post('/orders/:id/move', async (req, res) => {
    const who = caller(req);
    const body = parseOr400(moveOrderBody, req.body ?? {});
    const order = await anyOrder(req);
    const target = await prisma.service.findUnique({ where: { id: body.serviceId } });
    if (!target) throw new ApiError(422, 'unknown_service', `service ${body.serviceId} does not exist`, { field: 'serviceId', rule: 'exists' });
    const current = await prisma.service.findUniqueOrThrow({ where: { id: order.serviceId } });
    const outcome = await runOrderAction<MoveResult>(deps, who, {
      action: 'order.move',
      ...asked(order, body),
      request: { serviceId: target.id },
      closedRule: 'R-SUBSTITUTE',
      async send({ workflowRequestId }) {
        const decision = decideSubstitute({
          status: order.status,
          current: substituteService(current),
          target: substituteService(target),
          guarantee: guaranteeOf(order.refillKind, order.refillDays),
          undelivered: order.remains ?? order.quantity,
        });
        if (!decision.allowed) return { accepted: false, rule: decision.rule, reason: decision.reason };
        const typed = unmovableType(order);
        if (typed) return { accepted: false, rule: 'R-SUBSTITUTE', reason: typed };
        return moveOrder(temporal, order.id, {
          target: { serviceId: target.id, providerId: target.providerId, providerServiceId: target.providerServiceId, min: target.min, max: target.max },
          requestedBy: staffRef(who),
          reason: body.reason,
          requestId: workflowRequestId,
        });
      },
    });
    answerOrderAction(res, order.id, outcome, { status: 202, refusedCode: 'move_refused' });
  });

  // An order in dispatch_uncertain: the provider has it (attach), does not (redispatch), or give up
  // (cancel, full refund: R-CANCEL-FULL).
  router.post('/orders/:id/resolve-dispatch', async (req, res) => {
    const who = caller(req);
    const body = parseOr400(resolveDispatchBody, req.body ?? {});
    const order = await anyOrder(req);
    const action: Pick<DispatchResolution, 'action'> & { providerOrderId?: string } =
      body.action === 'attach' ? { action: 'attach', providerOrderId: body.providerOrderId! } : { action: body.action };
    const outcome = await runOrderAction<ResolveDispatchResult>(deps, who, {
      action: 'order.resolve_dispatch',
      ...asked(order, body),
      request: { ...action },
      closedRule: 'dispatch_uncertain',
      send: ({ workflowRequestId }) =>
        resolveDispatch(temporal, order.id, { ...action, by: staffRef(who), reason: body.reason, requestId: workflowRequestId } as DispatchResolution),
    });
    answerOrderAction(res, order.id, outcome, { status: 200, refusedCode: 'resolve_refused' });
  });

  return router;
}
