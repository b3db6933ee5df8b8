// Support's actions on one order, audited once per request (issue 6): support's cancel, move and
// dispatch resolution (api/routes/support-orders.ts) and the refill retry (api/routes/refills.ts).
//
// Each one is a workflow update of the order (so it stands in the order's history) and ONE
// audit_records row, keyed `<action>:<orderId>:<requestId>`:
//   1. a record with that key exists → its stored result, `replayed: true` (the same requestId with
//      another reason or request → 409 idempotency_key_reused, as setStatusOnce does);
//   2. else the update is sent, with a workflow request id derived from the requestId (so a retry,
//      or a concurrent twin, is one update: Temporal dedupes by update id); a closed workflow
//      (WorkflowNotFoundError) is refused from the row: "order is <status>";
//   3. then the record: who (user, key), why (reason), before (the row's fields), after (the request,
//      the result, and the workflow's state right after, from the `state` query). Refusals are
//      recorded too; their before and after show nothing changed. A twin that loses the insert
//      answers the winner's record (replayed).
// Temporal not answering is 503 `order_action_unavailable` with the requestId and no record: the
// same request again (same requestId) tries again.
import { createHash, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Response } from 'express';
import type { OrderRecord } from '../activities/order-records';
import type { AuditRecord } from '../generated/prisma/client';
import { orderState } from '../worker/order-client';
import type { OrderState, StaffRef } from '../workflows/order-contract';
import type { ApiDeps } from './app';
import { auditOnce, findAudit } from './audit';
import type { AuthContext } from './auth';
import { ApiError } from './errors';

export type OrderActionName = 'order.cancel' | 'order.move' | 'order.resolve_dispatch' | 'refill.retry';

/** What every workflow answer to support looks like: accepted, or refused with rule and reason. */
export type ActionResult = { accepted: true } | { accepted: false; rule: string; reason: string };

/** How long the workflow update may take before the API answers 503 (the request may be sent again). */
const UPDATE_TIMEOUT_MS = 30_000;
/** How long the state query for the audit record's `after` may take (else the row is used). */
const STATE_TIMEOUT_MS = 5_000;

export interface OrderActionSpec<R extends ActionResult> {
  action: OrderActionName;
  order: OrderRecord;
  /** Why (required): the record's reason, and what a reused requestId is compared with. */
  reason: string;
  /** The client's requestId; absent, a fresh one (every call a new action). */
  requestId: string | undefined;
  /** What the request asks besides the reason ({refund}, {serviceId}, ...): kept in `after.request`. */
  request: Record<string, unknown>;
  /** The record's `before`; default the order row's fields (orderSummary). */
  before?: unknown;
  /**
   * Sends the workflow update (or refuses before sending). `workflowRequestId` is namespaced by the
   * action, so it cannot collide with a user's request ids: `support-cancel:<orderId>:<requestId>`.
   */
  send(ids: { requestId: string; workflowRequestId: string }): Promise<R>;
  /** The refusal for an order whose workflow is closed. */
  closedRule: string;
}

export interface OrderActionOutcome<R extends ActionResult> {
  result: R;
  requestId: string;
  replayed: boolean;
}

/** The namespace of the workflow request ids of each action. */
const WORKFLOW_NAMESPACE: Record<OrderActionName, string> = {
  'order.cancel': 'support-cancel',
  'order.move': 'support-move',
  'order.resolve_dispatch': 'support-resolve',
  'refill.retry': 'support-retry',
};

/**
 * The request id the workflow sees: namespaced by action and order, so no user's own request id
 * (a user's cancel, a block's cancels) can match it; a long one is hashed to stay within 200 characters.
 */
export function workflowRequestIdOf(action: OrderActionName, orderId: number, requestId: string): string {
  const id = `${WORKFLOW_NAMESPACE[action]}:${orderId}:${requestId}`;
  if (id.length <= 200) return id;
  return `${WORKFLOW_NAMESPACE[action]}:${orderId}:sha256-${createHash('sha256').update(requestId, 'utf8').digest('hex')}`;
}

/** The caller as the workflow records support: only support and admin keys reach these routes. */
export function staffRef(who: AuthContext): StaffRef {
  if (who.role === 'user') throw new ApiError(403, 'forbidden', 'this endpoint needs role support or admin');
  return { kind: who.role, userId: who.userId, apiKeyId: who.apiKeyId };
}

/** The order row's fields an action may change, for the audit record's `before`. */
export function orderSummary(o: OrderRecord) {
  return {
    status: o.status,
    serviceId: o.serviceId,
    providerId: o.providerId,
    providerOrderId: o.providerOrderId,
    refunded: o.refunded,
    remains: o.remains,
  };
}

/** The workflow's state right after the action, for the audit record's `after`. */
export function stateSummary(s: OrderState) {
  return {
    source: 'workflow' as const,
    status: s.status,
    serviceId: s.serviceId,
    providerId: s.providerId,
    providerOrderId: s.providerOrderId,
    refunded: s.refunded,
    cancelRequested: s.flags.cancelRequested,
    lastCancel: s.lastCancel ?? null,
    lastMove: s.moves?.at(-1) ?? null,
    rejectReason: s.rejectReason,
  };
}

interface StoredAfter<R> {
  request?: unknown;
  result?: R;
}

/** The stored answer of an earlier request with this key; 409 when it asked something else. */
function replay<R extends ActionResult>(record: AuditRecord, spec: OrderActionSpec<R>, requestId: string): OrderActionOutcome<R> {
  const after = (record.after ?? {}) as StoredAfter<R>;
  if (record.reason !== spec.reason || !isDeepStrictEqual(after.request, spec.request) || after.result === undefined) {
    throw new ApiError(409, 'idempotency_key_reused', 'this requestId was already used with a different request or reason', {
      field: 'requestId',
      rule: 'idempotency',
    });
  }
  return { result: after.result, requestId, replayed: true };
}

/** Runs one audited action on an order: the stored answer, or the update and its one record. */
export async function runOrderAction<R extends ActionResult>(
  deps: Pick<ApiDeps, 'prisma' | 'temporal' | 'orders' | 'logger'>,
  who: AuthContext,
  spec: OrderActionSpec<R>,
): Promise<OrderActionOutcome<R>> {
  const { prisma, temporal, logger } = deps;
  const { order, action } = spec;
  const requestId = spec.requestId ?? randomUUID();
  const key = `${action}:${order.id}:${requestId}`;
  const earlier = await findAudit(prisma, key);
  if (earlier) return replay(earlier, spec, requestId);

  const workflowRequestId = workflowRequestIdOf(action, order.id, requestId);
  let result: R;
  try {
    result = await temporal.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => spec.send({ requestId, workflowRequestId }));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof WorkflowNotFoundError) {
      // The workflow has ended: the row is final, and nothing more can be done to the order.
      result = { accepted: false, rule: spec.closedRule, reason: `order is ${order.status}` } as R;
    } else {
      logger.error({ err: error, orderId: order.id, userId: who.userId, action }, 'order action: the workflow did not answer');
      throw new ApiError(503, 'order_action_unavailable', 'the order did not answer now; send the same request again with the same requestId', {
        orderId: order.id,
        requestId,
      });
    }
  }

  const { record, replayed } = await auditOnce(prisma, who, {
    action,
    orderId: order.id,
    targetUserId: order.userId,
    reason: spec.reason,
    before: spec.before ?? orderSummary(order),
    after: { request: spec.request, result, state: await stateAfter(deps, order.id) },
    requestId: key,
  });
  // A concurrent twin wrote first: its answer is the answer.
  if (replayed) return replay(record, spec, requestId);
  logger.info({ orderId: order.id, userId: who.userId, action, accepted: result.accepted, requestId }, 'order action answered');
  return { result, requestId, replayed: false };
}

/** The order's state after the action: the workflow's (state query), else the row (a closed or silent workflow). */
async function stateAfter(deps: Pick<ApiDeps, 'temporal' | 'orders' | 'logger'>, orderId: number) {
  try {
    return stateSummary(await deps.temporal.withDeadline(Date.now() + STATE_TIMEOUT_MS, () => orderState(deps.temporal, orderId)));
  } catch (error) {
    deps.logger.warn({ err: error, orderId }, 'order action: state query failed; the audit record shows the row');
    const row = await deps.orders.getOrder(orderId);
    return row ? { source: 'database' as const, ...orderSummary(row), cancelRequested: row.cancelRequested, rejectReason: row.rejectReason } : null;
  }
}

/**
 * The HTTP answer of support's cancel, move and resolution: accepted → `status` with
 * {orderId, result, requestId, replayed}; refused → 409 `<refusedCode>` with the rule and reason.
 */
export function answerOrderAction<R extends ActionResult>(
  res: Response,
  orderId: number,
  outcome: OrderActionOutcome<R>,
  options: { status: 200 | 202; refusedCode: string },
): void {
  const { result, requestId, replayed } = outcome;
  if (!result.accepted) {
    const { accepted: _accepted, rule, reason, ...extra } = result as Extract<ActionResult, { accepted: false }> & Record<string, unknown>;
    throw new ApiError(409, options.refusedCode, reason, { rule, reason, orderId, requestId, replayed, ...extra });
  }
  res.status(options.status).json({ orderId, result, requestId, replayed });
}
