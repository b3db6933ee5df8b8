/**
 * PostgreSQL's own figure for the engine's debit shape, on the bench's database: pgbench (PostgreSQL
 * 15's, from Debian's postgresql-contrib / postgresql-15 packages) runs the balance UPDATE (its CHECK)
 * and the ledger INSERT in one transaction, fsync on, from `clients` connections, all on one account
 * (the hot-account case the demo user is). Absent pgbench: the reason, no figure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLedger, topUpKey } from '../../activities/ledger';
import type { PrismaClient } from '../../generated/prisma/client';

const CANDIDATES = ['/usr/lib/postgresql/15/bin/pgbench', '/usr/bin/pgbench'];

export type PgbenchResult = { tps: number; line: string } | { skipped: string };

export function findPgbench(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

export async function runPgbench(input: {
  prisma: PrismaClient;
  databaseUrl: string;
  clients: number;
  seconds: number;
  amount: string;
}): Promise<PgbenchResult> {
  const pgbench = findPgbench();
  if (!pgbench) return { skipped: `pgbench not found (${CANDIDATES.join(', ')}; apt-get install postgresql-contrib)` };
  const user = await input.prisma.user.create({ data: { name: 'bench pgbench' } });
  const reference = `bench-pgbench-${user.id}`;
  await createLedger(input.prisma).credit({ userId: user.id, amount: '100000000', kind: 'topup', reference, idempotencyKey: topUpKey(reference) });
  const dir = await mkdtemp(join(tmpdir(), 'bench-pgbench-'));
  try {
    const script = join(dir, 'debit.sql');
    await writeFile(
      script,
      [
        'BEGIN;',
        `UPDATE users SET balance = balance - ${input.amount} WHERE id = ${user.id} RETURNING balance AS bal \\gset`,
        `INSERT INTO ledger_entries (user_id, amount, kind, idempotency_key, reason, balance_after) VALUES (${user.id}, -${input.amount}, 'correction', gen_random_uuid()::text, 'pgbench', :bal);`,
        'END;',
        '',
      ].join('\n'),
    );
    const threads = Math.min(2, input.clients);
    const run = spawnSync(
      pgbench,
      ['-n', '-M', 'prepared', '-c', String(input.clients), '-j', String(threads), '-T', String(input.seconds), '-f', script, input.databaseUrl],
      { encoding: 'utf8', timeout: (input.seconds + 30) * 1000 },
    );
    const tps = run.stdout?.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1];
    if (run.status !== 0 || !tps) return { skipped: `pgbench failed (exit ${run.status}): ${(run.stderr || run.stdout || '').trim().split('\n').slice(-2).join(' ')}` };
    return { tps: Number(tps), line: `pgbench ${input.clients} clients, ${input.seconds} s, one account: ${Number(tps).toFixed(0)} debits/s` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
