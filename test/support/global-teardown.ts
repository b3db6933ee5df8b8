// jest globalTeardown: drop what the run left behind and stop the PostgreSQL of global-setup.
import { rmSync } from 'node:fs';
import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const pg = globalThis.__ENGINE_TEST_PG__;
  const adminUrl = process.env.TEST_PG_ADMIN_URL;
  const runId = process.env.TEST_PG_RUN_ID;
  if (pg?.kind === 'external' && adminUrl && runId) {
    // On a shared server, remove the databases of this run that a test forgot to drop.
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`t_${runId}_%`],
      );
      for (const { datname } of rows) {
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    } finally {
      await admin.end();
    }
  }
  await pg?.stop();
  globalThis.__ENGINE_TEST_PG__ = undefined;
  if (globalThis.__ENGINE_TEST_BUNDLE_DIR__) rmSync(globalThis.__ENGINE_TEST_BUNDLE_DIR__, { recursive: true, force: true });
  globalThis.__ENGINE_TEST_BUNDLE_DIR__ = undefined;
}
