// Prisma 7 configuration. The datasource URL lives here (not in schema.prisma).
// `prisma generate` needs no database (npm run db:generate works offline). DATABASE_URL is read
// only by migrate/introspection commands; offline we apply migrations with `npm run db:migrate`
// (db/migrate.ts), which records them exactly as `prisma migrate deploy` would.
import { defineConfig } from 'prisma/config';

const url = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  ...(url ? { datasource: { url } } : {}),
});
