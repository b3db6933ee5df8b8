/**
 * Scheduled orders (issue 12, OrderInput.executeAt): charged at placement, then a durable timer until
 * execute_at before the first dispatch. A message (a cancel, support's action) wakes the wait early:
 * the main loop looks at it and waits again. Before it starts, a cancel gives the whole charge back
 * (R-CANCEL-FULL, domain decideCancel's scheduledUntil); the start window opens at execute_at.
 */
import { log } from '@temporalio/workflow';
import { waitForChange } from './order-run';
import type { OrderRun } from './order-run';

/** True while the order waits for its execute_at (the loop looks again after each wake). */
export async function scheduleStep(run: OrderRun): Promise<boolean> {
  const { orderId, state } = run;
  if (state.executeAt === undefined || state.status !== 'pending' || state.providerOrderId !== null) return false;
  if (state.timestamps.dispatchedAt !== null || (state.dripFeed?.list.length ?? 0) > 0) return false;
  const wait = state.executeAt - Date.now();
  if (wait <= 0) return false;
  log.info('scheduled: waiting for execute_at', { orderId, executeAt: state.executeAt });
  await waitForChange(run, wait);
  return true;
}
