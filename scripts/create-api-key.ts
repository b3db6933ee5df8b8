// npm run api-key -- --role admin --name "Ops"          (a new user with an admin key)
// npm run api-key -- --user 42 [--role support] [--label laptop]
//
// Bootstraps API access: the first admin key cannot come from POST /admin/users/:id/api-keys (later
// keys can). Works while `npm start` runs: the engine holds the embedded PostgreSQL's data directory,
// so the key goes into the database the running engine wrote to <DATA_DIR>/running.json.
// Which database: DATABASE_URL; else the running engine's; else the embedded PostgreSQL in
// <DATA_DIR>/postgres, started (and migrated, as npm start would) for this one write.
// Prints the clear key ONCE (JSON on stdout); the database keeps only its sha256.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, generateApiKey } from '../api/auth';
import type { Role } from '../api/auth';
import { createPrisma } from '../db/client';
import { migrate } from '../db/migrate';
import { startPostgres } from '../db/postgres';
import { readRunningEngine, runningFile } from '../observability/temporal-address';
import { dataDirFromEnv } from './runtime/env';

interface KeyDatabase {
  url: string;
  description: string;
  stop(): Promise<void>;
}

/** Whether the process that wrote running.json is still there (a crashed engine leaves the file). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function keyDatabase(env: NodeJS.ProcessEnv): Promise<KeyDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, description: 'DATABASE_URL', stop: async () => undefined };
  const file = runningFile(env);
  const running = readRunningEngine(file);
  if (running?.databaseUrl && alive(running.pid)) {
    return { url: running.databaseUrl, description: `the running engine's database (${file})`, stop: async () => undefined };
  }
  const pg = await startPostgres({ dataDir: join(dataDirFromEnv(env), 'postgres') });
  try {
    await migrate(pg.url);
  } catch (error) {
    await pg.stop();
    throw error;
  }
  return { url: pg.url, description: `embedded PostgreSQL in ${pg.dataDir}`, stop: () => pg.stop() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { user: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: 'user' }, label: { type: 'string', default: '' } },
  });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  if ((values.user === undefined) === (values.name === undefined)) throw new Error('give --user <id> (existing user) or --name <name> (new user)');

  const database = await keyDatabase(process.env);
  const prisma = createPrisma(database.url, { poolSize: 1, applicationName: 'create-api-key' });
  try {
    const userId =
      values.user !== undefined
        ? (await prisma.user.findUniqueOrThrow({ where: { id: Number(values.user) } })).id
        : (await prisma.user.create({ data: { name: values.name! } })).id;
    const { key, keyHash, keyPrefix } = generateApiKey();
    await prisma.apiKey.create({ data: { userId, keyHash, keyPrefix, role, label: values.label } });
    console.error(`API key created in ${database.description}; it is shown once:`);
    console.log(JSON.stringify({ userId, role, key }));
  } finally {
    await prisma.$disconnect();
    await database.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
