// Issue 11, item 9 ("a worker process has failed to exit gracefully"): what a test file over the
// whole engine starts, its teardown stops entirely. The fixture (fixtures/engine-lifecycle.ts) starts
// the test engine and the REST API in a process of its own, settles an order through the real
// provider sync, stops everything and never calls process.exit: a database pool, a server, a socket
// or a timer left open keeps it alive, and this test names what was left; a Temporal Worker or
// NativeConnection left open (native, it does not keep a process alive) shows as the SDK's runtime
// still running. (Why jest.config.js still gives its workers time to exit: see the comment there.)
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');

jest.setTimeout(300_000);

/** Whether `work` ends within `ms` (the timer is cleared either way: this test leaves nothing open either). */
async function within(ms: number, work: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((done) => (timer = setTimeout(() => done(false), ms)));
  try {
    return await Promise.race([work().then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

it('a process that starts and stops the test engine and the API exits by itself: nothing is left open', async () => {
  // node with tsx as a loader (no tsx CLI in between); the database comes from jest's globalSetup (env).
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'engine-lifecycle.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, TEMPORAL_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));

  // Starting takes a while on a loaded machine; exiting once stopped must not wait for anything.
  const stopped = await within(240_000, async () => {
    while (!/\[lifecycle\] (stopped|failed)/.test(output) && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  });
  // A leak keeps the process alive for ever: 30 s (far beyond any teardown) says it is one.
  const exitedInTime = await within(30_000, () => exited);
  if (!exitedInTime) child.kill('SIGKILL');
  const code = exitedInTime ? await exited : 'still alive';

  // The fixture's own lines name what was left open (and what was still open 10 s later).
  expect(stopped).toBe(true);
  expect(output).toMatch(/\[lifecycle\] order \d+ completed/);
  expect(output).toContain('[lifecycle] GET /metrics 200');
  expect(output).toContain('[lifecycle] stopped; left open: []');
  expect(output).toContain('[lifecycle] Temporal runtime shut down');
  expect(output).not.toContain('still running');
  expect(code).toBe(0);
});
