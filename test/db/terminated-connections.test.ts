// The database ending connections under load (pg_terminate_backend, as the simulation's
// `terminate_db` fault does; a restart or a failover alike) fails the queries that used them and
// nothing else: the process lives on and the pool answers afterwards. Before db/client.ts gave every
// pg client an 'error' listener, a client handed from a finished query to a waiting transaction in
// the same socket read had none, and the FATAL that followed killed the process (the simulation's
// worker died so on day 1.1). The probe runs in a process of its own: see its header.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';

const REPO_ROOT = resolve(__dirname, '..', '..');
const PROBE_SECONDS = 8; // without the listener the probe died within 8 s in 5 of 5 runs

jest.setTimeout(120_000);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

function runProbe(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'terminated-connections-probe.ts'), db.url, String(PROBE_SECONDS)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

it('connections terminated mid-traffic fail their own queries only: the process survives and the pool answers afterwards', async () => {
  const { code, stdout, stderr } = await runProbe();
  // stderr rides along so that a failure shows how the probe died
  expect({ code, stderr: stderr.slice(-2000) }).toMatchObject({ code: 0 });
  const result = JSON.parse(stdout.trim()) as { answered: number; failed: number; afterwards: number };
  expect(result.failed).toBeGreaterThan(0); // the terminations did hit queries in flight
  expect(result.answered).toBeGreaterThan(0);
  expect(result.afterwards).toBe(42);
});
