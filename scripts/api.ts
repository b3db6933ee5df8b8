/**
 * npm run api — the REST API alone (docker compose's `api` service; `npm start` runs everything at once).
 * Env: DATABASE_URL (required, migrated), TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE
 * (default "default"), PORT (default 3000), HOST (default 127.0.0.1; 0.0.0.0 in the Docker image),
 * LOG_LEVEL. SIGINT/SIGTERM: stop accepting requests, close connections, exit 0.
 */
import { ensurePrismaClient } from '../db/generate';
import { intFromEnv } from './runtime/env';
import { stopOnSignal } from './runtime/signals';

const log = (line: string) => console.log(`[api] ${line}`);

async function main(): Promise<void> {
  const signals = stopOnSignal(log, intFromEnv(process.env, 'SHUTDOWN_TIMEOUT_MS', 30_000));
  ensurePrismaClient();
  // Loaded only now: the components import the generated Prisma client.
  const { Parts, connectBackends, startApi } = await import('./runtime/components');
  const parts = new Parts(log);
  try {
    const { prisma, temporal } = await connectBackends(process.env, parts, log);
    const api = parts.add(
      'API',
      await startApi({ prisma, temporal, port: intFromEnv(process.env, 'PORT', 3000), host: process.env.HOST || '127.0.0.1' }),
    );
    log(`API listening on ${api.url}`);
  } catch (error) {
    await parts.stopAll().catch(() => undefined);
    throw error;
  }
  signals.ready(() => parts.stopAll());
}

main().catch((error) => {
  console.error(`[api] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
