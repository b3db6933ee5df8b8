/**
 * The order workflow's activities: every side effect of an order (database, ledger, provider).
 *
 * Each one is idempotent, because Temporal retries activities and replays nothing else:
 * - reserveAndDebit: the row is keyed by the reserved order id and the workflow id, the debit by
 *   `order-<id>:debit`; a retry finds what the first attempt did and answers the same.
 * - dispatchOrder: orders.dispatch_state fences the provider's `add` (which has no idempotency key):
 *   'sending' is committed BEFORE the call, so an attempt that finds 'sending' knows an earlier one
 *   may have placed the order and never sends again (it answers uncertain).
 * - abandonDispatch closes the same fence from the other side (dispatch_state 'abandoned' under the
 *   row lock), so a late dispatch attempt can never place an order that was canceled meanwhile. It
 *   leaves the status alone: the row goes final only in the workflow's finish(), after the refund,
 *   so a workflow lost in between leaves an unsettled row that the recovery resumes (recovery/).
 * - refundOrder: one ledger entry per order, key `order-<id>:refund` (R-PARTIAL, R-CANCEL-FULL).
 * - mirrorOrder: updateOrderMirror never moves a status backwards, so a late retry is harmless.
 * - switchService (R-SUBSTITUTE) moves the row to another service under the same lock as the
 *   dispatch fence: it refuses while an `add` may be in flight, and a retry finds the move done.
 */
import { countMoney, moneyCharged, moneyRefunded } from '../observability/metrics';
import { ApplicationFailure } from '@temporalio/common';
import type { AddOrderResult } from './provider';
import type { CreateOrderInput, OrderMirrorPatch } from './order-records';
import { signalProviderSyncWake } from '../deps/engine-deps';
import type { EngineDeps } from '../deps/engine-deps';
import { activityLogger } from './activity-logger';
import { orderWorkflowId } from '../workflows/order-contract';
import type { OrderInput, ProviderUpdate } from '../workflows/order-contract';
import { REJECT_MESSAGES } from '../workflows/order-messages';
import { isZeroMoney } from '../domain/money';
import { PG_CHECK_VIOLATION, dbErrorInfo } from '../db/errors';
import { providerAddFields } from '../domain/order-types';
import type { ServiceType } from '../domain/service-types';
import { Prisma } from '../generated/prisma/client';

/** What placement's first step decided. */
export type ReserveAndDebitResult =
  | { accepted: true; /** epoch ms of the debit */ paidAt: number; replayed: boolean }
  | {
      accepted: false;
      code: 'insufficient_funds' | 'link_busy' | 'user_blocked';
      message: string;
      holderOrderId?: number;
    };

/** The provider's answer to `add`, as recorded in orders.last_provider_answer. */
export interface AddAnswer {
  action: 'add';
  attempt: number;
  kind: AddOrderResult['kind'];
  providerOrderId?: string;
  code?: string;
  reason?: string;
  /** Epoch ms (activity clock). */
  at: number;
}

export type DispatchResult =
  | { kind: 'placed'; providerOrderId: string; answer: AddAnswer | null; replayed: boolean }
  | { kind: 'refused'; reason: string; code: string; answer: AddAnswer }
  | { kind: 'uncertain'; reason: string; answer: AddAnswer | null }
  /**
   * The order is no longer waiting for a dispatch: nothing was sent. `status` is the row's final
   * status, or 'abandoned' when the workflow closed the fence (abandonDispatch) and has not ended yet.
   */
  | { kind: 'abandoned'; status: string };

export type AbandonResult =
  | { kind: 'abandoned' }
  | { kind: 'placed'; providerOrderId: string }
  /**
   * An attempt is (or was) mid-call: the provider may have the order. `attemptAnswered` is false
   * while the attempt that sent `add` has recorded nothing (it may still be waiting for the answer),
   * true once it recorded that the answer was lost.
   */
  | { kind: 'uncertain'; attemptAnswered: boolean };

export type FindUpstreamResult =
  | { kind: 'found'; providerOrderId: string }
  | { kind: 'none' }
  | { kind: 'unsupported' }
  | { kind: 'ambiguous'; candidates: string[] };

/** What switchService found: moved, or an upstream order it must not leave behind. */
export type SwitchResult =
  | { kind: 'switched' }
  /** A dispatch to the old service landed meanwhile: that upstream order must be stopped first. */
  | { kind: 'placed'; providerOrderId: string }
  /** An `add` to the old service may be in flight: resolve the dispatch first. */
  | { kind: 'uncertain' };

export interface SwitchServiceInput {
  serviceId: number;
  providerId: number;
  /** Units the new provider gets (the part still undelivered). */
  quantity: number;
  /** The upstream order being left (stopped by now), or null when none was placed. */
  fromProviderOrderId: string | null;
}

export type AttachResult = { attached: true } | { attached: false; reason: string };

/**
 * What `add` sends beyond the row's service, link and quantity (issue 12): a drip-feed passed to its
 * provider sends the quantity per run with `runs` and `interval`.
 */
export interface DispatchAdd {
  quantity?: number;
  fields?: Record<string, string | number>;
}

export type ProviderCancelResult = { accepted: true } | { accepted: false; error: string };

export interface RefundInput {
  orderId: number;
  amount: string;
  rule: string;
  reason?: string;
  /**
   * A refund of one part of the order (a drip-feed's run, its runs never sent): its own ledger key
   * `order-<id>:refund:<part>`, so each part is refunded exactly once. Absent: the order's one refund.
   */
  part?: string;
}

export interface RefundPosted {
  amount: string;
  idempotencyKey: string;
  entryId: string;
  /** Epoch ms of the ledger entry. */
  at: number;
  replayed: boolean;
}

/** A mirror patch as it crosses Temporal (JSON): times as epoch ms. */
export type MirrorPatch = Omit<OrderMirrorPatch, 'startedAt' | 'finishedAt'> & {
  startedAt?: number | null;
  finishedAt?: number | null;
};

/** Failure types the workflow's retry policies name. */
export const ORDER_FAILURES = {
  /** The provider did not take the order for a temporary reason: retry with backoff. */
  retryLater: 'ProviderRetryLater',
  /** No usable answer to a cancel request: retry. */
  cancelUnanswered: 'ProviderCancelUnanswered',
  /** The order's row is missing or inconsistent: a bug, never retried into success. */
  orderMissing: 'OrderMissing',
} as const;

import { SUBSCRIPTION_UPSTREAM_STATUSES } from '../domain/subscription';

const UPSTREAM_STATUSES: ReadonlyArray<ProviderUpdate['status']> = ['pending', 'in_progress', 'completed', 'partial', 'canceled'];

/** The order's row as placement inserts it: the order input's snapshot (R-PRICE-SNAPSHOT). */
export function orderRowOf(input: OrderInput, workflowId: string): CreateOrderInput {
  return {
    id: input.orderId,
    workflowId,
    userId: input.userId,
    serviceId: input.serviceId,
    providerId: input.providerId,
    link: input.link,
    linkKey: input.linkKey,
    quantity: input.quantity,
    rate: input.rate,
    charge: input.charge,
    refillKind: input.guarantee.kind,
    refillDays: input.guarantee.kind === 'days' ? input.guarantee.days : null,
    cancelable: input.cancelable,
    idempotencyKey: input.idempotencyKey ?? null,
    requestHash: input.requestHash ?? null,
    type: {
      serviceType: input.serviceType ?? 'default',
      providerFields: input.providerFields ?? null,
      dripFeed: input.dripFeed ?? null,
      subscription: input.subscription ?? null,
      executeAt: input.executeAt !== undefined ? new Date(input.executeAt).toISOString() : null,
    },
  };
}

export const debitKey = (orderId: number) => `order-${orderId}:debit`;
export const refundKey = (orderId: number) => `order-${orderId}:refund`;

/** Wakes the provider's sync workflow so a newly placed order is polled soon. */
export async function wakeProviderSync(deps: EngineDeps, providerId: number): Promise<void> {
  if (deps.wakeProviderSync) return deps.wakeProviderSync(providerId);
  await signalProviderSyncWake(deps.temporal, providerId);
}

interface DispatchRow {
  status: string;
  dispatchState: string | null;
  dispatchAttempt: number;
  providerOrderId: string | null;
  providerId: number;
  link: string;
  quantity: number;
  providerServiceId: string;
  serviceId: number;
  /** Set after a move (R-SUBSTITUTE); `quantity` above is already this when set. */
  dispatchQuantity: number | null;
  /** Order types (issue 12): what the provider's `add` carries besides link and quantity. */
  serviceType: ServiceType;
  providerFields: Record<string, string> | null;
  dripFeed: OrderInput['dripFeed'] | null;
  /** Whether the attempt numbered dispatchAttempt recorded an answer to its `add` (a lost one included). */
  attemptAnswered: boolean;
}

/** The columns of a DispatchRow, from `orders o JOIN services s` (lockOrder, claimDispatch). */
const DISPATCH_ROW = Prisma.sql`
  o.status, o.dispatch_state AS "dispatchState", o.dispatch_attempt AS "dispatchAttempt",
  o.provider_order_id AS "providerOrderId", o.provider_id AS "providerId", o.link,
  COALESCE(o.dispatch_quantity, o.quantity) AS quantity,
  o.service_id AS "serviceId", o.dispatch_quantity AS "dispatchQuantity",
  s.provider_service_id AS "providerServiceId",
  o.service_type AS "serviceType", o.provider_fields AS "providerFields", o.drip_feed AS "dripFeed",
  COALESCE(o.last_provider_answer->>'action' = 'add' AND (o.last_provider_answer->>'attempt')::int = o.dispatch_attempt, false) AS "attemptAnswered"`;

/** claimDispatch's verdict on one attempt: send it, or why not. */
type DispatchVerdict = 'placed' | 'abandoned' | 'not_dispatchable' | 'sending' | 'send';

/** The row as locked (a claimed attempt's with its new attempt number), and whether to send. */
type DispatchClaim = { go: true; row: DispatchRow } | { go: false; row: DispatchRow; result: DispatchResult };

export function createOrderActivities(deps: EngineDeps) {
  const { prisma, ledger, orders, providers } = deps;

  async function lockOrder(tx: Parameters<Parameters<typeof prisma.$transaction>[0]>[0], orderId: number): Promise<DispatchRow> {
    const rows = await tx.$queryRaw<DispatchRow[]>`
      SELECT ${DISPATCH_ROW} FROM orders o JOIN services s ON s.id = o.service_id
       WHERE o.id = ${orderId}
         FOR UPDATE OF o`;
    if (rows.length === 0) {
      throw ApplicationFailure.nonRetryable(`order ${orderId} has no row`, ORDER_FAILURES.orderMissing);
    }
    return rows[0];
  }

  /**
   * The dispatch fence in one statement: locks the row, says whether this attempt may send (the
   * verdict, first reason first) and, when it may, marks it 'sending' with the next attempt number,
   * committed before the call. One round trip instead of a transaction of four, so the row's lock
   * is held only for the statement itself.
   */
  async function claimDispatch(orderId: number): Promise<DispatchClaim> {
    const rows = await prisma.$queryRaw<Array<DispatchRow & { verdict: DispatchVerdict }>>`
      WITH old AS (
        SELECT ${DISPATCH_ROW},
               CASE
                 WHEN o.provider_order_id IS NOT NULL THEN 'placed'
                 WHEN o.dispatch_state = 'abandoned' THEN 'abandoned'
                 -- In progress without a provider order: a drip-feed between its runs (a move sets pending).
                 WHEN NOT (o.status IN ('pending', 'dispatch_uncertain') OR (o.status = 'in_progress' AND o.dispatch_quantity IS NOT NULL)) THEN 'not_dispatchable'
                 WHEN o.dispatch_state = 'sending' THEN 'sending'
                 ELSE 'send'
               END AS verdict
          FROM orders o JOIN services s ON s.id = o.service_id
         WHERE o.id = ${orderId}
           FOR UPDATE OF o
      ), claimed AS (
        -- Reads old first (its lock), then writes only on its verdict.
        UPDATE orders SET dispatch_state = 'sending', dispatch_attempt = dispatch_attempt + 1
         WHERE id = ${orderId} AND (SELECT verdict FROM old) = 'send'
      )
      SELECT * FROM old`;
    if (rows.length === 0) {
      throw ApplicationFailure.nonRetryable(`order ${orderId} has no row`, ORDER_FAILURES.orderMissing);
    }
    const { verdict, ...row } = rows[0];
    switch (verdict) {
      case 'placed':
        return { go: false, row, result: { kind: 'placed', providerOrderId: row.providerOrderId!, answer: null, replayed: true } };
      case 'abandoned':
        return { go: false, row, result: { kind: 'abandoned', status: 'abandoned' } };
      case 'not_dispatchable':
        return { go: false, row, result: { kind: 'abandoned', status: row.status } };
      case 'sending':
        return { go: false, row, result: { kind: 'uncertain', reason: `an earlier attempt (${row.dispatchAttempt}) sent add and recorded no answer`, answer: null } };
      case 'send':
        return { go: true, row: { ...row, dispatchAttempt: row.dispatchAttempt + 1 } };
    }
  }

  async function recordAnswer(orderId: number, patch: { state: 'sending' | 'answered'; providerOrderId?: string; answer: AddAnswer }) {
    await prisma.order.update({
      where: { id: orderId },
      data: {
        dispatchState: patch.state,
        lastProviderAnswer: patch.answer as object,
        ...(patch.providerOrderId !== undefined ? { providerOrderId: patch.providerOrderId } : {}),
      },
    });
  }

  /**
   * Which of these upstream orders of a provider are already ours: another order's current one, a
   * run of an engine drip-feed (order_runs keeps every run's; the orders row only the one in flight),
   * or one a move left behind (moved_upstream_orders).
   */
  async function upstreamOrdersHeld(providerId: number, ids: string[], orderId: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const held = await prisma.$queryRaw<Array<{ id: string }>>`
      SELECT provider_order_id AS id FROM orders
       WHERE provider_id = ${providerId} AND provider_order_id = ANY(${ids}) AND id <> ${orderId}
      UNION
      SELECT r.provider_order_id FROM order_runs r JOIN orders o ON o.id = r.order_id
       WHERE o.provider_id = ${providerId} AND r.provider_order_id = ANY(${ids})
      UNION
      SELECT provider_order_id FROM moved_upstream_orders
       WHERE provider_id = ${providerId} AND provider_order_id = ANY(${ids})`;
    return new Set(held.map((h) => h.id));
  }

  return {
    /**
     * Placement's first step (R-ONE-ACTIVE-PER-LINK, R-BLOCKED, R-BALANCE): insert the order row with
     * its reserved id, then debit the charge once. A refused placement leaves no active row: a busy
     * link or a blocked user inserts nothing (or rejects the row a crashed attempt left), a refused
     * debit marks the row rejected, which frees the link.
     */
    async reserveAndDebit(input: OrderInput): Promise<ReserveAndDebitResult> {
      const log = activityLogger(deps);
      const orderId = input.orderId;
      const workflowId = orderWorkflowId(orderId);
      let row = await orders.getOrder(orderId);
      if (row && row.workflowId !== workflowId) {
        throw ApplicationFailure.nonRetryable(`order ${orderId} belongs to workflow ${row.workflowId}`, ORDER_FAILURES.orderMissing);
      }
      // A retry after the decision: answer what was decided.
      if (row && row.status === 'rejected') return refusalFromReason(row.rejectReason);
      if (row && row.status !== 'new') {
        const debit = await ledger.entryByKey(debitKey(orderId));
        return { accepted: true, paidAt: debit ? Date.parse(debit.createdAt) : Date.parse(row.createdAt), replayed: true };
      }

      const user = await prisma.user.findUnique({ where: { id: input.userId }, select: { status: true } });
      if (!user || user.status !== 'active') {
        // R-BLOCKED. A row left by a crashed attempt must not keep holding the link.
        if (row) await orders.updateOrderMirror(orderId, { status: 'rejected', rejectReason: REJECT_MESSAGES.userBlocked });
        log.info('placement refused: user blocked', { orderId, userId: input.userId });
        return { accepted: false, code: 'user_blocked', message: REJECT_MESSAGES.userBlocked };
      }

      if (!row) {
        const created = await orders.createOrder(orderRowOf(input, workflowId));
        if (!created.ok) {
          log.info('placement refused: link busy', { orderId, holderOrderId: created.holderOrderId });
          return {
            accepted: false,
            code: 'link_busy',
            message: REJECT_MESSAGES.linkBusy(created.holderOrderId),
            holderOrderId: created.holderOrderId,
          };
        }
        row = created.order;
      }

      // R-BALANCE: the database's CHECK decides; the key makes retries one debit.
      let paidAt = Date.now();
      if (!isZeroMoney(input.charge)) {
        const debit = await ledger.debitForOrder({
          orderId,
          userId: input.userId,
          amount: input.charge,
          idempotencyKey: debitKey(orderId),
        });
        if (!debit.ok) {
          await orders.updateOrderMirror(orderId, { status: 'rejected', rejectReason: REJECT_MESSAGES.insufficientFunds });
          log.info('placement refused: not enough funds', { orderId, charge: input.charge });
          return { accepted: false, code: 'insufficient_funds', message: REJECT_MESSAGES.insufficientFunds };
        }
        paidAt = Date.parse(debit.entry.createdAt);
        if (!debit.replayed) countMoney(moneyCharged, input.charge);
      }
      await orders.markPaid(orderId);
      log.info('order placed and paid', { orderId, charge: input.charge });
      return { accepted: true, paidAt, replayed: false };
    },

    /**
     * Sends the order to its provider once. See the file comment for the 'sending' fence.
     * retry_later throws a retryable failure: the workflow's retry policy waits with backoff.
     */
    async dispatchOrder(orderId: number, add?: DispatchAdd): Promise<DispatchResult> {
      const log = activityLogger(deps);
      const claim = await claimDispatch(orderId);
      if (!claim.go) {
        if (claim.result.kind === 'placed') await wakeProviderSync(deps, claim.row.providerId);
        log.info('dispatch: nothing sent', { orderId, result: claim.result.kind });
        return claim.result;
      }

      const { row } = claim;
      const { client } = await providers.get(row.providerId);
      // The type's fields go unchanged, in the provider's API v2 form (domain providerAddFields); a
      // drip-feed run that the engine sends gives its own quantity (and a provider feed runs/interval).
      const { link, quantity, ...extra } = providerAddFields(add?.quantity !== undefined ? { ...row, quantity: add.quantity } : row);
      const outcome = await client.addOrder({
        service: row.providerServiceId,
        ...(link !== undefined ? { link } : {}),
        ...(quantity !== undefined ? { quantity: Number(quantity) } : {}),
        extra: { ...extra, ...add?.fields },
      });
      const answer: AddAnswer = { action: 'add', attempt: row.dispatchAttempt, kind: outcome.kind, at: Date.now() };
      switch (outcome.kind) {
        case 'placed':
          answer.providerOrderId = outcome.providerOrderId;
          await recordAnswer(orderId, { state: 'answered', providerOrderId: outcome.providerOrderId, answer });
          log.info('dispatch: placed at the provider', { orderId, providerOrderId: outcome.providerOrderId });
          await wakeProviderSync(deps, row.providerId);
          return { kind: 'placed', providerOrderId: outcome.providerOrderId, answer, replayed: false };
        case 'refused':
          Object.assign(answer, { code: outcome.code, reason: outcome.reason });
          await recordAnswer(orderId, { state: 'answered', answer });
          log.info('dispatch: refused by the provider', { orderId, code: outcome.code, reason: outcome.reason });
          return { kind: 'refused', reason: outcome.reason, code: outcome.code, answer };
        case 'retry_later':
          Object.assign(answer, { code: outcome.code, reason: outcome.reason });
          await recordAnswer(orderId, { state: 'answered', answer });
          log.warn('dispatch: provider says try later', { orderId, code: outcome.code, reason: outcome.reason });
          throw ApplicationFailure.retryable(`provider did not take the order: ${outcome.reason}`, ORDER_FAILURES.retryLater, answer);
        case 'uncertain':
          // dispatch_state stays 'sending': nothing may send again until the order is reconciled.
          Object.assign(answer, { code: outcome.code, reason: outcome.reason });
          await prisma.order.update({ where: { id: orderId }, data: { lastProviderAnswer: answer as object } });
          log.warn('dispatch: outcome unknown', { orderId, code: outcome.code, reason: outcome.reason });
          return { kind: 'uncertain', reason: outcome.reason, answer };
      }
    },

    /**
     * The workflow stops dispatching (a cancel, or the retries ran out). Under the row lock: an order
     * the provider took stays placed; an attempt mid-call makes it uncertain; otherwise the fence is
     * closed ('abandoned'), so no later attempt can send it. The status is NOT written here: the
     * workflow ends the order and its finish() posts the refund before the final mirror, so the row
     * is never final without its money back (a lost workflow leaves it unsettled, for the recovery).
     */
    async abandonDispatch(orderId: number): Promise<AbandonResult> {
      return prisma.$transaction(async (tx) => {
        const row = await lockOrder(tx, orderId);
        if (row.providerOrderId !== null) return { kind: 'placed', providerOrderId: row.providerOrderId };
        if (row.dispatchState === 'sending') return { kind: 'uncertain', attemptAnswered: row.attemptAnswered };
        if (row.dispatchState !== 'abandoned') {
          await tx.order.update({ where: { id: orderId }, data: { dispatchState: 'abandoned' } });
        }
        return { kind: 'abandoned' };
      });
    },

    /**
     * Reconciles an uncertain dispatch with the provider's `orders_by_link`: upstream orders for the
     * link that none of ours holds (another order, any run of an engine drip-feed, this order's
     * earlier runs included, or one a move left) are candidates. One → attached; none → the add did
     * not land, the fence is reset for a new dispatch; several → support decides.
     */
    async findUpstreamOrder(orderId: number): Promise<FindUpstreamResult> {
      const log = activityLogger(deps);
      const row = await orders.getOrder(orderId);
      if (!row) throw ApplicationFailure.nonRetryable(`order ${orderId} has no row`, ORDER_FAILURES.orderMissing);
      if (row.providerOrderId) {
        // Attached by an earlier attempt (or by support): its wake may not have gone out.
        await wakeProviderSync(deps, row.providerId);
        return { kind: 'found', providerOrderId: row.providerOrderId };
      }
      const { provider, client } = await providers.get(row.providerId);
      if (!provider.supportsLinkLookup) return { kind: 'unsupported' };
      const upstream = await client.findOrdersByLink(row.link);
      if (upstream === null) return { kind: 'unsupported' };
      const ids = upstream.map((o) => o.providerOrderId);
      const takenIds = await upstreamOrdersHeld(row.providerId, ids, orderId);
      const candidates = ids.filter((id) => !takenIds.has(id));
      log.info('dispatch reconcile: orders_by_link', { orderId, upstream: ids, candidates });
      if (candidates.length > 1) return { kind: 'ambiguous', candidates };
      if (candidates.length === 0) {
        await prisma.order.updateMany({
          where: { id: orderId, providerOrderId: null, dispatchState: 'sending' },
          data: { dispatchState: null },
        });
        return { kind: 'none' };
      }
      const attached = await attach(orderId, candidates[0]!, { action: 'orders_by_link', at: Date.now() });
      if (!attached.attached) return { kind: 'ambiguous', candidates };
      await wakeProviderSync(deps, row.providerId);
      return { kind: 'found', providerOrderId: candidates[0]! };
    },

    /** Support's answer "the provider has it as <id>" (DispatchResolution attach). */
    async attachProviderOrder(orderId: number, providerOrderId: string, by: { userId: number }): Promise<AttachResult> {
      const result = await attach(orderId, providerOrderId, { action: 'attach', by: by.userId, at: Date.now() });
      if (result.attached) await wakeProviderSync(deps, (await orders.getOrder(orderId))!.providerId);
      return result;
    },

    /** Support's answer "the provider does not have it": the next dispatch may send again. */
    async resetDispatch(orderId: number): Promise<void> {
      await prisma.order.updateMany({ where: { id: orderId, providerOrderId: null }, data: { dispatchState: null } });
    },

    /**
     * R-SUBSTITUTE: the row goes to another service and provider with the quantity still owed; the
     * dispatch fence and the sync's bookkeeping start afresh, so the next dispatch sends to the new
     * provider and the old upstream order is no longer followed (moved_upstream_orders keeps it).
     */
    async switchService(orderId: number, input: SwitchServiceInput): Promise<SwitchResult> {
      const result = await prisma.$transaction(async (tx) => {
        const row = await lockOrder(tx, orderId);
        if (row.serviceId === input.serviceId && row.providerOrderId === null && row.dispatchQuantity === input.quantity) {
          return { kind: 'switched' as const }; // a retry of a switch that committed
        }
        if (row.providerOrderId !== null && row.providerOrderId !== input.fromProviderOrderId) {
          return { kind: 'placed' as const, providerOrderId: row.providerOrderId };
        }
        if (row.providerOrderId === null && row.dispatchState === 'sending') return { kind: 'uncertain' as const };
        if (row.providerOrderId !== null) {
          // The row forgets the old upstream order; this keeps it out of later reconciles on the link.
          await tx.movedUpstreamOrder.createMany({
            data: [{ orderId, providerId: row.providerId, providerOrderId: row.providerOrderId }],
            skipDuplicates: true,
          });
        }
        await tx.order.update({
          where: { id: orderId },
          data: {
            serviceId: input.serviceId,
            providerId: input.providerId,
            dispatchQuantity: input.quantity,
            providerOrderId: null,
            dispatchState: null,
            upstreamStatus: null,
            upstreamStartCount: null,
            upstreamRemains: null,
            lastCheckedAt: null,
          },
        });
        return { kind: 'switched' as const };
      });
      activityLogger(deps).info('order moved to another service', { orderId, ...input, result: result.kind });
      return result;
    },

    /** Asks the provider to cancel (an acknowledgement only; the end comes through the sync). */
    async cancelAtProvider(orderId: number): Promise<ProviderCancelResult> {
      const log = activityLogger(deps);
      const row = await orders.getOrder(orderId);
      if (!row?.providerOrderId) return { accepted: false, error: 'the order is not at the provider' };
      const { client } = await providers.get(row.providerId);
      const answers = await client.cancelOrders([row.providerOrderId]);
      const answer = answers.get(row.providerOrderId) ?? { accepted: false as const, error: 'no answer for this order', uncertain: true };
      if (!answer.accepted && answer.uncertain) {
        throw ApplicationFailure.retryable(`cancel unanswered: ${answer.error}`, ORDER_FAILURES.cancelUnanswered);
      }
      log.info('cancel at provider', { orderId, providerOrderId: row.providerOrderId, answer });
      return answer.accepted ? { accepted: true } : { accepted: false, error: answer.error };
    },

    /** The order's one refund (R-PARTIAL, R-CANCEL-FULL): key order-<id>:refund, replayed on retry. */
    async refundOrder(input: RefundInput): Promise<RefundPosted> {
      const key = input.part ? `${refundKey(input.orderId)}:${input.part}` : refundKey(input.orderId);
      try {
        const posted = await ledger.refundOrder({
          orderId: input.orderId,
          amount: input.amount,
          idempotencyKey: key,
          reason: input.reason ? `${input.rule}: ${input.reason}` : input.rule,
        });
        activityLogger(deps).info('refund posted', { orderId: input.orderId, amount: input.amount, rule: input.rule, replayed: posted.replayed });
        if (!posted.replayed) countMoney(moneyRefunded, posted.entry.amount, { rule: input.rule });
        return { amount: posted.entry.amount, idempotencyKey: key, entryId: posted.entry.id, at: Date.parse(posted.entry.createdAt), replayed: posted.replayed };
      } catch (error) {
        // A conflicting key or a refund above the charge is a bug: retrying cannot fix it.
        const name = (error as Error).name;
        if (name === 'LedgerConflictError' || name === 'RefundExceedsChargeError' || name === 'LedgerReferenceError') {
          throw ApplicationFailure.nonRetryable((error as Error).message, name);
        }
        throw error;
      }
    },

    /**
     * What the provider sync last told this order (orders.upstream_*, written after its signal was
     * accepted), as a ProviderUpdate: a continued run applies it so a signal that crossed the
     * continue-as-new is not lost (a repeat is a no-op). Null when the sync has said nothing.
     */
    async upstreamState(orderId: number): Promise<ProviderUpdate | null> {
      const row = await prisma.order.findUnique({
        where: { id: orderId },
        select: { upstreamStatus: true, upstreamStartCount: true, upstreamRemains: true, upstreamDelivered: true, lastCheckedAt: true, providerId: true, providerOrderId: true, subscription: true },
      });
      const status = row?.upstreamStatus;
      if (row && status && row.subscription !== null) return subscriptionUpstreamState(row, status);
      if (!row || !status || !UPSTREAM_STATUSES.includes(status as ProviderUpdate['status'])) return null;
      return {
        status: status as ProviderUpdate['status'],
        providerId: row.providerId,
        ...(row.providerOrderId !== null ? { providerOrderId: row.providerOrderId } : {}),
        startCount: row.upstreamStartCount,
        remains: row.upstreamRemains,
        observedAt: (row.lastCheckedAt ?? new Date()).getTime(),
      };
    },

    /** Mirrors the workflow's state into the orders row (run as a local activity). */
    async mirrorOrder(orderId: number, patch: MirrorPatch): Promise<{ applied: boolean }> {
      const { startedAt, finishedAt, ...rest } = patch;
      const full: OrderMirrorPatch = { ...rest };
      if (startedAt !== undefined) full.startedAt = startedAt === null ? null : new Date(startedAt);
      if (finishedAt !== undefined) full.finishedAt = finishedAt === null ? null : new Date(finishedAt);
      let result;
      try {
        result = await orders.updateOrderMirror(orderId, full);
      } catch (error) {
        // A CHECK the values break (or a field the mirror refuses) will not pass on a retry.
        const info = dbErrorInfo(error);
        if (info?.code === PG_CHECK_VIOLATION || error instanceof TypeError || error instanceof RangeError) {
          throw ApplicationFailure.nonRetryable(`mirror of order ${orderId} refused: ${(error as Error).message}`, 'MirrorRefused');
        }
        throw error;
      }
      if (!result.applied) activityLogger(deps).warn('mirror ignored a stale status', { orderId, patch, row: result.order.status });
      else if (result.statusChanged && result.order.status === 'dispatch_uncertain') {
        // Once per order (the row's status changes once, under its lock; a retried mirror finds it
        // already uncertain): when the provider cannot be searched, only support can settle it.
        const { providerId, link } = result.order;
        activityLogger(deps).warn('dispatch uncertain: the provider may or may not have this order; support settles it with POST /support/orders/:id/resolve-dispatch (attach, redispatch or cancel)', { orderId, providerId, link });
      }
      return { applied: result.applied };
    },
  };

  /** Writes the provider order id unless another of our orders holds it. */
  async function attach(orderId: number, providerOrderId: string, answer: object): Promise<AttachResult> {
    return prisma.$transaction(async (tx) => {
      const row = await lockOrder(tx, orderId);
      if (row.providerOrderId !== null) {
        return row.providerOrderId === providerOrderId
          ? { attached: true as const }
          : { attached: false as const, reason: `order already has provider order ${row.providerOrderId}` };
      }
      const holder = await tx.order.findFirst({
        where: { providerId: row.providerId, providerOrderId, id: { not: orderId } },
        select: { id: true },
      });
      if (holder) return { attached: false as const, reason: `provider order ${providerOrderId} belongs to order ${holder.id}` };
      await tx.order.update({
        where: { id: orderId },
        data: { providerOrderId, dispatchState: 'answered', lastProviderAnswer: { ...answer, providerOrderId } },
      });
      return { attached: true as const };
    });
  }
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;

/** Placement answers replayed from a rejected row (the reason text is what the workflow wrote). */
function refusalFromReason(reason: string | null): ReserveAndDebitResult {
  if (reason === REJECT_MESSAGES.userBlocked) return { accepted: false, code: 'user_blocked', message: reason };
  return { accepted: false, code: 'insufficient_funds', message: reason ?? REJECT_MESSAGES.insufficientFunds };
}

/**
 * A subscription's last answer (the sync keeps its own status, its posts served and what each got):
 * a continued run catches up with all of it, so a post whose signal it missed is refunded exactly.
 */
/** The row's upstream_delivered as the workflow reads it (anything else: nothing said). */
function deliveredList(value: unknown): Array<number | null> {
  if (!Array.isArray(value)) return [];
  return value.map((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null));
}

function subscriptionUpstreamState(
  row: { upstreamRemains: number | null; upstreamDelivered: unknown; lastCheckedAt: Date | null; providerId: number; providerOrderId: string | null },
  status: string,
): ProviderUpdate | null {
  const own = SUBSCRIPTION_UPSTREAM_STATUSES.find((s) => s === status);
  if (!own) return null;
  const asOrder = own === 'active' || own === 'paused' ? 'in_progress' : own === 'expired' ? 'completed' : own;
  return {
    status: asOrder,
    providerId: row.providerId,
    ...(row.providerOrderId !== null ? { providerOrderId: row.providerOrderId } : {}),
    startCount: null,
    remains: null,
    observedAt: (row.lastCheckedAt ?? new Date()).getTime(),
    // What each post got, as the sync last heard it: exact R-SUBSCRIPTION-UNSERVED for a run that
    // missed the signal (a post it does not know about would count as served at max).
    subscription: { status: own, posts: row.upstreamRemains ?? 0, delivered: deliveredList(row.upstreamDelivered) },
  };
}
