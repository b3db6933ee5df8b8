// PrismaClient over the pg driver adapter: no query-engine binary, works offline.
// Requires the generated client (`npm run db:generate`, output in generated/prisma, gitignored).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export { Prisma, PrismaClient } from '../generated/prisma/client';

export interface CreatePrismaOptions {
  /** pg pool size (default 10). */
  poolSize?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

export function createPrisma(databaseUrl: string, options: CreatePrismaOptions = {}): PrismaClient {
  if (!databaseUrl) throw new Error('createPrisma: databaseUrl is required');
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'smm-order-engine',
    // TIMESTAMP(3) columns hold UTC (Prisma's convention); make database-side defaults agree.
    options: '-c TimeZone=UTC',
  });
  return new PrismaClient({
    adapter,
    // Expected failures (unique/check violations) are part of normal operation here; the pretty
    // format reads source files to draw a code frame for each, which costs ~100 ms a time.
    errorFormat: 'minimal',
    // Ledger transactions are short, but many may queue for a pooled connection at once.
    transactionOptions: { maxWait: 30_000, timeout: 30_000 },
  });
}
