/**
 * npm run worker — the Temporal worker alone (docker compose's `worker` service; `npm start` runs
 * everything at once): order workflows, provider syncs and their activities on task queue "orders".
 * Env: DATABASE_URL (required, migrated), TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE
 * (default "default"), TEMPORAL_LOG_LEVEL (default WARN). SIGINT/SIGTERM: the worker shuts down
 * (running activities finish or are cancelled), connections close, exit 0.
 */
import { ensurePrismaClient } from '../db/generate';
import { intFromEnv } from './runtime/env';
import { stopOnSignal } from './runtime/signals';

const log = (line: string) => console.log(`[worker] ${line}`);

async function main(): Promise<void> {
  const signals = stopOnSignal(log, intFromEnv(process.env, 'SHUTDOWN_TIMEOUT_MS', 30_000));
  ensurePrismaClient();
  // Loaded only now: the components import the generated Prisma client.
  const { Parts, connectBackends, startWorker } = await import('./runtime/components');
  const parts = new Parts(log);
  try {
    const { prisma, temporal, namespace } = await connectBackends(process.env, parts, log);
    parts.add('worker', await startWorker({ prisma, temporal, namespace }));
    log(`worker running on namespace ${namespace}`);
  } catch (error) {
    await parts.stopAll().catch(() => undefined);
    throw error;
  }
  signals.ready(() => parts.stopAll());
}

main().catch((error) => {
  console.error(`[worker] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
