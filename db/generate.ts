// npm run db:generate — `prisma generate`, offline.
//
// Prisma 7's CLI wants to download its schema-engine binary before any command, even `generate`,
// which never runs it. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the
// download; we use the node executable unless the variable is already set.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');
export const GENERATED_CLIENT = resolve(REPO_ROOT, 'generated', 'prisma', 'client.ts');

export function generatePrismaClient(): void {
  const env = { ...process.env };
  if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
  const cli = require.resolve('prisma/build/index.js', { paths: [REPO_ROOT] });
  const result = spawnSync(process.execPath, [cli, 'generate'], { cwd: REPO_ROOT, env, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`prisma generate failed (exit ${result.status ?? result.signal})`);
}

export function ensurePrismaClient(): void {
  if (!existsSync(GENERATED_CLIENT)) generatePrismaClient();
}

if (require.main === module) {
  try {
    generatePrismaClient();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
