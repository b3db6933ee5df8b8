// A private database per test file: CREATE DATABASE ... TEMPLATE engine_template (migrated once by
// test/support/global-setup.ts). Copying the template takes milliseconds, so every test file starts
// from the migrated, empty schema and cannot see any other file's rows.
//
//   let db: TestDatabase;
//   beforeAll(async () => { db = await createTestDatabase(); });
//   afterAll(async () => { await db.drop(); });
//   ... db.prisma (a PrismaClient), db.url (for pg or a second client)
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPrisma } from '../../db/client';
import type { CreatePrismaOptions } from '../../db/client';
import type { PrismaClient } from '../../generated/prisma/client';

export interface TestDatabase {
  /** Connection URL of this test database. */
  url: string;
  name: string;
  prisma: PrismaClient;
  /** Disconnect and drop the database. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions extends CreatePrismaOptions {
  /** false: an empty database (no tables), e.g. to test the migrator. Default true. */
  migrated?: boolean;
}

let counter = 0;

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const { migrated = true, ...prismaOptions } = options;
  const adminUrl = process.env.TEST_PG_ADMIN_URL;
  const template = migrated ? (process.env.TEST_PG_TEMPLATE ?? 'engine_template') : 'template0';
  if (!adminUrl) {
    throw new Error(
      'TEST_PG_ADMIN_URL is not set: run the tests through jest (jest.config.js globalSetup ' +
        'test/support/global-setup.ts starts PostgreSQL and migrates the template).',
    );
  }
  const runId = process.env.TEST_PG_RUN_ID ?? 'local';
  const name = `t_${runId}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`.toLowerCase();

  await withAdmin(adminUrl, async (admin) => {
    // Two CREATE DATABASE ... TEMPLATE at the same instant can collide on the template (55006).
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });

  const parsed = new URL(adminUrl);
  parsed.pathname = `/${name}`;
  const url = parsed.toString();
  const prisma = createPrisma(url, { applicationName: `test:${name}`, ...prismaOptions });

  let dropped = false;
  return {
    url,
    name,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect();
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
