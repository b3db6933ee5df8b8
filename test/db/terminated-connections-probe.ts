// Run by terminated-connections.test.ts as a process of its own, since an 'error' event nobody hears
// ends the process it is thrown in, which inside jest's worker would look like any failed test:
//   node --import tsx test/db/terminated-connections-probe.ts <database url> <seconds>
// 16 lanes of queries and transactions go through createPrisma while a second connection terminates
// the probe's backends (pg_terminate_backend) every few milliseconds, as the simulation's
// `terminate_db` fault does. Then the terminations stop and one more query must answer. Prints one
// JSON line {answered, failed, afterwards} and exits 0, or dies of the uncaught error.
import { Client } from 'pg';
import { createPrisma } from '../../db/client';

const APPLICATION = `terminated-connections-probe-${process.pid}`;
const LANES = 16;

async function main(): Promise<void> {
  const [url, seconds] = process.argv.slice(2);
  const prisma = createPrisma(url, { applicationName: APPLICATION });
  const admin = new Client({ connectionString: url });
  await admin.connect();
  const counts = { answered: 0, failed: 0 };
  let stop = false;
  // A plain query returns its client to the pool from inside pg's read of the socket; a transaction
  // waiting for a client then takes it in that same read: the two together make the race.
  const lane = async (i: number) => {
    while (!stop) {
      try {
        if (i % 4 === 0) await prisma.$queryRaw`SELECT pg_sleep(0.001)`;
        else await prisma.$transaction(async (tx) => void (await tx.$queryRaw`SELECT 1`));
        counts.answered++;
      } catch {
        counts.failed++; // its connection was terminated under it; a caller would retry
      }
    }
  };
  const lanes = Array.from({ length: LANES }, (_, i) => lane(i));
  const until = Date.now() + Number(seconds) * 1000;
  while (Date.now() < until) {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [APPLICATION]);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
  }
  stop = true;
  await Promise.all(lanes);
  const rows = await prisma.$queryRaw<Array<{ answer: number }>>`SELECT 42 AS answer`;
  process.stdout.write(`${JSON.stringify({ ...counts, afterwards: rows[0].answer })}\n`);
  await admin.end();
  await prisma.$disconnect();
}

main().catch((error) => {
  process.stderr.write(`probe failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
