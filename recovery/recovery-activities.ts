/**
 * The activity of the order recovery (issue 11, "Orders whose workflow is gone"): finds the orders
 * whose workflow `order-<id>` does not exist and gives each a new run from its row.
 *
 * Idempotent: an order is touched only when DescribeWorkflowExecution answers NotFound (a closed
 * workflow is not an orphan), and the new run is started with REJECT_DUPLICATE and no conflict
 * reuse, so a retried round, a second worker's round, or a placement racing it (its
 * update-with-start, USE_EXISTING) finds the workflow there and nothing happens twice. A placement
 * cannot be mistaken for an orphan: its row is inserted by its own workflow's first activity, so the
 * row never exists before the workflow does.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { EngineDeps } from '../deps/engine-deps';
import { activityLogger } from '../activities/activity-logger';
import { debitKey, refundKey, wakeProviderSync } from '../activities/order-activities';
import { formatMoney } from '../domain/money';
import { toRecord } from '../activities/order-records';
import type { OrderRecord } from '../activities/order-records';
import { isServiceType } from '../domain/service-types';
import { ORDER_TASK_QUEUE, orderWorkflowId } from '../workflows/order-contract';
import { orderSearchAttributes } from '../workflows/order-search-attributes';
import type { RefillRequester } from '../workflows/order-contract';
import { REJECT_UNPAID_MESSAGE, UNSETTLED_STATUSES, decideOrphan, refundRuleOf, resumeOf } from './resume-order';
import type { OrderTypeInput, OrphanRow } from './resume-order';

/** Rows read per query. */
const PAGE = 200;

export interface RecoveryRound {
  /** Candidate rows looked at (unsettled, or completed with a guarantee). */
  checked: number;
  /** Orders given a new run. */
  resumed: number[];
  /** `new` rows never paid, closed rejected. */
  rejected: number[];
  /** Orders whose workflow appeared between the describe and the start (someone else started it). */
  raced: number[];
  /** Orders whose progress only their workflow knew (engine drip-feeds, subscriptions): left for support. */
  held: number[];
  failed: Array<{ orderId: number; error: string }>;
}

export function createRecoveryActivities(deps: EngineDeps) {
  return {
    /** One round: every candidate row, oldest first. */
    async recoverOrphanedOrders(): Promise<RecoveryRound> {
      const log = activityLogger(deps);
      const round: RecoveryRound = { checked: 0, resumed: [], rejected: [], raced: [], held: [], failed: [] };
      const wake = new Set<number>();
      for (let cursor = 0; ; ) {
        const page = await candidateIds(deps, cursor);
        if (page.length === 0) break;
        for (const orderId of page) {
          round.checked++;
          heartbeat(orderId);
          // Temporal unreachable (anything but NotFound) ends the round: the activity is retried.
          if (await workflowExists(deps, orderId)) continue;
          try {
            await recoverOne(deps, orderId, round, wake);
          } catch (error) {
            const message = (error as Error).message ?? String(error);
            round.failed.push({ orderId, error: message });
            log.error('order recovery failed for this order (tried again next round)', { orderId, error: message });
          }
        }
        cursor = page[page.length - 1];
      }
      for (const providerId of wake) await wakeProviderSync(deps, providerId);
      if (round.resumed.length + round.rejected.length + round.held.length + round.failed.length > 0) {
        log.warn('order recovery round', { checked: round.checked, resumed: round.resumed, rejected: round.rejected, raced: round.raced, held: round.held, failed: round.failed.length });
      }
      return round;
    },
  };
}

export type RecoveryActivities = ReturnType<typeof createRecoveryActivities>;

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (a direct call): nothing to report to.
  }
}

/** Unsettled rows and completed rows whose guarantee may still be followed, by id. */
async function candidateIds(deps: EngineDeps, after: number): Promise<number[]> {
  const rows = await deps.prisma.order.findMany({
    where: {
      id: { gt: after },
      OR: [{ status: { in: [...UNSETTLED_STATUSES] } }, { status: 'completed', refillKind: { not: 'none' } }],
    },
    orderBy: { id: 'asc' },
    take: PAGE,
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

async function workflowExists(deps: EngineDeps, orderId: number): Promise<boolean> {
  try {
    await deps.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function recoverOne(deps: EngineDeps, orderId: number, round: RecoveryRound, wake: Set<number>): Promise<void> {
  const log = activityLogger(deps);
  const row = await readOrphan(deps, orderId);
  if (!row) return;
  const now = Date.now();
  const decision = decideOrphan(row, now);
  if (decision.kind === 'none') return;
  if (decision.kind === 'hold') {
    round.held.push(orderId);
    log.warn('order workflow lost: left for support (its progress is not in the row)', { orderId, status: row.status, reason: decision.reason });
    return;
  }
  if (decision.kind === 'reject_unpaid') {
    if (await rejectUnpaid(deps, orderId)) {
      round.rejected.push(orderId);
      log.warn('order recovered: its workflow was lost before payment; rejected, nothing charged, link freed', { orderId, userId: row.userId });
    }
    return;
  }
  const { input, carried, state } = resumeOf(row, now);
  try {
    await deps.temporal.workflow.start('orderWorkflow', {
      workflowId: orderWorkflowId(orderId),
      taskQueue: ORDER_TASK_QUEUE,
      args: [input, carried],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: orderSearchAttributes(state),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    round.raced.push(orderId);
    return;
  }
  round.resumed.push(orderId);
  if (row.providerOrderId !== null || row.status === 'completed') wake.add(row.providerId);
  log.warn('order recovered: its workflow was lost; a new run continues from the row', {
    orderId,
    fromStatus: row.status,
    status: state.status,
    providerOrderId: row.providerOrderId,
    refunded: state.refunded,
    reason: decision.reason,
  });
}

/** The row's order-type columns as OrderInput fields (absent ones left out, as buildOrderInput does). */
function typeFieldsOf(record: OrderRecord): OrderTypeInput {
  return {
    ...(record.serviceType !== 'default' && isServiceType(record.serviceType) ? { serviceType: record.serviceType } : {}),
    ...(record.providerFields && Object.keys(record.providerFields).length > 0 ? { providerFields: record.providerFields } : {}),
    ...(record.dripFeed ? { dripFeed: record.dripFeed } : {}),
    ...(record.subscription ? { subscription: record.subscription } : {}),
    ...(record.executeAt ? { executeAt: Date.parse(record.executeAt) } : {}),
  };
}

/** A `new` row with no debit becomes rejected (under its row lock, the debit checked again). */
async function rejectUnpaid(deps: EngineDeps, orderId: number): Promise<boolean> {
  return deps.prisma.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM orders WHERE id = ${orderId} FOR UPDATE`;
    if (locked?.status !== 'new') return false;
    const debit = await tx.ledgerEntry.findUnique({ where: { idempotencyKey: debitKey(orderId) }, select: { id: true } });
    if (debit) return false;
    await tx.order.update({ where: { id: orderId }, data: { status: 'rejected', rejectReason: REJECT_UNPAID_MESSAGE, finishedAt: new Date() } });
    return true;
  });
}

/** The row, its service's provider id, its debit and refund entries and its refills, as OrphanRow. */
export async function readOrphan(deps: Pick<EngineDeps, 'prisma'>, orderId: number): Promise<OrphanRow | null> {
  const { prisma } = deps;
  const row = await prisma.order.findUnique({
    where: { id: orderId },
    include: { service: { select: { providerServiceId: true } }, refills: { orderBy: { id: 'asc' } } },
  });
  if (!row) return null;
  const [debit, refund] = await Promise.all([
    prisma.ledgerEntry.findUnique({ where: { idempotencyKey: debitKey(orderId) } }),
    prisma.ledgerEntry.findUnique({ where: { idempotencyKey: refundKey(orderId) } }),
  ]);
  const ms = (d: Date | null) => (d ? d.getTime() : null);
  // The columns as every part reads them (order-records' toRecord), times as epoch ms.
  const record = toRecord(row);
  return {
    ...record,
    providerServiceId: row.service.providerServiceId,
    createdAt: row.createdAt.getTime(),
    startedAt: ms(row.startedAt),
    finishedAt: ms(row.finishedAt),
    dispatchQuantity: row.dispatchQuantity,
    dispatchState: row.dispatchState,
    refillVoidReason: row.refillVoidReason,
    debit: debit ? { at: debit.createdAt.getTime() } : null,
    typeFields: typeFieldsOf(record),
    refund: refund ? { amount: formatMoney(refund.amount.toFixed(5)), rule: refundRuleOf(refund.reason), at: refund.createdAt.getTime() } : null,
    refills: row.refills.map((r) => ({
      id: r.id,
      requestId: r.requestId,
      requestedBy: r.requestedBy as unknown as RefillRequester,
      status: r.status,
      providerRefillId: r.providerRefillId,
      reason: r.reason,
      sendAttempt: r.sendAttempt,
      createdAt: r.createdAt.getTime(),
      updatedAt: r.updatedAt.getTime(),
      completedAt: ms(r.completedAt),
    })),
  };
}
