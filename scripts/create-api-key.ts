// npx tsx scripts/create-api-key.ts --role admin --name "Ops"        (a new user with an admin key)
// npx tsx scripts/create-api-key.ts --user 42 [--role user] [--label reseller-x]
//
// Bootstraps API access: the first admin key cannot come from POST /admin/users/:id/api-keys.
// Uses DATABASE_URL, or the embedded PostgreSQL in .data/postgres (like npm run db:migrate).
// Prints the clear key ONCE; the database keeps only its sha256.
import { parseArgs } from 'node:util';
import { ROLES, generateApiKey } from '../api/auth';
import type { Role } from '../api/auth';
import { createPrisma } from '../db/client';
import { startPostgres } from '../db/postgres';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { user: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: 'user' }, label: { type: 'string', default: '' } },
  });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  if ((values.user === undefined) === (values.name === undefined)) throw new Error('give --user <id> (existing user) or --name <name> (new user)');

  const pg = await startPostgres();
  const prisma = createPrisma(pg.url, { poolSize: 1, applicationName: 'create-api-key' });
  try {
    const userId =
      values.user !== undefined
        ? (await prisma.user.findUniqueOrThrow({ where: { id: Number(values.user) } })).id
        : (await prisma.user.create({ data: { name: values.name! } })).id;
    const { key, keyHash, keyPrefix } = generateApiKey();
    await prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role, label: values.label } });
    console.log(JSON.stringify({ userId, role, key }));
  } finally {
    await prisma.$disconnect();
    await pg.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
