// Offline migrator, compatible with `prisma migrate deploy`.
//
// Prisma 7's CLI downloads a schema-engine binary for every migrate command, which fails without
// internet. Deploying migrations is simple, though: run prisma/migrations/<name>/migration.sql in
// name order and record each in `_prisma_migrations`. This file does exactly that, with the same
// table, columns, checksums (sha256 hex of the file) and advisory lock as Prisma's schema engine,
// so a later `prisma migrate deploy` (on a machine with internet) sees the same history and agrees.
//
// Differences from Prisma, all on the safe side:
// - each migration runs inside one transaction together with its `_prisma_migrations` row;
// - a migration that fails is rolled back entirely, and its attempt is kept in the table with the
//   error in `logs` and `rolled_back_at` set (what `prisma migrate resolve --rolled-back` records),
//   so it does not block the next run;
// - an applied migration whose file changed (checksum differs) is refused loudly.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

export const DEFAULT_MIGRATIONS_DIR = resolve(__dirname, '..', 'prisma', 'migrations');

/** The advisory lock id Prisma's schema engine takes on PostgreSQL (`pg_advisory_lock(72707369)`):
 * using the same id makes this migrator and `prisma migrate deploy` exclude each other too. */
export const PRISMA_MIGRATE_LOCK_ID = 72707369;

/** Same DDL as Prisma's schema engine creates on PostgreSQL. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  path: string;
  script: string;
  checksum: string;
}

export interface MigrateOptions {
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** sha256 of the script, lowercase hex, zero-padded: what Prisma stores in `checksum`. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/** Prisma's comparison: tolerant to CRLF/LF conversions by git, and to the old checksum format
 * that dropped leading zeros of each byte (prisma-engines#1887). */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\n/g, '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    if (checksum.length !== 64) {
      return Array.from(digest, (b) => b.toString(16)).join('') === checksum;
    }
    return digest.toString('hex') === checksum;
  });
}

/** prisma/migrations/<name>/migration.sql, sorted by name (as Prisma does). */
export function readMigrations(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(migrationsDir)) throw new MigrationError(`no migrations directory at ${migrationsDir}`);
  const lockFile = join(migrationsDir, 'migration_lock.toml');
  if (existsSync(lockFile)) {
    const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(readFileSync(lockFile, 'utf8'))?.[1];
    if (provider !== 'postgresql') {
      throw new MigrationError(`${lockFile} says provider = "${provider}"; this migrator only speaks postgresql`);
    }
  }
  return readdirSync(migrationsDir)
    .filter((name) => statSync(join(migrationsDir, name)).isDirectory())
    .sort()
    .map((name) => {
      const path = join(migrationsDir, name, 'migration.sql');
      if (!existsSync(path)) throw new MigrationError(`migration ${name} has no migration.sql`);
      const script = readFileSync(path, 'utf8');
      return { name, path, script, checksum: migrationChecksum(script) };
    });
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/**
 * Apply every pending migration to the database at `databaseUrl`. Idempotent: applied migrations
 * are skipped (after their checksum is verified). Throws MigrationError on an edited migration,
 * on an unresolved failed migration, or when a migration script fails.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined);
  const migrations = readMigrations(options.migrationsDir);
  const client = new Client({ connectionString: databaseUrl, application_name: 'engine-migrate' });
  await client.connect();
  try {
    // Session-level lock: held across the per-migration transactions below.
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_ID]);
    try {
      return await applyPending(client, migrations, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_ID]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(
  client: Client,
  migrations: MigrationFile[],
  log: (line: string) => void,
): Promise<MigrateResult> {
  await client.query(CREATE_MIGRATIONS_TABLE);
  const { rows } = await client.query<MigrationRow>(
    `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at`,
  );

  // Same classification as Prisma: a row counts as applied when finished and not rolled back;
  // a row neither finished nor rolled back is a failed migration that blocks deploys (P3009).
  const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed.length > 0) {
    throw new MigrationError(
      `failed migration(s) in the target database: ${failed.map((r) => r.migration_name).join(', ')}. ` +
        'Inspect the database, then mark them with `prisma migrate resolve --rolled-back <name>` ' +
        '(or set rolled_back_at) before migrating again.',
    );
  }
  const applied = new Map<string, MigrationRow>();
  for (const row of rows) {
    if (row.finished_at !== null && row.rolled_back_at === null) applied.set(row.migration_name, row);
  }

  const known = new Set(migrations.map((m) => m.name));
  for (const name of applied.keys()) {
    if (!known.has(name)) log(`warning: migration ${name} is applied in the database but missing locally`);
  }

  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    const row = applied.get(migration.name);
    if (row) {
      if (!scriptMatchesChecksum(migration.script, row.checksum)) {
        throw new MigrationError(
          `migration ${migration.name} was modified after it was applied: database checksum ` +
            `${row.checksum}, file ${migration.checksum} (${migration.path}). ` +
            'Never edit an applied migration; add a new one.',
        );
      }
      result.alreadyApplied.push(migration.name);
      continue;
    }
    await applyOne(client, migration);
    log(`applied migration ${migration.name}`);
    result.applied.push(migration.name);
  }
  return result;
}

async function applyOne(client: Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
      [id, migration.checksum, migration.name],
    );
    // Simple query protocol: the whole multi-statement script runs inside this transaction.
    await client.query(migration.script);
    await client.query(
      `UPDATE "_prisma_migrations"
          SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
        WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    const message = error instanceof Error ? error.message : String(error);
    // Keep a trace of the attempt, marked rolled back (the transaction undid everything).
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs, rolled_back_at)
       VALUES ($1, $2, $3, now(), $4, now())`,
      [id, migration.checksum, migration.name, message],
    );
    throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${message}`);
  }
}
