// The offline migrator: applies prisma/migrations like `prisma migrate deploy` and records them the
// way Prisma does, so Prisma and this migrator agree on what is applied.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  DEFAULT_MIGRATIONS_DIR,
  MigrationError,
  migrate,
  readMigrations,
  scriptMatchesChecksum,
} from '../../db/migrate';
import { createTestDatabase } from '../support/database';
import type { TestDatabase } from '../support/database';

const opened: TestDatabase[] = [];
const tempDirs: string[] = [];

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrated: false, poolSize: 2 });
  opened.push(db);
  return db;
}

async function query<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A copy of prisma/migrations in a temp dir, to add broken or extra migrations to. */
function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'engine-migrations-'));
  tempDirs.push(dir);
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

afterAll(async () => {
  for (const db of opened) await db.drop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('migrate', () => {
  it('applies the migrations once, then is idempotent', async () => {
    const db = await emptyDatabase();
    const first = await migrate(db.url);
    const names = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(first).toEqual({ applied: names, alreadyApplied: [] });
    const second = await migrate(db.url);
    expect(second).toEqual({ applied: [], alreadyApplied: names });
    const rows = await query(db.url, 'SELECT migration_name FROM _prisma_migrations');
    expect(rows).toHaveLength(names.length);
    // The schema is there and usable through Prisma.
    await expect(db.prisma.user.count()).resolves.toBe(0);
  });

  it("records each migration with Prisma's columns, sha256 checksum and semantics", async () => {
    const db = await emptyDatabase();
    await migrate(db.url);
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string; character_maximum_length: number | null }>(
      db.url,
      `SELECT column_name, data_type, is_nullable, character_maximum_length
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    // The table Prisma's schema engine creates on PostgreSQL.
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable, c.character_maximum_length])).toEqual([
      ['id', 'character varying', 'NO', 36],
      ['checksum', 'character varying', 'NO', 64],
      ['finished_at', 'timestamp with time zone', 'YES', null],
      ['migration_name', 'character varying', 'NO', 255],
      ['logs', 'text', 'YES', null],
      ['rolled_back_at', 'timestamp with time zone', 'YES', null],
      ['started_at', 'timestamp with time zone', 'NO', null],
      ['applied_steps_count', 'integer', 'NO', null],
    ]);

    const rows = await query<{
      id: string; checksum: string; migration_name: string; finished_at: Date | null; started_at: Date;
      logs: string | null; rolled_back_at: Date | null; applied_steps_count: number;
    }>(db.url, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    for (const row of rows) {
      const file = readFileSync(join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      // Prisma's checksum: sha256 of the migration.sql bytes, 64 lowercase hex digits.
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('two migrators started at once apply each migration once (advisory lock)', async () => {
    const db = await emptyDatabase();
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied).toEqual(readMigrations().map((m) => m.name));
    const rows = await query(db.url, 'SELECT migration_name FROM _prisma_migrations');
    expect(rows).toHaveLength(applied.length);
  });

  it('refuses loudly when an applied migration was edited (checksum changed)', async () => {
    const db = await emptyDatabase();
    const dir = copyOfMigrations();
    await migrate(db.url, { migrationsDir: dir });
    const [first] = readMigrations(dir);
    writeFileSync(first.path, `${first.script}\n-- edited after it was applied\n`);
    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toThrow(/modified after it was applied/);
  });

  it('accepts the same file with CRLF line endings, and old non-padded checksums, like Prisma', () => {
    const script = 'CREATE TABLE "a" ("id" INT);\nSELECT 1;\n';
    const lf = createHash('sha256').update(script).digest('hex');
    expect(scriptMatchesChecksum(script.replace(/\n/g, '\r\n'), lf)).toBe(true);
    expect(scriptMatchesChecksum(script, lf)).toBe(true);
    expect(scriptMatchesChecksum(`${script} `, lf)).toBe(false);
    // A script whose digest has a byte below 0x10, so the old format really differs.
    let old = script;
    for (let i = 0; createHash('sha256').update(old).digest().every((b) => b >= 16); i++) old = `${script}-- ${i}\n`;
    const unpadded = Array.from(createHash('sha256').update(old).digest(), (b) => b.toString(16)).join('');
    expect(unpadded.length).toBeLessThan(64);
    expect(scriptMatchesChecksum(old, unpadded)).toBe(true);
    expect(scriptMatchesChecksum(script, unpadded)).toBe(old === script);
  });

  it('a failing migration is rolled back whole, recorded as rolled back, and applies once fixed', async () => {
    const db = await emptyDatabase();
    const dir = copyOfMigrations();
    const broken = join(dir, '99990101000000_broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INT);\nSELECT no_such_function();\n');
    await expect(migrate(db.url, { migrationsDir: dir })).rejects.toThrow(MigrationError);

    const tables = await query(db.url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
    expect(tables).toHaveLength(0); // nothing half-applied
    const attempts = await query<{ logs: string; rolled_back_at: Date | null; finished_at: Date | null }>(
      db.url,
      `SELECT logs, rolled_back_at, finished_at FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'`,
    );
    expect(attempts).toHaveLength(1);
    expect(attempts[0].logs).toMatch(/no_such_function/);
    expect(attempts[0].rolled_back_at).not.toBeNull();
    expect(attempts[0].finished_at).toBeNull();

    writeFileSync(join(broken, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INT);\n');
    const fixed = await migrate(db.url, { migrationsDir: dir });
    expect(fixed.applied).toEqual(['99990101000000_broken']);
  });

  it('refuses to run over a failed migration that nobody resolved (like Prisma P3009)', async () => {
    const db = await emptyDatabase();
    await migrate(db.url);
    await query(
      db.url,
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
      ['00000000-0000-4000-8000-000000000000', '0'.repeat(64), '99990101000000_crashed'],
    );
    await expect(migrate(db.url)).rejects.toThrow(/failed migration/);
  });

  it('the migrated schema holds the database-enforced rules', async () => {
    const db = await emptyDatabase();
    await migrate(db.url);
    const checks = await query<{ conname: string }>(
      db.url,
      `SELECT conname FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace ORDER BY conname`,
    );
    expect(checks.map((c) => c.conname)).toEqual(
      expect.arrayContaining([
        'users_balance_non_negative', // R-BALANCE
        'orders_refunded_within_charge', // R-PARTIAL
        'orders_quantity_positive',
        'orders_charge_non_negative',
        'ledger_entries_kind_sign_valid',
      ]),
    );
    const [index] = await query<{ indexdef: string }>(
      db.url,
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'orders_active_link_key'`,
    );
    // R-ONE-ACTIVE-PER-LINK
    expect(index.indexdef).toMatch(/CREATE UNIQUE INDEX orders_active_link_key ON public\.orders USING btree \(link_key\) WHERE/);
    for (const status of ['new', 'pending', 'dispatch_uncertain', 'in_progress']) expect(index.indexdef).toContain(`'${status}'`);
    const [lock] = await query<{ n: number }>(
      db.url,
      `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'ledger_entries_idempotency_key_key'`,
    );
    expect(lock.n).toBe(1);
  });
});
