/**
 * Called once a worker runs: makes sure the order recovery workflow exists and scans now
 * (signalWithStart: a running one gets the 'scan' signal, a missing one starts with it).
 */
import type { Client } from '@temporalio/client';
import { ORDER_TASK_QUEUE } from '../workflows/order-contract';
import { DEFAULT_RECOVERY_INTERVAL_MS, ORDER_RECOVERY_WORKFLOW_ID, recoveryScanSignal } from '../workflows/order-recovery-workflow';
import type { OrderRecoveryOptions, orderRecoveryWorkflow } from '../workflows/order-recovery-workflow';

export interface EnsureRecoveryOptions {
  /** Time between two rounds (default 10 minutes). */
  intervalMs?: number;
  taskQueue?: string;
}

export async function ensureOrderRecovery(client: Client, options: EnsureRecoveryOptions = {}): Promise<void> {
  const intervalMs = options.intervalMs ?? DEFAULT_RECOVERY_INTERVAL_MS;
  await client.workflow.signalWithStart<typeof orderRecoveryWorkflow, [Partial<OrderRecoveryOptions>]>('orderRecoveryWorkflow', {
    workflowId: ORDER_RECOVERY_WORKFLOW_ID,
    taskQueue: options.taskQueue ?? ORDER_TASK_QUEUE,
    args: [{ intervalMs }],
    signal: recoveryScanSignal,
    signalArgs: [{ intervalMs }],
  });
}

/**
 * ORDER_RECOVERY_INTERVAL_MINUTES: minutes between two rounds (default 10); `off` (or 0) does not
 * ensure the recovery at all (a deployment that runs it from another worker).
 */
export function recoveryIntervalFromEnv(env: NodeJS.ProcessEnv): number | null {
  const raw = env.ORDER_RECOVERY_INTERVAL_MINUTES?.trim();
  if (raw === undefined || raw === '') return DEFAULT_RECOVERY_INTERVAL_MS;
  if (raw === 'off' || raw === '0') return null;
  const minutes = Number(raw);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`ORDER_RECOVERY_INTERVAL_MINUTES must be a positive number of minutes or "off", got "${raw}"`);
  return Math.max(1_000, Math.round(minutes * 60_000));
}
