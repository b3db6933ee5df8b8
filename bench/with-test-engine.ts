/**
 * Runs a benchmark against the whole engine of the tests (test/support/engine.ts) outside jest: its
 * own ephemeral PostgreSQL with a migrated template (what jest's global setup publishes for
 * createTestDatabase), Temporal with time skipping, the simulator and a worker; cleaned up after.
 */
import { Client } from 'pg';
import { ensurePrismaClient } from '../db/generate';
import { migrate } from '../db/migrate';
import { startPostgres, withDatabase } from '../db/postgres';
import type { RunningPostgres } from '../db/postgres';
import { startTestEngine } from '../test/support/engine';
import type { TestEngine } from '../test/support/engine';
import { describeTemporalKind, temporalKindFromEnvironment } from '../test/support/temporal';

export async function withTestEngine(template: string, run: (engine: TestEngine) => Promise<void>): Promise<void> {
  // A real server (TEMPORAL_ADDRESS) cannot skip time: days would take days. Always a time-skipping
  // server: the in-memory one, or the official test server when TEMPORAL_TEST_SERVER_PATH names it.
  delete process.env.TEMPORAL_ADDRESS;
  ensurePrismaClient();
  let pg: RunningPostgres | undefined;
  let engine: TestEngine | undefined;
  try {
    pg = await startPostgres({ ephemeral: true, ignoreDatabaseUrl: true });
    await createTemplate(pg.url, template);
    process.env.TEST_PG_ADMIN_URL = pg.url;
    process.env.TEST_PG_TEMPLATE = template;
    process.env.TEST_PG_RUN_ID = `bench${process.pid}`;
    engine = await startTestEngine();
    console.log(`Temporal: ${describeTemporalKind(temporalKindFromEnvironment())}`);
    await run(engine);
  } finally {
    await engine?.shutdown();
    await pg?.stop();
  }
}

async function createTemplate(adminUrl: string, template: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  await migrate(withDatabase(adminUrl, template));
}
