// How the entry points end (scripts/runtime/entry.ts, signals.ts), on a stand-in entry point run
// as a real process: a signal stops the parts last-first and exits 0, the same signal delivered
// twice is one, a second Ctrl-C later exits at once, a part that fails stops everything with exit 1.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');

// Node with tsx's loader, so the signals reach the entry point itself. Through tsx's CLI they would
// pass its relay, which gives the child 30 ms to acknowledge a signal, twice, and otherwise SIGKILLs
// it and exits 130: on a loaded CI machine that, not the entry point, decided the exit code.
function run(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'entry-point.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const ready = async () => {
    while (!output.includes('[fixture] ready')) await new Promise((r) => setTimeout(r, 50));
  };
  return { child, exited, ready, output: () => output };
}

it('SIGINT stops the parts last-first and exits 0; the same signal twice is one', async () => {
  const p = run({ FIXTURE_STOP_MS: '300' });
  await p.ready();
  p.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 100));
  p.child.kill('SIGINT');
  expect(await p.exited).toBe(0);
  expect(p.output()).toContain(
    '[fixture] SIGINT: stopping\n[fixture] stopped second\n[fixture] stopped first\n[fixture] stopped cleanly\n',
  );
});

it('a second signal well after the first exits at once with 130', async () => {
  const p = run({ FIXTURE_STOP_MS: '10000' });
  await p.ready();
  p.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2_500));
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(130);
  expect(p.output()).toContain('[fixture] SIGTERM again: exiting without waiting');
});

it('a part that fails on its own stops everything and exits 1', async () => {
  const p = run({ FIXTURE_FAIL_AFTER_MS: '200' });
  expect(await p.exited).toBe(1);
  expect(p.output()).toContain('[fixture] failed: the part broke: stopping\n[fixture] stopped second\n[fixture] stopped first\n[fixture] stopped\n');
});
