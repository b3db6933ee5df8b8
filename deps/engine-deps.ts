/**
 * What every part of the engine shares: the dependencies activities close over (EngineDeps) and
 * the function that builds them once per process. Activities, the API, the worker and the scripts
 * import these from here, so no part imports the worker that runs it (no import cycle).
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { createLedger } from '../activities/ledger';
import type { Ledger } from '../activities/ledger';
import { createOrderRecords } from '../activities/order-records';
import type { OrderRecords } from '../activities/order-records';
import { createProviderDirectory } from '../activities/provider-directory';
import type { ProviderDirectory } from '../activities/provider-directory';
import type { PrismaClient } from '../generated/prisma/client';
import { ORDER_TASK_QUEUE, providerSyncWorkflowId } from '../workflows/order-contract';
import { coalesceWakes } from './coalesced-wake';

/** The logger activities use outside a Temporal activity context (Temporal's own Logger shape). */
export interface EngineLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** Everything activities need, built once per process. */
export interface EngineDeps {
  prisma: PrismaClient;
  ledger: Ledger;
  orders: OrderRecords;
  providers: ProviderDirectory;
  /** For activities that signal or start workflows (the provider sync's wake, its providerUpdate). */
  temporal: Client;
  /** pino, as the API uses it; activities running in Temporal log through the activity Context. */
  logger?: Logger;
  /**
   * Wakes a provider's sync workflow after an order reached it. createEngineDeps sets it: a
   * signalWithStart of providerSyncWorkflow (`provider-sync-<id>`, signal `wake`), coalesced per
   * provider (deps/coalesced-wake.ts). Tests that drive orders by sending providerUpdate signals
   * themselves replace the signal (e.g. with a no-op). Absent (deps built by hand): one signal each.
   */
  wakeProviderSync?: (providerId: number) => Promise<void>;
}

export interface CreateEngineDepsOptions {
  logger?: Logger;
  /** Provider HTTP timeout per call (default 15 s). */
  providerTimeoutMs?: number;
  wakeProviderSync?: (providerId: number) => Promise<void>;
  /**
   * Wakes of one provider's sync within this window (real ms) after one sent become one trailing
   * wake (deps/coalesced-wake.ts). Default 1,000; 0 sends every wake. Set 0 on a skipped clock (the
   * tests' engine, the simulation): hours of workflow time pass within a real second there, and the
   * sync may end idle before the trailing wake; on the wall clock it follows the order just sent.
   */
  wakeCoalesceMs?: number;
}

export const DEFAULT_WAKE_COALESCE_MS = 1_000;

/**
 * The provider sync's `wake`: signalWithStart of `provider-sync-<id>` (starts it when it ended idle,
 * with `policy` when given: its pacing, else the engine's default).
 */
export async function signalProviderSyncWake(temporal: Client, providerId: number, policy?: object): Promise<void> {
  await temporal.workflow.signalWithStart('providerSyncWorkflow', {
    workflowId: providerSyncWorkflowId(providerId),
    taskQueue: ORDER_TASK_QUEUE,
    args: [policy ? { providerId, policy } : { providerId }],
    signal: 'wake',
    signalArgs: [{ providerId }],
  });
}

export function createEngineDeps(prisma: PrismaClient, temporal: Client, options: CreateEngineDepsOptions = {}): EngineDeps {
  const deps: EngineDeps = {
    prisma,
    ledger: createLedger(prisma),
    orders: createOrderRecords(prisma),
    providers: createProviderDirectory(prisma, { timeoutMs: options.providerTimeoutMs }),
    temporal,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  // deps.temporal is read at each wake, not captured here: a process that reconnects to a new
  // Temporal server (recovery after the old one was lost) swaps the client in place.
  deps.wakeProviderSync = coalesceWakes(
    options.wakeProviderSync ?? ((providerId) => signalProviderSyncWake(deps.temporal, providerId)),
    options.wakeCoalesceMs ?? DEFAULT_WAKE_COALESCE_MS,
    (providerId, error) => options.logger?.warn({ err: error, providerId }, 'provider sync: a trailing wake failed (the sync polls on its own interval)'),
  );
  return deps;
}
