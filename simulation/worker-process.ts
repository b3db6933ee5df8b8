/**
 * The engine's worker as its own process, so the simulation can kill it as a crash does (SIGKILL,
 * mid-activity included) and start a new one. Started by world.ts with:
 *   SIM_DATABASE_URL, SIM_TEMPORAL_ADDRESS, SIM_BUNDLE_PATH (bundled workflow code),
 *   SIM_PROVIDER_TIMEOUT_MS, SIM_SYNC_POLICY (JSON: the provider sync's pacing for simulated months).
 * Prints "ready" on stdout once the worker polls. Started with lean-sandbox-preload.ts preloaded:
 * the workflow sandbox runs without the SDK's deadlock watchdog and stack capture.
 */
import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { activityContext } from '../activities/activity-context';
import { createPrisma } from '../db/client';
import { createEngineDeps, signalProviderSyncWake } from '../deps/engine-deps';
import { createEngineWorker } from '../worker';
import { grpcCompressionFor } from '../scripts/runtime/grpc-compression';
import { requiredEnv } from './required-env';
import { SDK_NO_TIMEOUT } from './unbounded-vm-timeouts';
import { wakeOncePerWindow, wakeWindowMs } from './sync-wake-windows';
import type { WakeFn } from '../deps/coalesced-wake';
import type { SyncPacing } from './sync-wake-windows';

export const WORKER_APPLICATION_NAME = 'sim-worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const prisma = createPrisma(requiredEnv('SIM_DATABASE_URL'), { applicationName: WORKER_APPLICATION_NAME });
  const address = requiredEnv('SIM_TEMPORAL_ADDRESS');
  const client = new Client({ connection: await Connection.connect({ address }) });
  const policy = JSON.parse(requiredEnv('SIM_SYNC_POLICY')) as SyncPacing;
  const deps = createEngineDeps(prisma, client, {
    providerTimeoutMs: Number(requiredEnv('SIM_PROVIDER_TIMEOUT_MS')),
    // No coalescing: its window is real time, and on the skipped clock hours pass within it (the
    // provider's sync could end idle before the trailing wake).
    wakeCoalesceMs: 0,
    // The sync paced for simulated months (see world.ts SYNC_POLICY); otherwise as the engine wakes it.
    wakeProviderSync: onTemporalsClock((providerId) => signalProviderSyncWake(client, providerId, policy), policy),
  });
  // Loopback to the in-memory server: no gzip, as npm start's worker (scripts/runtime/grpc-compression.ts).
  const connection = await NativeConnection.connect({ address, grpcCompression: grpcCompressionFor(address) });
  const worker = await createEngineWorker({
    connection,
    deps,
    workflowBundle: { code: await readFile(requiredEnv('SIM_BUNDLE_PATH'), 'utf8') },
    // The SDK's own "no timeout" (its debugMode value): no bound, so no watchdog per sandbox call
    // once the preload drops it. The drive's stuck check stands in for the deadlock detector.
    isolateExecutionTimeout: SDK_NO_TIMEOUT,
  });
  const running = worker.run();
  // Our stdin is the simulation's pipe: when the simulation ends (or dies), so does this worker.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.stdout.write('ready\n');
  await running;
}

/** One wake per provider per window of the sync's pacing, on Temporal's clock (sync-wake-windows.ts). */
function onTemporalsClock(send: WakeFn, pacing: SyncPacing): WakeFn {
  const windowMs = wakeWindowMs(pacing);
  return windowMs === null ? send : wakeOncePerWindow(send, windowMs, temporalNowOfActivity);
}

/**
 * Temporal's (skipped) clock as the calling activity sees it: when its attempt was scheduled (an
 * activity in flight holds the skipped clock, so that is now). A local activity's time is the
 * worker's own clock, not Temporal's: null, as outside an activity.
 */
function temporalNowOfActivity(): number | null {
  const info = activityContext()?.info;
  return !info || info.isLocal ? null : info.currentAttemptScheduledTimestampMs;
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`simulation worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
