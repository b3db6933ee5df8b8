// PrismaClient over the pg driver adapter: no query-engine binary, works offline.
// Requires the generated client (`npm run db:generate`, output in generated/prisma, gitignored).
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, type ClientConfig } from 'pg';
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
    Client: ClientHeardOnError,
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

/**
 * A pg client whose 'error' events always have a listener, so a connection the database ends
 * (pg_terminate_backend, a restart, a failover) cannot end the process. pg emits 'error' when the
 * server's FATAL arrives while the client runs no query, and an 'error' nobody hears is thrown. The
 * pool listens while a client is idle, and a query or a Prisma transaction while it holds one, but
 * not in between: when one read from the socket carries a query's end and then the FATAL, the query's
 * callback releases the client, the pool hands it at once to a transaction waiting for a client, and
 * the FATAL is parsed before the adapter (after an `await`) adds its listener. The simulation's
 * terminated connections killed the worker process so (node-postgres#2762 is the same report).
 * Nothing is lost by listening here: the client is marked unusable, its next query fails (the caller
 * retries, as for any dropped connection) and the pool drops it when it comes back.
 */
class ClientHeardOnError extends Client {
  constructor(config?: ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}
