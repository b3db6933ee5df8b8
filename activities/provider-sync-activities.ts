/**
 * The provider sync's activity: one polling round for one provider ("Follow" in the order lifecycle).
 *
 * A round:
 *  1. selects the provider's orders to follow (status pending or in_progress, cancel-requested ones
 *     included, with a provider order id, whose provider has not already reported a final status),
 *     least recently checked first (never-checked first), at most maxOrders: every order gets its
 *     turn, however many there are (existing panels poll the newest 100 and starve the oldest);
 *  2. asks the provider in multi-status calls of at most 100 ids (one HTTP call per 100 orders);
 *  3. compares each answer with what the provider said last time (upstream_status,
 *     upstream_start_count; for a never-checked order, with the order's own status) and signals the
 *     order's workflow (`order-<id>`, ORDER_MESSAGES.providerUpdate) only when the status changed or
 *     the start count appeared; remains progress alone is written to upstream_remains without a
 *     signal, so an order's history does not grow with its delivery time;
 *  4. writes upstream_* and last_checked_at of every order asked, after its signal was accepted.
 *
 * Refills (issue "Refill guarantees") in the same round, after the orders: the provider's refills in
 * flight (refills.status pending/in_progress with a provider refill id, whose provider has not already
 * said Completed/Rejected), least recently checked first, at most maxOrders, asked in `refill_status`
 * multi calls of at most 100 ids; the order's workflow gets a `refillUpdate` signal only when the
 * refill's status differs from what the provider said last (upstream_status, else the row's own
 * status); then upstream_status and last_checked_at are written, as for orders.
 *
 * Failures: an error about one id ("Incorrect order ID", an unrecognised status) is logged and
 * counted, and the order goes to the back of the queue (last_checked_at) without touching upstream_*.
 * A call without a usable answer (timeout, 5xx, not JSON) or refused as a whole (bad key) throws, so
 * Temporal retries the activity. Batches already done stay done: the retry polls the orders not yet
 * checked first, and re-signals only what still differs from the stored upstream state (a signal is
 * sent before the row is written, so a crash between the two repeats a signal, never loses one; the
 * order workflow treats a repeated ProviderUpdate as no change).
 */
import { syncBatchSize, syncChanges, syncRoundSeconds } from '../observability/metrics';
import type { Context } from '@temporalio/activity';
import { activityContext } from './activity-context';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client';
import { ORDER_MESSAGES, orderWorkflowId } from '../workflows/order-contract';
import type { ProviderUpdate, RefillUpdate } from '../workflows/order-contract';
import { MAX_IDS_PER_CALL, isIdError } from './provider';
import type { OrderStatusInfo, ProviderClient, ProviderOrderStatus, ProviderRefillStatus } from './provider';
import { UnknownProviderError } from './provider-directory';
import type { ProviderDirectory } from './provider-directory';

/** The logger shape the round logs through: Temporal's activity Context logger satisfies it. */
export interface SyncLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** pino's shape (meta first), as EngineDeps.logger carries it; used outside a Temporal activity. */
export interface PinoLikeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ProviderSyncDeps {
  prisma: PrismaClient;
  providers: ProviderDirectory;
  temporal: Client;
  /** pino; used when the activity runs outside Temporal (bench, scripts). Inside, the activity Context logger is used. */
  logger?: PinoLikeLogger;
  /** Signals in flight at once per round (default 16). */
  signalConcurrency?: number;
}

export interface PollProviderRoundInput {
  providerId: number;
  /** Orders asked about in this round, at most (default 1000). */
  maxOrders?: number;
}

export interface PollProviderRoundResult {
  providerId: number;
  /** Orders asked about. */
  checked: number;
  /** Orders whose status changed or whose start count first appeared. */
  changed: number;
  /** providerUpdate signals accepted by Temporal. */
  signaled: number;
  /** Per-order errors: the provider's error for one id, or an order workflow that does not exist. */
  errors: number;
  /** Status calls made to the provider. */
  providerCalls: number;
  /** Orders asked about for the first time. */
  firstChecks: number;
  /** Orders to follow after this round (the ones the next round chooses from). */
  activeRemaining: number;
  /** Refills in flight asked about (refill_status). */
  refillsChecked: number;
  /** Refills whose status changed: refillUpdate signals accepted (the rest are counted in errors). */
  refillsChanged: number;
  refillsSignaled: number;
  /** refill_status calls made to the provider. */
  refillCalls: number;
  /** Refills still in flight after this round. */
  refillsRemaining: number;
  durationMs: number;
}

/** Order statuses the sync follows. cancel-requested orders keep one of these until the provider ends them. */
export const FOLLOWED_ORDER_STATUSES = ['pending', 'in_progress'] as const;
/** Provider statuses after which there is nothing left to follow (the order's workflow has been told). */
export const FINAL_UPSTREAM_STATUSES: readonly ProviderOrderStatus[] = ['completed', 'partial', 'canceled'];
export const DEFAULT_MAX_ORDERS_PER_ROUND = 1000;
/** Error type of the non-retryable failure for a provider that does not exist (the sync ends). */
export const UNKNOWN_PROVIDER_FAILURE = 'UnknownProvider';
/** Error type of a status call answered with an error for the whole request (e.g. a bad key). */
export const PROVIDER_REQUEST_FAILURE = 'ProviderRequestRefused';

interface FollowedRow {
  id: number;
  providerOrderId: string;
  status: string;
  upstreamStatus: string | null;
  upstreamStartCount: number | null;
  upstreamRemains: number | null;
  lastCheckedAt: Date | null;
}

interface FollowedRefill {
  id: number;
  orderId: number;
  providerRefillId: string;
  status: string;
  upstreamStatus: string | null;
}

/** Refill statuses after which the provider has nothing more to say. */
export const FINAL_UPSTREAM_REFILL_STATUSES: readonly ProviderRefillStatus[] = ['completed', 'rejected'];

interface Answered {
  row: FollowedRow;
  info: OrderStatusInfo;
  /** Status changed, or the start count appeared: the order's workflow must be told. */
  signal: boolean;
}

/** What a round compares an answer with: the provider's last answer, else the order's own status. */
export function previousUpstream(row: Pick<FollowedRow, 'status' | 'upstreamStatus' | 'upstreamStartCount'>): {
  status: string;
  startCount: number | null;
} {
  return { status: row.upstreamStatus ?? row.status, startCount: row.upstreamStartCount };
}

/** Whether an answer must be signalled: the status moved, or the start count is known for the first time. */
export function needsSignal(
  row: Pick<FollowedRow, 'status' | 'upstreamStatus' | 'upstreamStartCount'> & { upstreamRemains?: number | null },
  info: Pick<OrderStatusInfo, 'status' | 'startCount' | 'subscription'>,
): boolean {
  const before = previousUpstream(row);
  // A subscription (issue 12): its own status, and each post served (kept in upstream_remains), are
  // news; its per-post counts between two posts are not (one signal per post keeps the history small).
  if (info.subscription) return info.subscription.status !== before.status || info.subscription.posts !== (row.upstreamRemains ?? 0);
  if (info.status !== before.status) return true;
  return before.startCount === null && info.startCount !== null;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function inPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const SILENT: SyncLogger = { info() {}, warn() {} };

/** The activity Context's logger inside Temporal; deps.logger (pino: meta first) outside; else silent. */
function roundLogger(ctx: Context | null, pino: PinoLikeLogger | undefined): SyncLogger {
  if (ctx) return ctx.log;
  if (!pino) return SILENT;
  return {
    info: (message, meta) => pino.info(meta ?? {}, message),
    warn: (message, meta) => pino.warn(meta ?? {}, message),
  };
}

export function createProviderSyncActivities(deps: ProviderSyncDeps) {
  const { prisma } = deps;
  const signalConcurrency = Math.max(1, deps.signalConcurrency ?? 16);

  const selectFollowed = (providerId: number, limit: number) => prisma.$queryRaw<FollowedRow[]>`
    SELECT id,
           provider_order_id    AS "providerOrderId",
           status,
           upstream_status      AS "upstreamStatus",
           upstream_start_count AS "upstreamStartCount",
           upstream_remains     AS "upstreamRemains",
           last_checked_at      AS "lastCheckedAt"
      FROM orders
     WHERE provider_id = ${providerId}
       AND status IN ('pending', 'in_progress')
       AND provider_order_id IS NOT NULL
       AND (upstream_status IS NULL OR upstream_status NOT IN ('completed', 'partial', 'canceled', 'expired'))
     ORDER BY last_checked_at ASC NULLS FIRST, id ASC
     LIMIT ${limit}`;

  const countFollowed = async (providerId: number): Promise<number> => {
    const rows = await prisma.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n
        FROM orders
       WHERE provider_id = ${providerId}
         AND status IN ('pending', 'in_progress')
         AND provider_order_id IS NOT NULL
         AND (upstream_status IS NULL OR upstream_status NOT IN ('completed', 'partial', 'canceled', 'expired'))`;
    return rows[0]?.n ?? 0;
  };

  const selectRefills = (providerId: number, limit: number) => prisma.$queryRaw<FollowedRefill[]>`
    SELECT r.id, r.order_id AS "orderId", r.provider_refill_id AS "providerRefillId", r.status,
           r.upstream_status AS "upstreamStatus"
      FROM refills r JOIN orders o ON o.id = r.order_id
     WHERE o.provider_id = ${providerId}
       AND r.status IN ('pending', 'in_progress')
       AND r.provider_refill_id IS NOT NULL
       AND (r.upstream_status IS NULL OR r.upstream_status NOT IN ('completed', 'rejected'))
     ORDER BY r.last_checked_at ASC NULLS FIRST, r.id ASC
     LIMIT ${limit}`;

  const countRefills = async (providerId: number): Promise<number> => {
    const rows = await prisma.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n
        FROM refills r JOIN orders o ON o.id = r.order_id
       WHERE o.provider_id = ${providerId}
         AND r.status IN ('pending', 'in_progress')
         AND r.provider_refill_id IS NOT NULL
         AND (r.upstream_status IS NULL OR r.upstream_status NOT IN ('completed', 'rejected'))`;
    return rows[0]?.n ?? 0;
  };

  /**
   * One pass over the provider's refills in flight: refill_status in calls of at most 100 ids, a
   * refillUpdate signal to the order's workflow only on a change, then the rows (see the file comment).
   */
  async function pollRefills(
    providerId: number,
    client: ProviderClient,
    limit: number,
    result: PollProviderRoundResult,
    log: SyncLogger,
    heartbeat: (details?: unknown) => void,
  ): Promise<void> {
    const rows = await selectRefills(providerId, limit);
    const byProviderId = groupBy(rows, (row) => row.providerRefillId.trim());
    for (const batch of chunks([...byProviderId.keys()], MAX_IDS_PER_CALL)) {
      const answers = await client.refillStatuses(batch);
      result.refillCalls += 1;
      const checkedAt = new Date();
      const answered: Array<{ row: FollowedRefill; status: ProviderRefillStatus; raw: unknown; signal: boolean }> = [];
      const failedIds: number[] = [];
      const requestErrors: string[] = [];
      for (const providerRefillId of batch) {
        const answer = answers.get(providerRefillId);
        for (const row of byProviderId.get(providerRefillId)!) {
          result.refillsChecked += 1;
          if (!answer || isIdError(answer)) {
            const error = answer ? answer.error : 'no answer for this id';
            if (answer?.scope === 'request') requestErrors.push(error);
            else {
              result.errors += 1;
              failedIds.push(row.id);
              log.warn('provider sync: provider answered an error for one refill', { providerId, refillId: row.id, orderId: row.orderId, providerRefillId, error });
            }
            continue;
          }
          const signal = answer.status !== (row.upstreamStatus ?? row.status);
          if (signal) result.refillsChanged += 1;
          answered.push({ row, status: answer.status, raw: answer.raw, signal });
        }
      }
      if (requestErrors.length > 0) {
        throw ApplicationFailure.create({
          type: PROVIDER_REQUEST_FAILURE,
          message: `provider ${providerId} refused the refill_status call: ${requestErrors[0]}`,
        });
      }
      const notFound = new Set<number>();
      await inPool(
        answered.filter((a) => a.signal),
        signalConcurrency,
        async ({ row, status, raw }) => {
          const update: RefillUpdate = { refillId: row.id, providerRefillId: row.providerRefillId, status, raw, observedAt: checkedAt.getTime() };
          try {
            await deps.temporal.workflow.getHandle(orderWorkflowId(row.orderId)).signal(ORDER_MESSAGES.refillUpdate, update);
            result.refillsSignaled += 1;
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
            notFound.add(row.id);
            result.errors += 1;
            log.warn('provider sync: order workflow not found for a refill; update kept for the next round', {
              providerId,
              refillId: row.id,
              orderId: row.orderId,
              status,
            });
          }
        },
      );
      const written = answered.filter((a) => !notFound.has(a.row.id)).map((a) => ({ id: a.row.id, status: a.status }));
      if (written.length > 0) {
        await prisma.$executeRaw`
          UPDATE refills AS r
             SET upstream_status = u.status, last_checked_at = ${checkedAt}
            FROM jsonb_to_recordset(${JSON.stringify(written)}::jsonb) AS u(id int, status text)
           WHERE r.id = u.id`;
      }
      const checkedOnly = [...failedIds, ...notFound];
      if (checkedOnly.length > 0) {
        await prisma.$executeRaw`
          UPDATE refills SET last_checked_at = ${checkedAt}
           WHERE id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(checkedOnly)}::jsonb))::int)`;
      }
      heartbeat({ checked: result.checked, refillsChecked: result.refillsChecked });
    }
    result.refillsRemaining = await countRefills(providerId);
  }

  /**
   * upstream_* and last_checked_at for the answered orders, one statement per batch. The start count
   * stays the first one the provider gave (R-COUNTERS: the engine records it when the order starts).
   */
  const writeAnswered = async (answered: Answered[], checkedAt: Date) => {
    if (answered.length === 0) return;
    const rows = answered.map(({ row, info }) => ({
      id: row.id,
      provider_order_id: row.providerOrderId,
      // A subscription keeps its own status and its posts served (what needsSignal compares).
      status: info.subscription?.status ?? info.status,
      start_count: info.startCount,
      remains: info.subscription ? info.subscription.posts : info.remains,
      // A subscription's per-post detail: a run that continues as new catches up from it (upstreamState).
      delivered: info.subscription ? info.subscription.delivered : null,
    }));
    // Only while the row still holds the upstream order asked about: an order moved to another
    // provider meanwhile (R-SUBSTITUTE) starts its bookkeeping afresh and must not inherit this.
    await prisma.$executeRaw`
      UPDATE orders AS o
         SET upstream_status      = u.status,
             upstream_start_count = COALESCE(o.upstream_start_count, u.start_count),
             upstream_remains     = u.remains,
             upstream_delivered   = u.delivered,
             last_checked_at      = ${checkedAt}
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS u(id int, provider_order_id text, status text, start_count int, remains int, delivered jsonb)
       WHERE o.id = u.id AND o.provider_order_id = u.provider_order_id`;
  };

  /** Orders the provider answered with an error: to the back of the queue, upstream state untouched. */
  const writeCheckedOnly = async (ids: number[], checkedAt: Date) => {
    if (ids.length === 0) return;
    await prisma.$executeRaw`
      UPDATE orders SET last_checked_at = ${checkedAt}
       WHERE id IN (SELECT (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::int)`;
  };

  return {
    /** One polling round for one provider; see the file's comment. Idempotent: safe to retry. */
    async pollProviderRound(input: PollProviderRoundInput): Promise<PollProviderRoundResult> {
      const started = Date.now();
      const ctx = activityContext();
      const log = roundLogger(ctx, deps.logger);
      const heartbeat = (details?: unknown) => ctx?.heartbeat(details);
      const { providerId } = input;
      const maxOrders = Math.max(1, Math.floor(input.maxOrders ?? DEFAULT_MAX_ORDERS_PER_ROUND));

      let client;
      try {
        ({ client } = await deps.providers.get(providerId));
      } catch (err) {
        if (err instanceof UnknownProviderError) {
          throw ApplicationFailure.create({ type: UNKNOWN_PROVIDER_FAILURE, message: err.message, nonRetryable: true });
        }
        throw err;
      }

      const rows = await selectFollowed(providerId, maxOrders);
      const result: PollProviderRoundResult = {
        providerId,
        checked: 0,
        changed: 0,
        signaled: 0,
        errors: 0,
        providerCalls: 0,
        firstChecks: 0,
        activeRemaining: 0,
        refillsChecked: 0,
        refillsChanged: 0,
        refillsSignaled: 0,
        refillCalls: 0,
        refillsRemaining: 0,
        durationMs: 0,
      };

      // One provider order id may (by mistake upstream) belong to two rows: ask once, apply to both.
      const byProviderId = groupBy(rows, (row) => row.providerOrderId.trim());

      for (const batch of chunks([...byProviderId.keys()], MAX_IDS_PER_CALL)) {
        // A throw here (no usable answer) fails the attempt; batches done so far stay written.
        const answers = await client.getStatuses(batch);
        result.providerCalls += 1;
        const checkedAt = new Date();

        const answered: Answered[] = [];
        const failedIds: number[] = [];
        const requestErrors: string[] = [];
        for (const providerOrderId of batch) {
          const answer = answers.get(providerOrderId);
          for (const row of byProviderId.get(providerOrderId)!) {
            result.checked += 1;
            if (row.lastCheckedAt === null) result.firstChecks += 1;
            if (!answer || isIdError(answer)) {
              const error = answer ? answer.error : 'no answer for this id';
              if (answer?.scope === 'request') requestErrors.push(error);
              else {
                result.errors += 1;
                failedIds.push(row.id);
                log.warn('provider sync: provider answered an error for one order', {
                  providerId,
                  orderId: row.id,
                  providerOrderId,
                  error,
                });
              }
              continue;
            }
            const signal = needsSignal(row, answer);
            if (signal) result.changed += 1;
            answered.push({ row, info: answer, signal });
          }
        }
        if (requestErrors.length > 0) {
          // The whole call was refused (bad key, blocked account...): nothing was learnt about these
          // orders; fail the attempt so it is retried and seen, rather than marking them checked.
          throw ApplicationFailure.create({
            type: PROVIDER_REQUEST_FAILURE,
            message: `provider ${providerId} refused the status call: ${requestErrors[0]}`,
          });
        }

        // Signals first, then the rows: a crash in between repeats a signal, never loses one.
        const notFound = new Set<number>();
        await inPool(
          answered.filter((a) => a.signal),
          signalConcurrency,
          async ({ row, info }) => {
            const update: ProviderUpdate = {
              status: info.status,
              providerId,
              providerOrderId: row.providerOrderId,
              startCount: info.startCount,
              remains: info.remains,
              raw: info.raw,
              observedAt: checkedAt.getTime(),
              ...(info.subscription ? { subscription: info.subscription } : {}),
            };
            try {
              await deps.temporal.workflow.getHandle(orderWorkflowId(row.id)).signal(ORDER_MESSAGES.providerUpdate, update);
              result.signaled += 1;
            } catch (err) {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
              // No running workflow for an order the table calls active: support's business, not a
              // reason to stop the round. Its upstream state stays unwritten, so it is signalled again
              // once a workflow exists.
              notFound.add(row.id);
              result.errors += 1;
              log.warn('provider sync: order workflow not found; update kept for the next round', {
                providerId,
                orderId: row.id,
                workflowId: orderWorkflowId(row.id),
                status: info.status,
              });
            }
          },
        );

        await writeAnswered(answered.filter((a) => !notFound.has(a.row.id)), checkedAt);
        await writeCheckedOnly([...failedIds, ...notFound], checkedAt);
        heartbeat({ checked: result.checked });
      }

      result.activeRemaining = await countFollowed(providerId);
      await pollRefills(providerId, client, maxOrders, result, log, heartbeat);
      result.durationMs = Date.now() - started;
      syncRoundSeconds.observe({ provider: String(providerId) }, result.durationMs / 1000);
      syncBatchSize.observe({ provider: String(providerId) }, result.checked);
      syncChanges.inc({ provider: String(providerId) }, result.changed);
      log.info('provider sync round', {
        providerId,
        checked: result.checked,
        changed: result.changed,
        signaled: result.signaled,
        errors: result.errors,
        providerCalls: result.providerCalls,
        firstChecks: result.firstChecks,
        activeRemaining: result.activeRemaining,
        refillsChecked: result.refillsChecked,
        refillsChanged: result.refillsChanged,
        refillCalls: result.refillCalls,
        refillsRemaining: result.refillsRemaining,
        durationMs: result.durationMs,
      });
      return result;
    },
  };
}

export type ProviderSyncActivities = ReturnType<typeof createProviderSyncActivities>;

/** Rows by the provider's id for them: one id may (by mistake upstream) belong to two rows. */
function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
