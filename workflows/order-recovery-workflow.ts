/**
 * The order recovery: one long-lived workflow (id ORDER_RECOVERY_WORKFLOW_ID, task queue
 * ORDER_TASK_QUEUE) that finds orders whose workflow is gone and gives each a new run from its row
 * (recovery/recovery-activities.ts, recovery/resume-order.ts).
 *
 *   loop: recoverOrphanedOrders → wait intervalMs (a durable timer), cut short by the 'scan' signal
 *         → continue-as-new every ROUNDS_PER_RUN rounds, carrying its options
 *
 * The worker ensures it at start with signalWithStart (recovery/ensure-recovery.ts): the signal makes
 * a running one scan at once, and a lost one (the namespace was lost with the orders) starts again.
 */
import { allHandlersFinished, condition, continueAsNew, defineSignal, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RecoveryActivities } from '../recovery/recovery-activities';

export const ORDER_RECOVERY_WORKFLOW_ID = 'order-recovery';
/** Rounds per run before continue-as-new (each round is about ten events). */
export const ROUNDS_PER_RUN = 100;
export const DEFAULT_RECOVERY_INTERVAL_MS = 10 * 60_000;

export interface OrderRecoveryOptions {
  /** Time between two rounds. */
  intervalMs: number;
}

/** Scan now; a given intervalMs replaces the running one's (a worker started with a new setting). */
export const recoveryScanSignal = defineSignal<[Partial<OrderRecoveryOptions>]>('scan');

const { recoverOrphanedOrders } = proxyActivities<RecoveryActivities>({
  // One describe per candidate order and a start per orphan: minutes for many thousands.
  startToCloseTimeout: '30 minutes',
  // The activity heartbeats once per order.
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

export async function orderRecoveryWorkflow(options: OrderRecoveryOptions): Promise<void> {
  let intervalMs = validInterval(options.intervalMs);
  let requested = true; // the first round runs at once
  setHandler(recoveryScanSignal, (request) => {
    requested = true;
    if (request?.intervalMs !== undefined) intervalMs = validInterval(request.intervalMs);
  });
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    await condition(() => requested, intervalMs);
    requested = false;
    try {
      const result = await recoverOrphanedOrders();
      if (result.resumed.length + result.rejected.length > 0) {
        log.info('orders recovered', { resumed: result.resumed, rejected: result.rejected, raced: result.raced, failed: result.failed.length });
      }
    } catch (error) {
      // The next round tries again: the loop never dies of a database or Temporal outage.
      log.warn('order recovery round failed', { error: (error as Error).message });
    }
  }
  await condition(allHandlersFinished);
  return continueAsNew<typeof orderRecoveryWorkflow>({ intervalMs });
}

function validInterval(ms: number): number {
  return Number.isSafeInteger(ms) && ms >= 1_000 ? ms : DEFAULT_RECOVERY_INTERVAL_MS;
}
