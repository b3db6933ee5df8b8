/**
 * The database side of a drip-feed the engine runs (workflows/order-drip-feed.ts). Each run is its own
 * provider order; the orders row points at the run in flight, so dispatchOrder sends it (dispatch
 * fence, `dispatch_quantity` = the run's quantity) and the provider sync follows it like any order.
 * order_runs keeps every run for REST, API v2 `status` and support.
 */
import type { EngineDeps } from '../deps/engine-deps';
import type { DripRun } from '../domain/drip-feed';
import { activityLogger } from './activity-logger';

export type BeginRunResult =
  /** The row now points at this run: dispatchOrder sends it. */
  | { kind: 'ready'; run: number; quantity: number }
  /** An earlier attempt of this step already sent the run (a retry after a crash): adopt its order. */
  | { kind: 'sent'; run: number; providerOrderId: string };

export function createDripFeedActivities(deps: EngineDeps) {
  const { prisma } = deps;
  return {
    /**
     * Run <index> begins: its order_runs row, and the orders row's dispatch fence and sync bookkeeping
     * reset for it. Idempotent: a run that already has a provider order is never reset (no run twice).
     */
    async beginDripRun(orderId: number, run: { index: number; quantity: number }): Promise<BeginRunResult> {
      return prisma.$transaction(async (tx) => {
        const existing = await tx.orderRun.findUnique({ where: { orderId_runIndex: { orderId, runIndex: run.index } } });
        if (existing?.providerOrderId) return { kind: 'sent' as const, run: run.index, providerOrderId: existing.providerOrderId };
        if (!existing) await tx.orderRun.create({ data: { orderId, runIndex: run.index, quantity: run.quantity } });
        const order = await tx.order.findUniqueOrThrow({ where: { id: orderId }, select: { providerOrderId: true, dispatchState: true, dispatchQuantity: true } });
        // Already pointing at this run (a retry): keep the fence as it is ('sending' means an add may have landed).
        if (order.providerOrderId === null && order.dispatchQuantity === run.quantity && existing) return { kind: 'ready' as const, run: run.index, quantity: run.quantity };
        await tx.order.update({
          where: { id: orderId },
          data: {
            providerOrderId: null,
            dispatchState: null,
            dispatchQuantity: run.quantity,
            upstreamStatus: null,
            upstreamStartCount: null,
            upstreamRemains: null,
            lastCheckedAt: null,
          },
        });
        activityLogger(deps).info('drip-feed run begins', { orderId, run: run.index, quantity: run.quantity });
        return { kind: 'ready' as const, run: run.index, quantity: run.quantity };
      });
    },

    /** The run's row follows the workflow's record of it (a read model, as the orders row is). */
    async mirrorDripRun(orderId: number, run: DripRun): Promise<void> {
      const data = {
        quantity: run.quantity,
        providerOrderId: run.providerOrderId,
        status: run.status,
        startCount: run.startCount,
        remains: run.remains,
        refunded: run.refund?.amount ?? '0',
        reason: run.reason,
        sentAt: run.sentAt === null ? null : new Date(run.sentAt),
        finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt),
      };
      await prisma.orderRun.upsert({
        where: { orderId_runIndex: { orderId, runIndex: run.index } },
        create: { orderId, runIndex: run.index, ...data },
        update: data,
      });
    },
  };
}

export type DripFeedActivities = ReturnType<typeof createDripFeedActivities>;
