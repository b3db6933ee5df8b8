/**
 * npm run demo:seed — the demo data of `npm start` for an engine whose parts run separately (docker
 * compose's one-shot `demo-seed` service): demo user, API key, balance, the provider simulator at
 * SIMULATOR_URL registered as a provider, demo catalogue. Idempotent. Prints the key and a curl line.
 * Env: DATABASE_URL (else the embedded PostgreSQL in <DATA_DIR>/postgres, DATA_DIR default .data), SIMULATOR_URL (default
 * http://127.0.0.1:4010), SIM_API_KEY (default sim-key), DEMO_API_KEY (else kept in
 * <DATA_DIR>/demo-api-key), DEMO_BALANCE (default 1000), API_PUBLIC_URL (for the curl line, default
 * http://localhost:3000).
 */
import { join } from 'node:path';
import { ensurePrismaClient } from '../db/generate';
import { startPostgres } from '../db/postgres';
import { dataDirFromEnv } from './runtime/env';

const log = (line: string) => console.log(`[demo] ${line}`);

async function main(): Promise<void> {
  ensurePrismaClient();
  const { createPrisma } = await import('../db/client');
  const { seedDemo } = await import('./runtime/demo');
  const { demoLines } = await import('./runtime/demo-text');

  const env = process.env;
  const simulatorUrl = (env.SIMULATOR_URL || 'http://127.0.0.1:4010').replace(/\/+$/, '');
  const dataDir = dataDirFromEnv(env);
  const pg = await startPostgres({ dataDir: join(dataDir, 'postgres') });
  const prisma = createPrisma(pg.url);
  try {
    const demo = await seedDemo(prisma, {
      simulator: { apiUrl: `${simulatorUrl}/api/v2`, countUrl: `${simulatorUrl}/count`, apiKey: (env.SIM_API_KEY || 'sim-key').split(',')[0]!.trim() },
      apiKey: env.DEMO_API_KEY || undefined,
      keyFile: join(dataDir, 'demo-api-key'),
      balance: env.DEMO_BALANCE || undefined,
    });
    for (const line of demoLines((env.API_PUBLIC_URL || 'http://localhost:3000').replace(/\/+$/, ''), demo)) log(line);
  } finally {
    await prisma.$disconnect();
    await pg.stop();
  }
}

main().catch((error) => {
  console.error(`[demo] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
