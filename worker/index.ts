/**
 * The engine's worker: every workflow (order, provider sync) and every activity, on ORDER_TASK_QUEUE.
 *
 *   const deps = createEngineDeps(prisma, temporalClient);
 *   const worker = await createEngineWorker({ connection: nativeConnection, deps });
 *   await worker.run();
 *
 * Activities close over EngineDeps (deps/engine-deps.ts; no module state), so tests build them
 * against a test database, a simulator and a test Temporal server (test/support/engine.ts).
 */
import { Worker } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundle } from '@temporalio/worker';
import type { Duration } from '@temporalio/common';
import { createActivities } from '../activities';
import type { EngineDeps } from '../deps/engine-deps';
import { registerOrderSearchAttributes } from './search-attributes';
import { ORDER_TASK_QUEUE } from '../workflows/order-contract';

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
  /**
   * The SDK's deadlock detector: how long one activation may run (default the SDK's 5 s). The
   * simulation's worker passes the SDK's "no timeout" (simulation/lean-sandbox-preload.ts).
   */
  isolateExecutionTimeout?: Duration;
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
    ...(options.isolateExecutionTimeout !== undefined ? { isolateExecutionTimeout: options.isolateExecutionTimeout } : {}),
  });
}

export { ORDER_TASK_QUEUE };
