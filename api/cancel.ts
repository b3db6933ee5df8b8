// A caller's cancel request for one order, as the REST API (POST /orders/:id/cancel) and API v2
// (action=cancel) both send it: the order workflow's `cancel` update (worker/order-client.ts
// cancelOrder), whose validator refuses at once with rule and reason. A closed workflow cannot take
// the update: its row is final, and the domain's decideCancel says why nothing can be canceled.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { OrderRecord } from '../activities/order-records';
import { decideCancel } from '../domain/cancel-policy';
import { cancelOrder } from '../worker/order-client';
import type { CancelRequest, CancelResult } from '../workflows/order-contract';
import type { AuthContext } from './auth';

export async function requestOrderCancel(
  temporal: Client,
  who: AuthContext,
  order: OrderRecord,
  options: { reason?: string; requestId?: string } = {},
): Promise<CancelResult> {
  const request: CancelRequest = {
    requestedBy: { kind: who.role, userId: who.userId, apiKeyId: who.apiKeyId },
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
  };
  try {
    // A validator's refusal comes back as { accepted: false, rule, reason }, at once.
    return await cancelOrder(temporal, order.id, request);
  } catch (error) {
    // The workflow is gone (closed): the row is final, and the domain says why no cancel.
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return refusedFromRow(order);
  }
}

/** Why the final row of an order whose workflow is closed cannot be canceled. */
export function refusedFromRow(order: OrderRecord): CancelResult {
  const decision = decideCancel({
    status: order.status,
    placedAt: Date.parse(order.createdAt),
    startedAt: order.startedAt ? Date.parse(order.startedAt) : null,
    now: Date.now(),
    serviceCancelable: order.cancelable,
    suspended: false,
    cancelRequested: order.cancelRequested,
  });
  if (!decision.allowed) return { accepted: false, rule: decision.rule, reason: decision.reason };
  // An open order without a running workflow cannot be canceled by anyone but an engineer.
  throw new Error(`order ${order.id} is ${order.status} but its workflow is not running`);
}
