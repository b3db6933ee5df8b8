// jest globalSetup: ONE PostgreSQL for the whole run.
// - DATABASE_URL when set (its server must let us CREATE DATABASE), else an embedded PostgreSQL in
//   a temporary directory (deleted by global-teardown).
// - Migrates a template database `engine_template`; each test file then gets its own database
//   copied from it (test/support/database.ts createTestDatabase), which takes milliseconds.
// - Publishes the server's admin URL as TEST_PG_ADMIN_URL; jest workers inherit the environment.
// - Bundles the engine's workflows once for the whole run (TEST_WORKFLOW_BUNDLE_PATH, read by
//   test/support/temporal.ts bundleWorkflows) while PostgreSQL starts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { Client } from 'pg';
import { ensurePrismaClient } from '../../db/generate';
import { migrate } from '../../db/migrate';
import { startPostgres, withDatabase } from '../../db/postgres';
import type { RunningPostgres } from '../../db/postgres';
import { describeTemporalKind, temporalKindFromEnvironment } from './temporal-kind';

export const TEMPLATE_DATABASE = 'engine_template';

declare global {
  // eslint-disable-next-line no-var
  var __ENGINE_TEST_PG__: RunningPostgres | undefined;
  // eslint-disable-next-line no-var
  var __ENGINE_TEST_BUNDLE_DIR__: string | undefined;
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  ensurePrismaClient();
  const bundling = bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  const pg = await startPostgres({ ephemeral: true });
  globalThis.__ENGINE_TEST_PG__ = pg;
  const adminUrl = pg.url;

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(adminUrl, TEMPLATE_DATABASE);
  const result = await migrate(templateUrl);

  const bundleDir = mkdtempSync(join(tmpdir(), 'engine-workflows-'));
  const bundlePath = join(bundleDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, (await bundling).code);
  globalThis.__ENGINE_TEST_BUNDLE_DIR__ = bundleDir;
  process.env.TEST_WORKFLOW_BUNDLE_PATH = bundlePath; // temporal.ts SHARED_BUNDLE_ENV

  process.env.TEST_PG_ADMIN_URL = adminUrl;
  process.env.TEST_PG_TEMPLATE = TEMPLATE_DATABASE;
  process.env.TEST_PG_RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const where =
    pg.kind === 'external'
      ? `DATABASE_URL (${redact(adminUrl)})`
      : `embedded PostgreSQL at ${redact(adminUrl)}, data in ${pg.dataDir}`;
  console.log(
    `\n[test db] using ${where}; template ${TEMPLATE_DATABASE} migrated ` +
      `(${result.applied.length} migration(s)) in ${Date.now() - started} ms`,
  );
  console.log(`[test temporal] using ${describeTemporalKind(temporalKindFromEnvironment())}`);
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
