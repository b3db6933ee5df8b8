/**
 * The engine's worker: every workflow (order, provider sync) and every activity, on ORDER_TASK_QUEUE.
 *
 *   const deps = createEngineDeps(prisma, temporalClient);
 *   const worker = await createEngineWorker({ connection: nativeConnection, deps });
 *   await worker.run();
 *
 * Activities close over EngineDeps (no module state), so tests build them against a test database,
 * a simulator and a test Temporal server (test/support/engine.ts startTestEngine).
 */
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { createLedger } from '../activities/ledger';
import type { Ledger } from '../activities/ledger';
import { createOrderRecords } from '../activities/order-records';
import { registerOrderSearchAttributes } from './search-attributes';
import type { OrderRecords } from '../activities/order-records';
import { createProviderDirectory } from '../activities/provider-directory';
import type { ProviderDirectory } from '../activities/provider-directory';
import type { PrismaClient } from '../generated/prisma/client';
import { ORDER_TASK_QUEUE } from '../workflows/order-contract';

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
   * Wakes a provider's sync workflow after an order reached it. Default: signalWithStart of
   * providerSyncWorkflow (`provider-sync-<id>`, signal `wake`). Tests that drive orders by sending
   * providerUpdate signals themselves replace it (e.g. with a no-op).
   */
  wakeProviderSync?: (providerId: number) => Promise<void>;
}

export interface CreateEngineDepsOptions {
  logger?: Logger;
  /** Provider HTTP timeout per call (default 15 s). */
  providerTimeoutMs?: number;
  wakeProviderSync?: (providerId: number) => Promise<void>;
}

export function createEngineDeps(prisma: PrismaClient, temporal: Client, options: CreateEngineDepsOptions = {}): EngineDeps {
  return {
    prisma,
    ledger: createLedger(prisma),
    orders: createOrderRecords(prisma),
    providers: createProviderDirectory(prisma, { timeoutMs: options.providerTimeoutMs }),
    temporal,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.wakeProviderSync ? { wakeProviderSync: options.wakeProviderSync } : {}),
  };
}

export interface CreateEngineWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  deps: EngineDeps;
  /** Prebuilt workflow code (tests bundle once per file); default: bundle workflows/index.ts. */
  workflowBundle?: WorkflowBundle;
  maxCachedWorkflows?: number;
  /** Default ORDER_TASK_QUEUE. */
  taskQueue?: string;
  /** Worker identity shown in Temporal (default: the SDK's pid@host). */
  identity?: string;
}

export async function createEngineWorker(options: CreateEngineWorkerOptions): Promise<Worker> {
  const code = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  await registerOrderSearchAttributes(options.deps.temporal, options.namespace ?? 'default', (message) =>
    options.deps.logger ? options.deps.logger.warn(message) : console.warn(message),
  );
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? ORDER_TASK_QUEUE,
    activities: createActivities(options.deps),
    ...code,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}

export { ORDER_TASK_QUEUE };
