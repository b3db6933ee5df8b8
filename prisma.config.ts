// Prisma 7 configuration. The datasource URL lives here (not in schema.prisma).
// `prisma generate` needs no database; DATABASE_URL is only read by migrate/introspection
// commands, which we run offline through db/migrate.ts instead (see scripts/migrate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
