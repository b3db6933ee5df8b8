/**
 * The refill activities of the order workflow (issue "Refill guarantees"): the request-time checks
 * that need the database or the provider, the provider's `refill` call, and the refill rows' mirror.
 *
 * sendRefill, for a request the workflow's validator accepted (decideRefill):
 *   1. checks (new requests only; support's retry skips them):
 *      R-BLOCKED       the order's owner is blocked → refused;
 *      R-REFILL-VOID   another order for the same link_key (anyone's, not rejected, not canceled
 *                      before it started) on a different service (a no-refill one included) → the
 *                      guarantee is void: orders.refill_void_reason is written, refused;
 *      R-REFILL-NEED   the provider has a count source (providers.count_source_url) and the engine
 *                      knows the start count: current ≥ start count + quantity → refused with the
 *                      counts. No count source, no start count, or an unreadable count → sent, and
 *                      the provider's refusal is passed on with its reason.
 *   2. the refill row (order_id, request_id unique: a retried activity finds it);
 *   3. the send fence, like orders.dispatch_state: under the row lock, send_attempt = attempt and
 *      send_state = 'sending' are committed BEFORE the call; an attempt that finds 'sending' for its
 *      own attempt never calls again (the provider may have the refill): the refill fails as
 *      uncertain and support decides (R-REFILL-SUPPORT retry = the next attempt of the same row);
 *   4. `refill` at the provider: an id → pending (the sync is woken to follow it); an error → failed
 *      with the provider's words; no answer (timeout, 5xx...) → failed, uncertain.
 * Refills never touch the balance: nothing here calls the ledger.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EngineDeps } from '../deps/engine-deps';
import { activityLogger } from './activity-logger';
import type { RefillCounts, RefillRequester, RefillStatus, RefillUpdate } from '../workflows/order-contract';
import { refillNeeded } from '../domain/refill-policy';
import { ORDER_FAILURES, wakeProviderSync } from './order-activities';
import { createRefillRecords } from './refill-records';
import type { RefillMirrorPatch } from './refill-records';

export interface SendRefillInput {
  orderId: number;
  requestId: string;
  requestedBy: RefillRequester;
  /** 1 for a new refill; for support's retry, the refill's attempts so far + 1. */
  attempt: number;
  /** Support's retry: the refill to send again (its row exists). */
  refillId?: number;
  /** New requests: the request-time checks with the workflow's own counts (R-COUNTERS). Null: no checks. */
  check: { startCount: number | null; quantity: number } | null;
  /** Support's reason for a retry, kept on the row until the provider answers. */
  reason?: string;
  /** A drip-feed run by the engine: the run orders that delivered; each gets its own provider refill. */
  runOrders?: Array<{ runIndex: number; providerOrderId: string }>;
}

/** One run order's provider refill of a drip-feed refill, as sendRefill left it. */
export interface SentRefillPart {
  /** Its own refills row. */
  refillId: number;
  runIndex: number;
  providerOrderId: string;
  providerRefillId: string | null;
  /** sent: now; kept: completed or with the provider since an earlier attempt (not sent again); failed: not taken. */
  outcome: 'sent' | 'kept' | 'failed';
  /** The row's status as this activity saw or left it. */
  rowStatus: RefillStatus;
  reason: string | null;
  uncertain: boolean;
}

/** A part's request id: the request's own, with the run (never a client's id: those are printable ASCII). */
export const partRequestId = (requestId: string, runIndex: number) => `${requestId}\u2192run-${runIndex}`;

export type SendRefillResult =
  | {
      kind: 'refused';
      rule: 'R-BLOCKED' | 'R-REFILL-VOID' | 'R-REFILL-NEED';
      reason: string;
      counts?: RefillCounts;
      /** R-REFILL-VOID: the reason recorded on the order. */
      voidReason?: string;
    }
  | { kind: 'sent'; refillId: number; providerRefillId: string | null; attempt: number; counts: RefillCounts | null; parts?: SentRefillPart[] }
  | { kind: 'failed'; refillId: number; reason: string; uncertain: boolean; attempt: number; counts: RefillCounts | null; parts?: SentRefillPart[] };

/** What the sync last heard about a refill in flight (refills.upstream_status), for a continued run. */
export type RefillUpstream = RefillUpdate;

export const REFILL_TEXT = {
  blocked: 'the account is blocked: it can request no refills',
  voidOtherService: (orderRef: string) => `refill guarantee is void: this link was also ordered on another service (${orderRef})`,
  voidNoRefill: (orderRef: string) => `refill guarantee is void: this link was also ordered on a service without refill (${orderRef})`,
  notNeeded: (c: RefillCounts) =>
    `no refill needed: the count is ${c.currentCount}, not below start count ${c.startCount} + quantity ${c.quantity} = ${c.startCount + c.quantity}`,
  providerRefused: (error: string) => `the provider refused the refill: ${error}`,
  noAnswer: (error: string) => `no answer from the provider to the refill request (${error}); it may have the refill: check before retrying`,
  sentBefore: (attempt: number) =>
    `an earlier attempt (${attempt}) sent the refill and recorded no answer; the provider may have it: check before retrying`,
} as const;

interface OrderForRefill {
  id: number;
  userId: number;
  userStatus: string;
  serviceId: number;
  providerId: number;
  link: string;
  linkKey: string;
  providerOrderId: string | null;
  refillVoidReason: string | null;
}

interface FenceRow {
  id: number;
  status: string;
  sendAttempt: number;
  sendState: string | null;
  providerRefillId: string | null;
  reason: string | null;
}

export function createRefillActivities(deps: EngineDeps) {
  const { prisma, providers } = deps;
  const records = createRefillRecords(prisma);

  async function loadOrder(orderId: number): Promise<OrderForRefill> {
    const rows = await prisma.$queryRaw<OrderForRefill[]>`
      SELECT o.id, o.user_id AS "userId", u.status AS "userStatus", o.service_id AS "serviceId",
             o.provider_id AS "providerId", o.link, o.link_key AS "linkKey",
             o.provider_order_id AS "providerOrderId", o.refill_void_reason AS "refillVoidReason"
        FROM orders o JOIN users u ON u.id = o.user_id
       WHERE o.id = ${orderId}`;
    if (rows.length === 0) throw ApplicationFailure.nonRetryable(`order ${orderId} has no row`, ORDER_FAILURES.orderMissing);
    return rows[0]!;
  }

  /**
   * R-REFILL-VOID: another order for this link on a different service (a service without refill is
   * always a different one), by anyone, placed before or after this one. Rejected placements never
   * reached anyone, and an order canceled before it started never touched the count: neither counts.
   */
  async function voidReason(order: OrderForRefill): Promise<string | null> {
    if (order.refillVoidReason) return order.refillVoidReason;
    const others = await prisma.$queryRaw<Array<{ id: number; userId: number; refillKind: string }>>`
      SELECT id, user_id AS "userId", refill_kind AS "refillKind"
        FROM orders
       WHERE link_key = ${order.linkKey}
         AND id <> ${order.id}
         AND service_id <> ${order.serviceId}
         AND status <> 'rejected'
         AND NOT (status = 'canceled' AND started_at IS NULL)
       ORDER BY (refill_kind = 'none') DESC, id ASC
       LIMIT 1`;
    const other = others[0];
    if (!other) return null;
    // The user's own order is named; someone else's is not.
    const ref = other.userId === order.userId ? `order ${other.id}` : 'an order of another account';
    const reason = other.refillKind === 'none' ? REFILL_TEXT.voidNoRefill(ref) : REFILL_TEXT.voidOtherService(ref);
    await prisma.order.updateMany({ where: { id: order.id, refillVoidReason: null }, data: { refillVoidReason: reason } });
    return reason;
  }

  /** R-REFILL-NEED: the link's count from the provider's count source, when there is one. */
  async function counts(order: OrderForRefill, check: { startCount: number | null; quantity: number }): Promise<RefillCounts | null> {
    if (check.startCount === null) return null;
    const { provider, client } = await providers.get(order.providerId);
    if (!provider.countSourceUrl) return null;
    let read;
    try {
      read = await client.readCount(provider.countSourceUrl, order.link);
    } catch (error) {
      // No usable answer: the provider decides (its refusal is passed on).
      activityLogger(deps).warn('refill: count source unavailable; sending without the count check', { orderId: order.id, error: String(error) });
      return null;
    }
    if ('error' in read) {
      activityLogger(deps).warn('refill: count source answered an error; sending without the count check', { orderId: order.id, error: read.error });
      return null;
    }
    return { startCount: check.startCount, quantity: check.quantity, currentCount: read.count };
  }

  /** The refill row of this request (created once), or support's refill. */
  async function refillRow(input: SendRefillInput): Promise<number> {
    if (input.refillId !== undefined) return input.refillId;
    const existing = await prisma.refill.findUnique({
      where: { orderId_requestId: { orderId: input.orderId, requestId: input.requestId } },
      select: { id: true },
    });
    if (existing) return existing.id;
    try {
      const row = await prisma.refill.create({
        data: { orderId: input.orderId, requestId: input.requestId, requestedBy: input.requestedBy as object, status: 'pending' },
        select: { id: true },
      });
      return row.id;
    } catch (error) {
      // A concurrent attempt created it first (unique order_id, request_id).
      const again = await prisma.refill.findUnique({
        where: { orderId_requestId: { orderId: input.orderId, requestId: input.requestId } },
        select: { id: true },
      });
      if (again) return again.id;
      throw error;
    }
  }

  /**
   * One provider `refill` behind the row's send fence (see the file comment, step 3): a row already
   * answered for this attempt answers again; one left 'sending' by this attempt is failed as
   * uncertain; otherwise the call is made and its answer recorded. Idempotent per (row, attempt).
   */
  async function sendOnce(
    order: OrderForRefill,
    refillId: number,
    orderId: number,
    attempt: number,
    providerOrderId: string,
    reason: string | undefined,
  ): Promise<{ kind: 'sent'; providerRefillId: string; attempt: number; fresh: boolean } | { kind: 'failed'; reason: string; uncertain: boolean; attempt: number }> {
    const log = activityLogger(deps);
    const claim = await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<FenceRow[]>`
        SELECT id, status, send_attempt AS "sendAttempt", send_state AS "sendState",
               provider_refill_id AS "providerRefillId", reason
          FROM refills WHERE id = ${refillId} AND order_id = ${orderId} FOR UPDATE`;
      const row = rows[0];
      if (!row) throw ApplicationFailure.nonRetryable(`refill ${refillId} is not a refill of order ${orderId}`, ORDER_FAILURES.orderMissing);
      if (row.sendAttempt > attempt || (row.sendAttempt === attempt && row.sendState === 'answered')) {
        return { go: false as const, row };
      }
      if (row.sendAttempt === attempt && row.sendState === 'sending') {
        const lost = REFILL_TEXT.sentBefore(row.sendAttempt);
        await tx.refill.update({ where: { id: refillId }, data: { status: 'failed', reason: lost, sendState: 'answered' } });
        return { go: false as const, row: { ...row, status: 'failed', reason: lost, sendState: 'answered' } };
      }
      await tx.refill.update({
        where: { id: refillId },
        data: {
          sendAttempt: attempt,
          sendState: 'sending',
          status: 'pending',
          providerRefillId: null,
          upstreamStatus: null,
          lastCheckedAt: null,
          completedAt: null,
          reason: reason ?? null,
        },
      });
      return { go: true as const };
    });
    if (!claim.go) {
      // A retry of this activity after the answer was recorded (or after a lost one): answer it again.
      const { row } = claim;
      log.info('refill: nothing sent (attempt already made)', { orderId, refillId, attempt, status: row.status });
      if (row.providerRefillId && row.status !== 'failed') return { kind: 'sent', providerRefillId: row.providerRefillId, attempt: row.sendAttempt, fresh: false };
      const uncertain = /^(an earlier attempt|no answer from the provider)/.test(row.reason ?? '');
      return { kind: 'failed', reason: row.reason ?? 'the provider did not take the refill', uncertain, attempt: row.sendAttempt };
    }

    const { client } = await providers.get(order.providerId);
    const answer = await client.refill(providerOrderId);
    if ('refillId' in answer) {
      await prisma.refill.update({
        where: { id: refillId },
        data: { providerRefillId: answer.refillId, sendState: 'answered', status: 'pending', reason: null },
      });
      log.info('refill sent', { orderId, refillId, providerRefillId: answer.refillId, attempt });
      return { kind: 'sent', providerRefillId: answer.refillId, attempt, fresh: true };
    }
    const uncertain = answer.uncertain === true;
    const failed = uncertain ? REFILL_TEXT.noAnswer(answer.error) : REFILL_TEXT.providerRefused(answer.error);
    await prisma.refill.update({ where: { id: refillId }, data: { status: 'failed', reason: failed, sendState: 'answered' } });
    log.warn('refill not taken by the provider', { orderId, refillId, reason: failed, uncertain });
    return { kind: 'failed', reason: failed, uncertain, attempt };
  }

  /** The row of one run order's part of a drip-feed refill (created once: unique order id, request id). */
  async function partRow(input: SendRefillInput, parentId: number, runIndex: number): Promise<{ id: number; status: string; providerRefillId: string | null; sendAttempt: number }> {
    const requestId = partRequestId(input.requestId, runIndex);
    const select = { id: true, status: true, providerRefillId: true, sendAttempt: true } as const;
    const where = { orderId_requestId: { orderId: input.orderId, requestId } };
    const existing = await prisma.refill.findUnique({ where, select });
    if (existing) return existing;
    try {
      return await prisma.refill.create({
        data: { orderId: input.orderId, requestId, requestedBy: input.requestedBy as object, status: 'pending', parentRefillId: parentId, runIndex },
        select,
      });
    } catch (error) {
      const again = await prisma.refill.findUnique({ where, select });
      if (again) return again;
      throw error;
    }
  }

  /**
   * A drip-feed's refill: one provider refill per run order that delivered (docs: README, "Order
   * types"). Each part has its own row and fence, so a retried activity sends none twice; support's
   * retry (a later attempt) sends again only the parts that did not complete and are not with the
   * provider. Sent when at least one part is with the provider (the sync follows each part).
   */
  async function sendRunRefills(order: OrderForRefill, input: SendRefillInput, parentId: number, measured: RefillCounts | null): Promise<SendRefillResult> {
    await prisma.refill.updateMany({ where: { id: parentId, sendAttempt: { lt: input.attempt } }, data: { sendAttempt: input.attempt, sendState: 'answered', reason: input.reason ?? null } });
    const parts: SentRefillPart[] = [];
    let fresh = false;
    for (const runOrder of input.runOrders!) {
      const row = await partRow(input, parentId, runOrder.runIndex);
      const base = { refillId: row.id, runIndex: runOrder.runIndex, providerOrderId: runOrder.providerOrderId };
      const keep = row.sendAttempt < input.attempt && row.providerRefillId !== null && (row.status === 'completed' || row.status === 'pending' || row.status === 'in_progress');
      if (keep) {
        parts.push({ ...base, providerRefillId: row.providerRefillId, outcome: 'kept', rowStatus: row.status as RefillStatus, reason: null, uncertain: false });
        continue;
      }
      const one = await sendOnce(order, row.id, input.orderId, input.attempt, runOrder.providerOrderId, input.reason);
      if (one.kind === 'sent' && one.fresh) fresh = true;
      parts.push(
        one.kind === 'sent'
          ? { ...base, providerRefillId: one.providerRefillId, outcome: 'sent', rowStatus: 'pending', reason: null, uncertain: false }
          : { ...base, providerRefillId: null, outcome: 'failed', rowStatus: 'failed', reason: one.reason, uncertain: one.uncertain },
      );
    }
    const alive = parts.filter((p) => p.outcome !== 'failed');
    if (fresh) await wakeProviderSync(deps, order.providerId);
    if (alive.length > 0) return { kind: 'sent', refillId: parentId, providerRefillId: null, attempt: input.attempt, counts: measured, parts };
    const reason = `the provider took no run order's refill: ${parts.map((p) => `run ${p.runIndex}: ${p.reason}`).join('; ')}`;
    await prisma.refill.update({ where: { id: parentId }, data: { status: 'failed', reason } });
    return { kind: 'failed', refillId: parentId, reason, uncertain: parts.some((p) => p.uncertain), attempt: input.attempt, counts: measured, parts };
  }

  return {
    /** See the file comment. Idempotent per (order, request id, attempt). */
    async sendRefill(input: SendRefillInput): Promise<SendRefillResult> {
      const log = activityLogger(deps);
      const order = await loadOrder(input.orderId);
      let measured: RefillCounts | null = null;
      if (input.check) {
        if (order.userStatus !== 'active') return { kind: 'refused', rule: 'R-BLOCKED', reason: REFILL_TEXT.blocked };
        const voided = await voidReason(order);
        if (voided) {
          log.info('refill refused: guarantee void', { orderId: order.id, reason: voided });
          return { kind: 'refused', rule: 'R-REFILL-VOID', reason: voided, voidReason: voided };
        }
        measured = await counts(order, input.check);
        if (measured && !refillNeeded(measured)) {
          log.info('refill refused: no drop', { orderId: order.id, counts: measured });
          return { kind: 'refused', rule: 'R-REFILL-NEED', reason: REFILL_TEXT.notNeeded(measured), counts: measured };
        }
      }
      if (!order.providerOrderId) {
        throw ApplicationFailure.nonRetryable(`order ${order.id} has no provider order to refill`, ORDER_FAILURES.orderMissing);
      }

      const refillId = await refillRow(input);
      // A drip-feed run by the engine: every run order that delivered gets its own provider refill.
      if (input.runOrders && input.runOrders.length > 0) return sendRunRefills(order, input, refillId, measured);
      const one = await sendOnce(order, refillId, input.orderId, input.attempt, order.providerOrderId, input.reason);
      if (one.kind === 'sent' && one.fresh) await wakeProviderSync(deps, order.providerId);
      if (one.kind === 'sent') return { kind: 'sent', refillId, providerRefillId: one.providerRefillId, attempt: one.attempt, counts: measured };
      return { kind: 'failed', refillId, reason: one.reason, uncertain: one.uncertain, attempt: one.attempt, counts: measured };
    },

    /** The workflow's mirror of one refill (run as a local activity). */
    async mirrorRefill(refillId: number, patch: RefillMirrorPatch): Promise<{ applied: boolean }> {
      return records.mirror(refillId, patch);
    },

    /**
     * What the sync last heard about this order's refills in flight (refills.upstream_status): a
     * continued run applies it, so a refillUpdate that crossed the continue-as-new is not lost.
     */
    async refillUpstreamStates(orderId: number): Promise<RefillUpstream[]> {
      const rows = await prisma.refill.findMany({
        where: { orderId, status: { in: ['pending', 'in_progress'] }, providerRefillId: { not: null }, upstreamStatus: { not: null } },
        select: { id: true, providerRefillId: true, upstreamStatus: true, lastCheckedAt: true },
        orderBy: { id: 'asc' },
      });
      return rows.map((r) => ({
        refillId: r.id,
        providerRefillId: r.providerRefillId!,
        status: r.upstreamStatus as RefillUpdate['status'],
        observedAt: (r.lastCheckedAt ?? new Date()).getTime(),
      }));
    },
  };
}

export type RefillActivities = ReturnType<typeof createRefillActivities>;
