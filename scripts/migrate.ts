// npm run db:migrate — apply prisma/migrations to DATABASE_URL, or to the embedded PostgreSQL in
// .data/postgres (the one `npm start` uses) when DATABASE_URL is not set. Works offline.
import { migrate } from '../db/migrate';
import { startPostgres } from '../db/postgres';

async function main(): Promise<void> {
  const pg = await startPostgres();
  try {
    const where = pg.kind === 'external' ? 'DATABASE_URL' : `embedded PostgreSQL in ${pg.dataDir}`;
    console.log(`migrating ${where}`);
    const result = await migrate(pg.url, { log: (line) => console.log(line) });
    console.log(
      `done: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`,
    );
  } finally {
    await pg.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
