// Refill requests for one order, as the REST API (POST /orders/:id/refills, the support retry) and
// API v2 (action=refill, refill_status through the RefillDesk) send them: the order workflow's
// `refill` / `retryRefill` updates (worker/order-client.ts), whose validators refuse at once with
// the rule and the reason. The engine decides, never the caller (R-REFILL-*).
//
// Before the workflow is asked, the row answers what can never change: no guarantee
// (R-REFILL-SERVICE), a final status other than Completed (R-REFILL-STATUS), and a blocked caller
// (R-BLOCKED). A closed workflow cannot take the update: its guarantee is over, and the row (the
// domain's decideRefill over it) says why.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { OrderRecord } from '../activities/order-records';
import { createRefillRecords } from '../activities/refill-records';
import type { RefillRecordRow } from '../activities/refill-records';
import { decideRefill, refillWindowClosesAt } from '../domain/refill-policy';
import { isoInstant } from '../domain/time';
import { guaranteeOf, requestRefill, retryRefill } from '../worker/order-client';
import type { RefillCounts, RefillRecord, RefillRequester, RefillResult, RefillStatus } from '../workflows/order-contract';
import type { ApiDeps } from './app';
import type { AuthContext } from './auth';
import { isStaff } from './auth';
import type { Role } from './auth';
import { V2_TEXT } from './v2/errors';
import type { RefillDesk } from './v2/actions/refill';

export type RefillRefusal = Extract<RefillResult, { accepted: false }>;

const refused = (rule: string, reason: string): RefillRefusal => ({ accepted: false, rule, reason });

function requester(who: AuthContext): RefillRequester {
  return { kind: who.role, userId: who.userId, apiKeyId: who.apiKeyId };
}

/** What the row alone settles (never changes later), or null: the workflow decides. */
export function refillFastRefusal(who: AuthContext, order: OrderRecord): RefillRefusal | null {
  const guarantee = guaranteeOf(order.refillKind, order.refillDays);
  if (guarantee.kind === 'none') return refused('R-REFILL-SERVICE', 'this service has no refill guarantee');
  if (order.status === 'partial' || order.status === 'canceled' || order.status === 'rejected') {
    return refused('R-REFILL-STATUS', `only a completed order can be refilled (order is ${order.status})`);
  }
  if (who.userId === order.userId && who.userStatus !== 'active') return refused('R-BLOCKED', 'the account is blocked: it can request no refills');
  return null;
}

/**
 * Why an order whose workflow has ended cannot be refilled: decideRefill over the final row; a
 * guarantee the workflow no longer follows ended with its window (or was void).
 */
export async function refillRefusedFromRow(deps: Pick<ApiDeps, 'prisma'>, order: OrderRecord): Promise<RefillRefusal> {
  const row = await deps.prisma.order.findUnique({ where: { id: order.id }, select: { refillVoidReason: true } });
  const guarantee = guaranteeOf(order.refillKind, order.refillDays);
  const placedAt = Date.parse(order.createdAt);
  if (row?.refillVoidReason) return refused('R-REFILL-VOID', row.refillVoidReason);
  const decision = decideRefill({
    status: order.status,
    guarantee,
    placedAt,
    completedAt: order.finishedAt ? Date.parse(order.finishedAt) : placedAt,
    lastRefillCompletedAt: null,
    refillInFlight: false,
    voided: false,
    now: Date.now(),
  });
  if (!decision.accepted) return refused(decision.rule, decision.reason);
  const closesAt = refillWindowClosesAt(placedAt, guarantee);
  if (closesAt !== null) {
    return refused('R-REFILL-WINDOW', `refill window closed at ${isoInstant(closesAt)} (guarantee period minus 3 days from the order date)`);
  }
  return refused('R-REFILL-SUPPORT', "this order's refills are no longer followed (its workflow has ended); ask support");
}

/** A refill request for one order the caller may see; requestId makes a retried request one refill. */
export async function requestOrderRefill(deps: Pick<ApiDeps, 'prisma' | 'temporal'>, who: AuthContext, order: OrderRecord, requestId: string): Promise<RefillResult> {
  const fast = refillFastRefusal(who, order);
  if (fast) return fast;
  try {
    return await requestRefill(deps.temporal, order.id, { requestedBy: requester(who), requestId });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return refillRefusedFromRow(deps, order);
  }
}

/** Support's retry of a failed or rejected refill (R-REFILL-SUPPORT). */
export async function retryOrderRefill(
  deps: Pick<ApiDeps, 'temporal'>,
  who: AuthContext,
  order: OrderRecord,
  refillId: number,
  options: { reason?: string; requestId?: string } = {},
): Promise<RefillResult> {
  try {
    return await retryRefill(deps.temporal, order.id, {
      refillId,
      requestedBy: requester(who),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return refused('R-REFILL-SUPPORT', "the order's refill guarantee is over (its workflow has ended): the refill cannot be retried");
  }
}

/** A refill as the REST API shows it: from the workflow's record or the refills row. */
export interface RefillView {
  id: number;
  orderId: number;
  status: RefillStatus;
  reason: string | null;
  attempts: number;
  counts?: RefillCounts | null;
  requestId: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** Staff only. */
  requestedBy?: RefillRequester;
  providerRefillId?: string | null;
  /** A drip-feed's refill: one provider refill per run order (providerRefillId for staff only). */
  runs?: Array<{ run: number; status: RefillStatus; reason: string | null; providerRefillId?: string | null }>;
}

function runParts(parts: Array<{ runIndex: number; status: RefillStatus; reason: string | null; providerRefillId: string | null }> | undefined, role: Role) {
  if (!parts || parts.length === 0) return {};
  return { runs: parts.map((p) => ({ run: p.runIndex, status: p.status, reason: p.reason, ...(isStaff(role) ? { providerRefillId: p.providerRefillId } : {}) })) };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function refillFromRecord(orderId: number, r: RefillRecord, role: Role): RefillView {
  const view: RefillView = {
    id: r.refillId,
    orderId,
    status: r.status,
    reason: r.reason,
    attempts: r.attempts,
    counts: r.counts,
    requestId: r.requestId,
    createdAt: new Date(r.requestedAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    completedAt: iso(r.completedAt),
    ...runParts(r.parts, role),
  };
  if (isStaff(role)) Object.assign(view, { requestedBy: r.requestedBy, providerRefillId: r.providerRefillId });
  return view;
}

export function refillFromRow(r: RefillRecordRow, role: Role): RefillView {
  const view: RefillView = {
    id: r.id,
    orderId: r.orderId,
    status: r.status,
    reason: r.reason,
    attempts: r.attempts,
    requestId: r.requestId,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    completedAt: r.completedAt,
    ...runParts(r.parts, role),
  };
  if (isStaff(role)) Object.assign(view, { requestedBy: r.requestedBy, providerRefillId: r.providerRefillId });
  return view;
}

/** API v2's refill statuses (the reference's four); a refill the provider never took reads Rejected. */
export const V2_REFILL_STATUS: Record<RefillStatus, string> = {
  pending: 'Pending',
  in_progress: 'In progress',
  completed: 'Completed',
  rejected: 'Rejected',
  failed: 'Rejected',
};

/** "a refill is already in progress" → "A refill is already in progress". */
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The RefillDesk API v2 calls: action=refill asks the order's workflow (a fresh request id per
 * call: API v2 has none; a double click meets "A refill is already in progress"), answering the
 * refills row id; action=refill_status reads the caller's refills rows.
 */
export function createRefillDesk(deps: ApiDeps): RefillDesk {
  const records = createRefillRecords(deps.prisma);
  return {
    async request(who, order) {
      try {
        const result = await requestOrderRefill(deps, who, order, `v2-${randomUUID()}`);
        if (result.accepted) {
          deps.logger.info({ orderId: order.id, userId: who.userId, refillId: result.refill.refillId }, 'api v2: refill accepted');
          return { refill: result.refill.refillId };
        }
        deps.logger.info({ orderId: order.id, userId: who.userId, rule: result.rule, reason: result.reason }, 'api v2: refill refused');
        return { error: sentence(result.reason) };
      } catch (error) {
        deps.logger.error({ err: error, orderId: order.id, userId: who.userId }, 'api v2: refill failed');
        return { error: V2_TEXT.refillUnavailableNow };
      }
    },
    async status(who, refillId) {
      const refill = await records.get(refillId);
      if (!refill) return { error: V2_TEXT.refillNotFound };
      const order = await deps.orders.getOrder(refill.orderId);
      if (!order || order.userId !== who.userId) return { error: V2_TEXT.refillNotFound };
      return { status: V2_REFILL_STATUS[refill.status] };
    },
  };
}
